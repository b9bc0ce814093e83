#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Check the Grafana dashboard library of monitoring.stack.

Default mode: render every spec of roles/grafana/files/dashboards (and any --spec files)
with the grafana_dashboard filter's code, check the structure (schemaVersion, unique ids
and uids, gridPos inside the 24-column grid without overlap, every panel has a datasource
and targets, variables defined, multi-value variables matched with =~), extract every PromQL
expression with template variables substituted, and validate all of them with
``promtool check rules`` (each expression becomes a recording rule in a temporary file).
Prints ``N passed, M failed`` and exits non-zero on any failure. promtool is taken from
$PROMTOOL, default <repo>/.cache/tools/bin/promtool; a missing promtool is a failure.

Live mode (``--prometheus-url URL``): run every expression as an instant query against a
running Prometheus (/api/v1/query) and report the ones that fail or return no data.
Importable: ``render_library()``, ``lint_dashboard()``, ``check_structure()``, ``check_with_promtool()``,
``query_prometheus()``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, ".cache", "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_panels import GRID_COLUMNS  # noqa: E402
from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_variables import (  # noqa: E402
    BUILTIN_VARIABLES,
    VARIABLE_REF_RE,
)
from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import (  # noqa: E402
    SCHEMA_VERSION,
    UID_RE,
    build_dashboard,
    dashboard_queries,
    iter_panels,
)
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError  # noqa: E402

# What Grafana 12's Loki datasource parses as a variable query (public/app/plugins/datasource/loki,
# metricFindQuery): a string matching labelNamesRegex or labelValuesRegex, or an object whose type is
# LokiVariableQueryType.LabelNames (0) or .LabelValues (1, with a label). Anything else gives no values.
LOKI_STRING_QUERIES = (re.compile(r"^label_names\(\)\s*$"),
                       re.compile(r"^label_values\((?:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*$"))
LIBRARY_DIR = os.path.join(REPO, "roles", "grafana", "files", "dashboards")
DATASOURCE_UIDS = {"prometheus": "prometheus", "loki": "loki"}


def promtool_path():
    """promtool from $PROMTOOL, default <repo>/.cache/tools/bin/promtool."""
    return os.environ.get("PROMTOOL", os.path.join(REPO, ".cache", "tools", "bin", "promtool"))


def spec_files(extra=None):
    """The library specs plus any extra spec files, sorted, library first."""
    return sorted(glob.glob(os.path.join(LIBRARY_DIR, "*.yml"))) + list(extra or [])


def render_library(extra=None):
    """Render every spec: returns (dashboards, errors) with dashboards as [(path, dashboard)]."""
    dashboards, errors = [], []
    for path in spec_files(extra):
        try:
            with open(path, encoding="utf-8") as handle:
                spec = yaml.safe_load(handle)
            dashboards.append((path, build_dashboard(spec, DATASOURCE_UIDS)))
        except (OSError, yaml.YAMLError, SpecError) as exc:
            errors.append("%s: %s" % (os.path.relpath(path, REPO), exc))
    return dashboards, errors


def _overlaps(first, second):
    return (first["x"] < second["x"] + second["w"] and second["x"] < first["x"] + first["w"]
            and first["y"] < second["y"] + second["h"] and second["y"] < first["y"] + first["h"])


def loki_variable_problems(dashboard):
    """Query variables on a Loki datasource whose query Grafana's Loki datasource cannot parse (list of strings)."""
    problems = []
    title = dashboard.get("title")
    for var in dashboard.get("templating", {}).get("list", []):
        ds_ref = var.get("datasource")
        if var.get("type") != "query" or not isinstance(ds_ref, dict) or ds_ref.get("type") != "loki":
            continue
        query = var.get("query")
        if isinstance(query, str):
            parsed = any(regex.match(query) for regex in LOKI_STRING_QUERIES)
        elif isinstance(query, dict):
            kind = query.get("type")
            parsed = (kind == 0 and not isinstance(kind, bool)) or (
                kind == 1 and not isinstance(kind, bool) and isinstance(query.get("label"), str) and query["label"] != ""
                and isinstance(query.get("stream", ""), str))
        else:
            parsed = False
        if not parsed:
            problems.append("%s: Loki variable %r has a query Grafana's Loki datasource does not parse "
                            "(a label_names()/label_values() string or {type: 0|1, label, stream}): %r"
                            % (title, var.get("name"), query))
    return problems


