#!/usr/bin/env python
"""Generate (or --check) the variables table of each role's README from meta/argument_specs.yml.

The table sits between <!-- BEGIN VARIABLES --> and <!-- END VARIABLES -->; text
outside the markers is the role author's.
"""

import argparse
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- BEGIN VARIABLES -->", "<!-- END VARIABLES -->"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _rows(options, prefix=""):
    """One row per option, then its sub-options as `option.key` (`option[].key` inside a list of dicts)."""
    for name, opt in options.items():
        kind = opt.get("type", "")
        if kind == "list":
            kind += " of " + opt.get("elements", "any")
        default = "(required)" if opt.get("required") else "`%s`" % json.dumps(opt.get("default"))
        desc = opt.get("description", "")
        desc = " ".join(desc) if isinstance(desc, list) else desc
        if opt.get("choices"):
            desc += " One of: %s." % ", ".join("`%s`" % c for c in opt["choices"])
        yield "| `%s%s` | %s | %s | %s |" % (prefix, name, kind, _cell(default), _cell(desc))
        if opt.get("options"):
            yield from _rows(opt["options"], prefix + name + ("[]." if kind == "list of dict" else "."))


def table(role):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = spec["argument_specs"]["main"].get("options", {})
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    rows.extend(_rows(options))
    return "\n".join([BEGIN] + rows + [END])


def render(role):
    readme = role / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else "# monitoring.stack.%s\n\n## Variables\n\n%s\n%s\n" % (role.name, BEGIN, END)
    if BEGIN not in text or END not in text:
        text += "\n## Variables\n\n%s\n%s\n" % (BEGIN, END)
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return head + table(role) + tail


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a README is out of date")
    parser.add_argument("roles", nargs="*", help="role names (default: all public roles)")
    args = parser.parse_args()
    roles = [ROOT / "roles" / r for r in args.roles] or sorted(
        p for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))
    stale = []
    for role in roles:
        new = render(role)
        readme = role / "README.md"
        if args.check:
            if not readme.exists() or readme.read_text(encoding="utf-8") != new:
                stale.append(role.name)
        else:
            readme.write_text(new, encoding="utf-8")
    if stale:
        print("README out of date for: %s (run tests/harness/role_readme.py)" % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
