#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Derive loki_3_7_keys.yml from Loki's generated configuration reference.

Usage (needs a clone of https://github.com/grafana/loki; nothing from it is copied here
except key names)::

    git -C loki show v3.7.1:docs/sources/shared/configuration.md > /tmp/configuration.md
    python derive_loki_keys.py /tmp/configuration.md v3.7.1 > loki_3_7_keys.yml

The reference is generated from Loki's Go config structs (``make doc``), so its key
names are the YAML keys Loki accepts.  Output layout:

``root``    the keys of the top-level ``loki.yaml`` block
``blocks``  one entry per ``### <block>`` section

A key maps to ``null`` (a leaf value), to a nested mapping, or to ``{"$ref": block}``
/ ``{"$list": block}`` for a (list of) named block(s).
"""
from __future__ import annotations

import re
import sys

import yaml

SECTION = re.compile(r"^### (.+?)\s*$")
LEAF = re.compile(r"^\[(?P<key>[A-Za-z0-9_]+): <(?P<type>[^>]+)>")
INLINE = re.compile(r"^\[<(?P<block>[A-Za-z0-9_]+)>\]")
MAP = re.compile(r"^(?P<key>[A-Za-z0-9_]+):\s*$")


def parse_block(lines, names):
    """Parse one YAML reference block into a nested key tree."""
    root = {}
    stack = [(-1, root)]
    for raw in lines:
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        while stack and indent <= stack[-1][0]:
            stack.pop()
        node = stack[-1][1]
        m = INLINE.match(stripped)
        if m:
            node.setdefault("$inline", []).append(m.group("block"))
            continue
        m = LEAF.match(stripped)
        if m:
            key, typ = m.group("key"), m.group("type")
            ref = None
            if typ in names:
                ref = {"$ref": typ}
            elif typ.startswith("list of "):
                inner = typ[len("list of "):]
                for cand in (inner, inner[:-1]):
                    if cand in names:
                        ref = {"$list": cand}
                        break
            node[key] = ref
            continue
        m = MAP.match(stripped)
        if m:
            child = {}
            node[m.group("key")] = child
            stack.append((indent, child))
    return root


class _IndentedDumper(yaml.SafeDumper):
    """Indent block sequences (yamllint's default 'consistent' indentation)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def main():
    """Print the derived key list as YAML."""
    path, version = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as handle:
        text = handle.read().splitlines()
    sections = {}
    current = None
    in_code = False
    for line in text:
        m = SECTION.match(line)
        if m and not in_code:
            current = m.group(1).strip("`")
            sections.setdefault(current, [])
            continue
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code and current:
            sections[current].append(line)
    root_name = "Supported"
    root_lines = [v for k, v in sections.items() if k.startswith(root_name)][0]
    names = {k for k in sections if re.match(r"^[a-z0-9_]+$", k)}
    blocks = {k: parse_block(v, names) for k, v in sorted(sections.items()) if k in names and v}
    out = {"root": parse_block(root_lines, names), "blocks": blocks}
    sys.stdout.write(
        "---\n"
        "# Valid Loki configuration keys derived from the upstream reference\n"
        "# grafana/loki %s:docs/sources/shared/configuration.md\n"
        "# (generated from pkg/loki/config.go and the structs it embeds) by\n"
        "# tests/unit/plugins/filter/data/derive_loki_keys.py.  Only key names are kept.\n"
        "# A key maps to null (leaf), a mapping, {$ref: block} or {$list: block};\n"
        "# $inline lists blocks whose keys are merged into the enclosing mapping.\n" % version
    )
    yaml.dump(out, sys.stdout, Dumper=_IndentedDumper, default_flow_style=False, sort_keys=True, width=120)


if __name__ == "__main__":
    main()