def lint_dashboard(dashboard):
    """Structural problems of a rendered dashboard, as a list of strings (empty when fine)."""
    problems = []
    title = dashboard.get("title")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < SCHEMA_VERSION:
        problems.append("%s: schemaVersion must be >= %d" % (title, SCHEMA_VERSION))
    if not UID_RE.match(str(dashboard.get("uid", ""))):
        problems.append("%s: bad uid %r" % (title, dashboard.get("uid")))
    top = dashboard.get("panels", [])
    ids = []
    placed = []
    for panel in top:
        ids.append(panel.get("id"))
        placed.append(panel)
        if panel.get("type") == "row":
            ids.extend(p.get("id") for p in panel.get("panels", []))
    if len(ids) != len(set(ids)) or None in ids:
        problems.append("%s: panel ids are not unique: %r" % (title, ids))
    for index, panel in enumerate(placed):
        pos = panel.get("gridPos") or {}
        if set(pos) != {"x", "y", "w", "h"}:
            problems.append("%s: panel %r has no complete gridPos" % (title, panel.get("title")))
            continue
        if pos["x"] < 0 or pos["w"] < 1 or pos["x"] + pos["w"] > GRID_COLUMNS:
            problems.append("%s: panel %r is outside the %d-column grid" % (title, panel.get("title"), GRID_COLUMNS))
        for other in placed[index + 1:]:
            if set(other.get("gridPos") or {}) == {"x", "y", "w", "h"} and _overlaps(pos, other["gridPos"]):
                problems.append("%s: panels %r and %r overlap" % (title, panel.get("title"), other.get("title")))
    problems.extend(loki_variable_problems(dashboard))
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    for panel in iter_panels(dashboard):
        ptitle = panel.get("title")
        ds_ref = panel.get("datasource")
        if not isinstance(ds_ref, dict) or not ds_ref.get("type") or not ds_ref.get("uid"):
            problems.append("%s: panel %r has no datasource" % (title, ptitle))
        elif ds_ref["uid"].startswith("${"):
            var_name = ds_ref["uid"][2:-1]
            if var_name not in variables:
                problems.append("%s: panel %r uses undefined datasource variable %s" % (title, ptitle, var_name))
        if not panel.get("targets"):
            problems.append("%s: panel %r has no targets" % (title, ptitle))
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            for match in VARIABLE_REF_RE.finditer(expr):
                name = match.group("braced") or match.group("bracket") or match.group("plain")
                if name not in variables and name not in BUILTIN_VARIABLES:
                    problems.append("%s: panel %r uses undefined variable $%s" % (title, ptitle, name))
                    continue
                var = variables.get(name)
                if var and (var.get("multi") or var.get("includeAll")):
                    before = expr[:match.start()].rstrip()
                    if before.endswith('"'):
                        before = before[:-1].rstrip()
                    if before.endswith("=") and not before.endswith("=~") and not before.endswith("!~"):
                        problems.append("%s: panel %r matches multi-value variable $%s with '=' or '!=' instead of '=~'"
                                        % (title, ptitle, name))
    return problems


def check_structure(dashboards):
    """Structural problems across all rendered dashboards (list of strings)."""
    problems = []
    uids = {}
    for path, dashboard in dashboards:
        problems.extend(lint_dashboard(dashboard))
        # The JSON model must survive a JSON round trip unchanged.
        if json.loads(json.dumps(dashboard)) != dashboard:
            problems.append("%s: does not round-trip through JSON" % dashboard["title"])
        if dashboard["uid"] in uids:
            problems.append("uid %r is used by %s and %s" % (dashboard["uid"], uids[dashboard["uid"]], path))
        uids[dashboard["uid"]] = path
    return problems


def collect_queries(dashboards):
    """Every PromQL query (detailed dicts) of the rendered dashboards, variables substituted."""
    queries = []
    for _path, dashboard in dashboards:
        queries.extend(dashboard_queries(dashboard, detailed=True))
    return queries


