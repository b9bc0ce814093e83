#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<ns>/<name>:
# copy the tracked and new files there and run it with an empty ignore file.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$REPO/.cache/sanity/ansible_collections/monitoring/stack
rm -rf "$DEST" && mkdir -p "$DEST"
cd "$REPO"
git ls-files -z --cached --others --exclude-standard | grep -zv '^\.ci/' | xargs -0 cp --parents -t "$DEST"
cd "$DEST"
[ -s tests/sanity/ignore-2.19.txt ] && { echo "tests/sanity/ignore-2.19.txt must stay empty" >&2; exit 1; }
exec "$REPO/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no ${SANITY_ARGS:-}
