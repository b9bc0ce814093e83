#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<ns>/<name>
# (and ignores trees under hidden directories): copy the tracked and new files to
# a scratch tree and run it there with an empty ignore file. It runs --local in a
# dedicated virtualenv (ansible-test's own pinned sanity requirements must not mix
# with ansible-lint's), because --venv would fetch a pip bootstrap from the internet.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SVENV=$REPO/.cache/sanity-venv
WORK=$(mktemp -d "${TMPDIR:-/tmp}/monitoring-stack-sanity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEST=$WORK/ansible_collections/monitoring/stack
mkdir -p "$DEST"
cd "$REPO"
[ -s tests/sanity/ignore-2.19.txt ] && { echo "tests/sanity/ignore-2.19.txt must stay empty" >&2; exit 1; }
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$DEST"
if [ ! -x "$SVENV/bin/ansible-test" ]; then
  python3 -m venv "$SVENV"
  "$SVENV/bin/pip" install -q "$(grep '^ansible-core==' requirements.txt)"
fi
# ansible-test bootstraps pip into each sanity virtualenv with a get-pip script it
# downloads from a host outside the package registries. Give it a local stand-in
# that uses the interpreter's own ensurepip, then pip (from PyPI) for the pins.
PIP_VERSION=$("$SVENV/bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages as g
from ansible_test._internal.host_configs import NativePythonConfig as N
print(g(N(version="3.11", path="'"$SVENV"'/bin/python"))["pip"])' 2>/dev/null || echo 24.2)
SHIM=$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py
mkdir -p "$(dirname "$SHIM")"
cat >"$SHIM" <<'PY'
"""Local stand-in for get-pip.py, written by monitoring.stack's tests/harness/sanity.sh."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + ARGS))
PY
cd "$DEST"
# shellcheck disable=SC2086
"$SVENV/bin/ansible-test" sanity --local --python 3.11 --requirements --color no ${SANITY_ARGS:-}