def _label(query):
    return "%s / %s / %s" % (query["dashboard"], query["panel"], query["ref_id"])


def check_with_promtool(queries, promtool=None):
    """Validate each query with ``promtool check rules``; returns (passed, failures).

    All queries go into one rule file first; when promtool refuses it, each query is checked
    on its own so that every broken expression is named.
    """
    promtool = promtool or promtool_path()
    if not (os.path.isfile(promtool) and os.access(promtool, os.X_OK)):
        raise FileNotFoundError("promtool not found at %s (set PROMTOOL or run tests/harness/build-mirror.sh)" % promtool)

    def run(batch):
        rules = {"groups": [{"name": "dashboards", "rules": [
            {"record": "dashboard:query_%d:check" % index, "expr": query["expr"]} for index, query in enumerate(batch)]}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
            yaml.safe_dump(rules, handle, sort_keys=False)
            name = handle.name
        try:
            result = subprocess.run([promtool, "check", "rules", name], capture_output=True, text=True, check=False)
        finally:
            os.unlink(name)
        return result.returncode, (result.stdout + result.stderr).strip()

    if not queries:
        return 0, []
    code, _output = run(queries)
    if code == 0:
        return len(queries), []
    passed, failures = 0, []
    for query in queries:
        code, output = run([query])
        if code == 0:
            passed += 1
        else:
            failures.append("%s: %s\n    expr: %s" % (_label(query), output.splitlines()[-1] if output else "failed", query["expr"]))
    return passed, failures


def query_prometheus(queries, url, timeout=10.0):
    """Run each query against a live Prometheus; returns (with_data, empty, errors) lists of labels."""
    with_data, empty, errors = [], [], []
    endpoint = url.rstrip("/") + "/api/v1/query"
    for query in queries:
        data = urllib.parse.urlencode({"query": query["expr"]}).encode()
        request = urllib.request.Request(endpoint, data=data, headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310 - URL given by the operator
                body = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            errors.append("%s: %s" % (_label(query), exc))
            continue
        if body.get("status") != "success":
            errors.append("%s: %s" % (_label(query), body.get("error", body)))
        elif body.get("data", {}).get("result"):
            with_data.append(_label(query))
        else:
            empty.append(_label(query))
    return with_data, empty, errors


def main(argv=None):
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--spec", action="append", default=[], help="an extra dashboard spec file (repeatable)")
    parser.add_argument("--prometheus-url", help="run every query against this Prometheus and report those without data")
    parser.add_argument("--fail-on-empty", action="store_true", help="with --prometheus-url: queries without data fail")
    parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout per query (seconds)")
    args = parser.parse_args(argv)

    # Structure: one check per spec file (render + lint), plus the cross-dashboard uid check.
    dashboards, failures = render_library(args.spec)
    structure = check_structure(dashboards)
    failures.extend(structure)
    broken = {problem.split(":", 1)[0] for problem in structure}
    passed = sum(1 for _path, dashboard in dashboards if dashboard["title"] not in broken)
    queries = collect_queries(dashboards)
    print("rendered %d dashboards, %d panels, %d PromQL expressions" % (
        len(dashboards), sum(len(list(iter_panels(d))) for _p, d in dashboards), len(queries)))

    if args.prometheus_url:
        with_data, empty, errors = query_prometheus(queries, args.prometheus_url, args.timeout)
        for label in empty:
            print("NO DATA  %s" % label)
        for label in errors:
            print("ERROR    %s" % label)
        failures.extend(errors)
        passed += len(with_data)
        if args.fail_on_empty:
            failures.extend("no data: %s" % label for label in empty)
        else:
            passed += len(empty)
        print("%d queries with data, %d without data, %d errors (%s)"
              % (len(with_data), len(empty), len(errors), args.prometheus_url))
    else:
        try:
            promtool_passed, promtool_failures = check_with_promtool(queries)
        except FileNotFoundError as exc:
            promtool_passed, promtool_failures = 0, ["%s (%d expressions not checked)" % (exc, len(queries))]
        passed += promtool_passed
        failures.extend(promtool_failures)
        print("promtool: %s" % promtool_path())
    for problem in failures:
        print("FAIL     %s" % problem)
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
