#!/usr/bin/env bash
# Fail when the built collection tarball carries development files.
set -euo pipefail
tarball=$1
entries=$(tar tzf "$tarball")
bad=$(printf '%s\n' "$entries" | grep -E '^(tests|molecule|\.cache|\.venv|\.ansible|\.pytest_cache|\.ci|\.config|inventories/lab|benchmarks)(/|$)|__pycache__|\.pyc$|^(Makefile|ansible\.cfg|requirements\.txt|constraints\.txt)$' || true)
if [ -n "$bad" ]; then
  echo "development files in $tarball:" >&2
  echo "$bad" | head -20 >&2
  exit 1
fi
for required in MANIFEST.json FILES.json README.md meta/runtime.yml roles/_common/tasks/install.yml plugins/filter/common.py; do
  printf '%s\n' "$entries" | grep -qx "$required" || { echo "$tarball lacks $required" >&2; exit 1; }
done
echo "clean tarball: $tarball ($(printf '%s\n' "$entries" | wc -l) entries)"
