# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Alloy configuration syntax parser (plugins/module_utils/_alloy_syntax.py)."""

from __future__ import annotations

import pytest

from ansible_collections.monitoring.stack.plugins.filter.logs import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils import _alloy_syntax as A

FILTERS = FilterModule().filters()

# Upstream documentation examples (Alloy docs: configuration syntax, loki.source.file, loki.relabel).
VALID = [
    '',
    '// only a comment\n',
    'log_level = "debug"\n',
    'logging {\n  level  = "info"\n  format = "logfmt"\n}\n',
    'local.file_match "logs" {\n  path_targets = [\n    {__path__ = "/tmp/*.log"},\n  ]\n}\n',
    'loki.source.file "tmpfiles" {\n  targets    = local.file_match.logs.targets\n  forward_to = [loki.write.local.receiver]\n}\n'
    'local.file_match "logs" { path_targets = [{__path__ = "/tmp/*.log"}] }\n'
    'loki.write "local" {\n  endpoint {\n    url = "loki:3100/api/v1/push"\n  }\n}\n',
    'loki.relabel "journal" {\n  forward_to = []\n\n  rule {\n    source_labels = ["__journal__systemd_unit"]\n'
    '    target_label  = "unit"\n  }\n}\n',
    'x = sys.env("HOME")\ny = 1 + 2 * 3 ^ 2\nz = !(true && false) || null == null\n',
    'v = [1, 2.5, 1e3, -4, "a\\n\\u00e9", `raw \\ string`]\n',
    'o = {\n  a = 1,\n  "b c" = [true, false],\n}\n',
    'i = foo.bar[0].baz\n/* block\ncomment */ j = concat(["a"], ["b"],)\n',
    'k = (\n  1 + 2\n)\n',
    'prometheus.scrape "default" {\n  targets    = [{"__address__" = "127.0.0.1:12345"}]\n  forward_to = [prometheus.remote_write.default.receiver]\n}\n'
    'prometheus.remote_write "default" {\n  endpoint {\n    url = "http://mimir:9009/api/v1/push"\n  }\n}\n',
]


@pytest.mark.parametrize("text", VALID)
def test_valid_configs_parse(text):
    tree = A.parse(text)
    assert isinstance(tree, list)
    assert A.undeclared_references(tree) == []


def test_the_tree():
    tree = A.parse('loki.process "odoo" {\n  forward_to = [loki.write.default.receiver]\n\n  stage.labels {\n'
                   '    values = {"level" = "level"}\n  }\n}\nn = -1.5\n')
    block = tree[0]
    assert (block["type"], block["name"], block["label"]) == ("block", "loki.process", "odoo")
    receiver = {"access": {"access": {"access": {"ident": "loki"}, "field": "write"}, "field": "default"}, "field": "receiver"}
    assert block["body"][0] == {"type": "attribute", "name": "forward_to", "line": 2, "value": {"list": [receiver]}}
    assert block["body"][1]["name"] == "stage.labels" and block["body"][1]["label"] is None
    assert block["body"][1]["body"][0]["value"] == {"object": {"level": "level"}}
    assert tree[1]["value"] == {"op": "-", "operand": 1.5}
    assert A.blocks(tree) == [("loki.process", "odoo"), ("loki.process.stage.labels", None)]
    assert A.references(block["body"][0]["value"]) == ["loki.write.default.receiver"]


def test_strings_are_unescaped():
    tree = A.parse('a = "x\\"y\\\\z\\t\\u00e9\\x41"\n')
    assert tree[0]["value"] == 'x"y\\z\t\u00e9A'


def test_operator_precedence():
    value = A.parse("a = 1 + 2 * 3 == 7 || false\n")[0]["value"]
    assert value["op"] == "||"
    assert value["left"]["op"] == "=="
    assert value["left"]["left"] == {"op": "+", "left": 1, "right": {"op": "*", "left": 2, "right": 3}}


INVALID = [
    # A brace inside a string does not close the block: the block stays open (brace counting was fooled by this).
    ('logging {\n  level = "}"\n', "expected '}' to close the block opened on line 1"),
    ('logging {\n  level = "info"\n}\n}\n', "expected an attribute or block name, got '}'"),
    ('logging {\n  level "info"\n}\n', "expected '=' (attribute) or '{' (block)"),
    ('logging {\n  level = \n}\n', "expected an expression, got newline"),
    ('a = "unterminated\n', "string literal not terminated"),
    ('a = 1 $ 2\n', "illegal character '$'"),
    ('a = 1 b = 2\n', "expected a newline after the statement"),
    ('a = [1, 2\n]\n', "missing ','"),
    ('a = {b = 1 c = 2}\n', "expected ',' or '}'"),
    ('a = {1 = 2}\n', "expected an object key"),
    ('loki.process "bad-label" {\n}\n', "must be a valid identifier"),
    ('a.b = 1\n', "must be a single identifier"),
    ('a = "\\q"\n', "unknown escape sequence"),
    ('a = 1 /* open\n', "comment not terminated"),
    ('a = f(1, 2\n', "missing ','"),
    ('a = foo.\n', "expected a field name"),
]


@pytest.mark.parametrize("text, message", INVALID)
def test_invalid_configs_are_refused(text, message):
    with pytest.raises(A.AlloySyntaxError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("$", r"\$")):
        A.parse(text)


def test_error_position():
    with pytest.raises(A.AlloySyntaxError) as err:
        A.parse('logging {\n  level "info"\n}\n')
    # After `level "info"` (a block name and label) the parser wanted '{' at the end of line 2.
    assert (err.value.line, err.value.column) == (2, 15)
    assert str(err.value).startswith("line 2:15: ")


def test_dangling_reference_is_found():
    text = 'loki.source.file "a" {\n  targets    = []\n  forward_to = [loki.process.b.receiver]\n}\n'
    assert A.undeclared_references(A.parse(text)) == ["loki.process.b.receiver"]


CATALOGUE = [
    {"name": "nginx_access", "type": "nginx_access"},
    {"name": "nginx_error", "type": "nginx_error"},
    {"name": "postgresql", "type": "postgresql"},
    {"name": "journal", "type": "journal", "units": ["nginx.service"]},
    {"name": "odoo", "type": "odoo"},
    {"name": "django", "type": "django"},
    {"name": "audit", "type": "audit", "paths": ["/var/log/odoo/audit.log"]},
    {"name": "backup", "type": "custom", "format": "regex", "paths": ["/var/log/backup/*.log"],
     "expression": r'^(?P<time>\S+) "(?P<result>ok|failed)" {(?P<message>.*)}', "label_fields": ["result"],
     "timestamp": {"source": "time", "format": "RFC3339"}},
]


@pytest.mark.parametrize("settings", [
    {},
    {"tenant_id": "shop", "basic_auth_username": "u", "basic_auth_password_file": "/etc/alloy/loki.password",
     "ca_file": "/etc/alloy/tls/ca.crt", "external_labels": {"site": "a"}, "legacy_positions_file": "/var/lib/alloy/p.yaml"},
])
def test_the_generated_configs_parse(settings):
    sources = FILTERS["log_sources"](CATALOGUE, None, "web1", "production", "Europe/Paris")
    text = FILTERS["alloy_config"](sources, settings)
    tree = A.parse(text)
    declared = A.blocks(tree)
    for name in [c["name"] for c in CATALOGUE]:
        assert ("loki.process", name) in declared
    assert A.undeclared_references(tree) == []
