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
# Files deleted in the working tree but still in the index are skipped.
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
  | xargs -0 cp --parents -t "$DEST"
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
rc=0
# shellcheck disable=SC2086
"$SVENV/bin/ansible-test" sanity --local --python 3.11 --requirements --color no ${SANITY_ARGS:-} || rc=$?

# ansible-doc must render every filter (each from its own sidecar <filter>.yml, the names taken from the
# FilterModule classes) and every role but _common (from its argument_specs), with no error or warning, and no
# two filters may share a short_description (the sign of a doc shared or copied between filters). Two calls.
echo "Running ansible-doc on every filter and role"
ANSIBLE_COLLECTIONS_PATH=$WORK "$SVENV/bin/python" - "$SVENV/bin/ansible-doc" "$DEST" <<'PY' || rc=1
import collections
import glob
import importlib
import json
import os
import subprocess
import sys

ANSIBLE_DOC, DEST = sys.argv[1:3]
sys.path.insert(0, os.environ["ANSIBLE_COLLECTIONS_PATH"])
problems = []
filters = {}
for path in sorted(glob.glob(os.path.join(DEST, "plugins", "filter", "*.py"))):
    module = importlib.import_module("ansible_collections.monitoring.stack.plugins.filter." + os.path.basename(path)[:-3])
    for name in module.FilterModule().filters():
        if name in filters:
            problems.append("filter %s is defined in %s and %s" % (name, filters[name], os.path.basename(path)))
        filters[name] = os.path.basename(path)
roles = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(DEST, "roles", "*", "")))
roles = [role for role in roles if role != "_common"]


def ansible_doc(kind, names):
    """The --json docs of monitoring.stack.<name> for every name; a problem for an error, a warning or a gap.

    One call for all names; when it fails, one call per name says which ones fail.
    """
    fqcns = ["monitoring.stack." + name for name in names]
    proc = subprocess.run([ANSIBLE_DOC, "-t", kind, "--json"] + fqcns, capture_output=True, text=True, check=False)
    failed = proc.returncode or "[ERROR]" in proc.stderr or "[WARNING]" in proc.stderr
    if failed and len(names) > 1:
        docs = {}
        for name in names:
            docs.update(ansible_doc(kind, [name]))
        return docs
    if failed:
        problems.append("ansible-doc -t %s %s exited %d:\n%s" % (kind, fqcns[0], proc.returncode, proc.stderr.strip()))
    try:
        docs = json.loads(proc.stdout or "{}")
    except ValueError:
        problems.append("ansible-doc -t %s printed no JSON: %s" % (kind, proc.stdout[:300]))
        docs = {}
    missing = [fqcn for fqcn in fqcns if not docs.get(fqcn)]
    if missing and not failed:
        problems.append("ansible-doc -t %s has no documentation for %s" % (kind, ", ".join(missing)))
    return docs


descriptions = collections.defaultdict(list)
for fqcn, entry in ansible_doc("filter", sorted(filters)).items():
    doc = entry.get("doc") or {}
    name = fqcn.rsplit(".", 1)[-1]
    if doc.get("name") != name or os.path.basename(doc.get("filename", "")) != name + ".yml":
        problems.append("filter %s: documented as %r in %s, not in its own sidecar %s.yml"
                        % (fqcn, doc.get("name"), os.path.basename(doc.get("filename", "?")), name))
    descriptions[doc.get("short_description")].append(fqcn)
problems += ["filters %s share the short_description %r" % (", ".join(names), text)
             for text, names in descriptions.items() if len(names) > 1]
for fqcn, entry in ansible_doc("role", roles).items():
    main = (entry.get("entry_points") or {}).get("main") or {}
    if not main.get("short_description"):
        problems.append("role %s: the main entry point has no short_description" % fqcn)
for problem in problems:
    print("ERROR: " + problem, file=sys.stderr)
print("ansible-doc: %d filters, %d roles, %d problem(s)" % (len(filters), len(roles), len(problems)))
sys.exit(1 if problems else 0)
PY
exit "$rc"
