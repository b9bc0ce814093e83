#!/usr/bin/env python
"""Render every role's handlers/main.yml from roles/_common/templates/handlers.yml.j2.

The daemons of a role are the descriptors in its vars/main.yml named ``_<role>_daemon`` or
``_<role>_<name>_daemon`` (their ``service`` and ``reloadable`` keys must be literals); handlers
the engine does not own live in the role's handlers/own.yml and are imported at the end.
``--check`` prints the roles whose file differs and exits 1 (tests/static/test_handlers.py).
"""

import pathlib
import re
import sys

import jinja2
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "roles" / "_common" / "templates" / "handlers.yml.j2"


def daemons(role_dir):
    """The role's daemon descriptors as ``[{var, service, reloadable}]``, in file order."""
    vars_file = role_dir / "vars" / "main.yml"
    data = yaml.safe_load(vars_file.read_text(encoding="utf-8")) if vars_file.exists() else {}
    pattern = re.compile(r"^_%s(_[a-z0-9_]+)?_daemon$" % re.escape(role_dir.name))
    found = []
    for var, desc in (data or {}).items():
        if pattern.match(var) and isinstance(desc, dict):
            found.append({"var": var, "service": desc["service"], "reloadable": bool(desc.get("reloadable", False))})
    return found


def render(role_dir):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(role=role_dir.name, daemons=daemons(role_dir),
                           own=(role_dir / "handlers" / "own.yml").exists())


def roles():
    return sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_") and daemons(p))


def main(argv):
    check = "--check" in argv
    drift = []
    for role_dir in roles():
        target = role_dir / "handlers" / "main.yml"
        text = render(role_dir)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        if check:
            drift.append(role_dir.name)
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print("rendered %s" % target.relative_to(ROOT))
    if drift:
        print("handlers differ from roles/_common/templates/handlers.yml.j2 (run make handlers): %s" % ", ".join(drift))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
