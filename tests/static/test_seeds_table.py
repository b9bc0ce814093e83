"""docs/seeds.md maps every requirement of the seeds (000-004) to variables and tests: each variable it names must
exist and each test it names must exist, so the table cannot promise coverage that is not there.

A variable exists when it is a key of some role's defaults/main.yml, an option of its meta/argument_specs.yml, or a
variable of inventories/example (hosts.yml and group_vars, vault-encrypted files skipped); ``a.b`` is option ``b``
of ``a``'s argument spec. A test is ``path::name``: for a Python file the file exists and defines ``def name``; for a
promtool test file (tests/rules/*_test.yml) the file exists and, with ``::Alert``, tests that alert name. A bare path
names a file that must exist.
"""

import ast
import functools
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "seeds.md"
BEGIN, END = "<!-- BEGIN SEEDS TABLE -->", "<!-- END SEEDS TABLE -->"
COLUMNS = ["id", "seed", "requirement", "variables", "tests", "status", "missing"]
STATUSES = {"live", "promtool-tested", "up to the binary", "missing"}
SEEDS = ("000", "001", "002", "003", "004")
_CODE = re.compile(r"`([^`]+)`")


def _cells(line):
    # Split on unescaped pipes; the first and last are the row's borders.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def parse_table(text):
    """The rows of the table between the markers, as dicts of COLUMNS; variables and tests as lists."""
    assert BEGIN in text and END in text, "docs/seeds.md lost its table markers"
    lines = [line for line in text.split(BEGIN, 1)[1].split(END, 1)[0].strip().splitlines() if line.strip()]
    assert _cells(lines[0]) == COLUMNS, "columns must be %s" % COLUMNS
    assert set("".join(_cells(lines[1]))) <= set("-: "), "the second line must be the header separator"
    rows = []
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) == len(COLUMNS), "row with %d cells instead of %d: %s" % (len(cells), len(COLUMNS), line)
        row = dict(zip(COLUMNS, cells))
        row["variables"] = _CODE.findall(row["variables"])
        row["tests"] = _CODE.findall(row["tests"])
        rows.append(row)
    return rows


def _load(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        return {}
    return yaml.safe_load(text) or {}


def known_variables():
    """{name: argument spec or None}: role defaults and options, and the example inventory's variables."""
    known = {}
    for role in sorted((ROOT / "roles").iterdir()):
        if (role / "defaults" / "main.yml").is_file():
            known.update(dict.fromkeys(_load(role / "defaults" / "main.yml")))
        spec_file = role / "meta" / "argument_specs.yml"
        if spec_file.is_file():
            for entry in (_load(spec_file).get("argument_specs") or {}).values():
                known.update((entry or {}).get("options") or {})
    inventory = ROOT / "inventories" / "example"
    for path in sorted(inventory.glob("group_vars/**/*.yml")) + sorted(inventory.glob("host_vars/**/*.yml")):
        data = _load(path)
        if isinstance(data, dict):
            for name in data:
                known.setdefault(name, None)
    return known


def variable_problem(name, known):
    """Why ``name`` (``var`` or ``var.option``) is not a variable, or None."""
    head, _dot, option = name.partition(".")
    if head not in known:
        return "variable %s is in no role's defaults or argument specs, nor in inventories/example" % head
    if option:
        spec = known[head] or {}
        if option not in (spec.get("options") or {}):
            return "%s has no option %s in its argument spec" % (head, option)
    return None


@functools.lru_cache(maxsize=None)
def _python_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


@functools.lru_cache(maxsize=None)
def _promtool_alerts(path):
    data = _load(path)
    names = set()
    for test in data.get("tests") or []:
        for case in test.get("alert_rule_test") or []:
            names.add(case.get("alertname"))
    return names


def test_problem(reference):
    """Why ``reference`` (``path``, ``path::function`` or ``path::Alert``) names no existing test, or None."""
    path_text, _sep, name = reference.partition("::")
    path = ROOT / path_text
    if not path.is_file():
        return "%s: no such file" % path_text
    if not name:
        return None
    if path.suffix == ".py":
        if name not in _python_functions(path):
            return "%s defines no function %s" % (path_text, name)
    elif path.parent == ROOT / "tests" / "rules" and path.name.endswith("_test.yml"):
        if name not in _promtool_alerts(path):
            return "%s has no alert_rule_test for %s" % (path_text, name)
    else:
        return "%s: only Python tests and tests/rules/*_test.yml can name a test" % path_text
    return None


test_problem.__test__ = False  # a helper, not a pytest test

ROWS = parse_table(DOC.read_text(encoding="utf-8"))
KNOWN = known_variables()


def test_the_table_covers_every_seed_with_unique_ids():
    assert len(ROWS) >= 50
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), "repeated ids"
    for seed in SEEDS:
        assert any(row["seed"].startswith(seed) for row in ROWS), "no row for seed %s" % seed
    for row in ROWS:
        assert row["id"].split("-")[0] == row["seed"][:3], row["id"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_row_is_consistent(row):
    assert row["requirement"], "%s has no requirement" % row["id"]
    assert row["status"] in STATUSES, "%s: status %r is not one of %s" % (row["id"], row["status"], sorted(STATUSES))
    if row["status"] == "missing":
        assert row["missing"], "%s is missing: say what and why" % row["id"]
    else:
        assert row["tests"], "%s claims %r but names no test" % (row["id"], row["status"])
    if row["status"] == "live":
        assert any(ref.startswith("molecule/") for ref in row["tests"]), "%s: live needs a scenario test" % row["id"]
    if row["status"] == "promtool-tested":
        assert any(ref.startswith("tests/rules/") or "test_rules.py" in ref for ref in row["tests"]), (
            "%s: promtool-tested needs a tests/rules file" % row["id"])


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_every_variable_named_exists(row):
    problems = [problem for problem in (variable_problem(name, KNOWN) for name in row["variables"]) if problem]
    assert not problems, "%s: %s" % (row["id"], "; ".join(problems))


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_every_test_named_exists(row):
    problems = [problem for problem in (test_problem(ref) for ref in row["tests"]) if problem]
    assert not problems, "%s: %s" % (row["id"], "; ".join(problems))


def test_the_checks_catch_what_they_should():
    assert variable_problem("prometheus_rule_overrides", KNOWN) is None
    assert variable_problem("alertmanager_digest.hours", KNOWN) is None
    assert variable_problem("log_sources", KNOWN) is None  # inventories/example
    assert "no role" in variable_problem("prometheus_rule_overide", KNOWN)
    assert "no option" in variable_problem("alertmanager_digest.hourz", KNOWN)
    assert test_problem("tests/rules/node_test.yml::HostDown") is None
    assert "no alert_rule_test" in test_problem("tests/rules/node_test.yml::HostUp")
    assert "no function" in test_problem("tests/static/test_seeds_table.py::test_nothing")
    assert "no such file" in test_problem("tests/rules/nothing_test.yml")
    rows = parse_table("%s\n| %s |\n| %s |\n| 000-1 | 000 | r | `a`, `b` | `x::y` | live | |\n%s"
                       % (BEGIN, " | ".join(COLUMNS), " | ".join("---" for _column in COLUMNS), END))
    assert rows[0]["variables"] == ["a", "b"] and rows[0]["tests"] == ["x::y"]


def test_readme_links_the_table():
    assert "docs/seeds.md" in (ROOT / "README.md").read_text(encoding="utf-8")
