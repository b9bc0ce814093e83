# -*- coding: utf-8 -*-
"""Unit tests of monitoring.stack.grafana_dashboard, dashboard_queries, grafana_datasources and
grafana_dashboard_providers, and of the dashboard library in roles/grafana/files/dashboards."""

from __future__ import annotations

import copy
import glob
import os
import re
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.dashboards import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_panels import GRID_COLUMNS
from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import iter_panels

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
sys.path.insert(0, os.path.join(ROOT, "tests", "dashboards"))
from check_dashboards import lint_dashboard  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order
LIBRARY = sorted(glob.glob(os.path.join(ROOT, "roles", "grafana", "files", "dashboards", "*.yml")))
FILTERS = FilterModule().filters()
grafana_dashboard = FILTERS["grafana_dashboard"]
dashboard_queries = FILTERS["dashboard_queries"]
grafana_datasources = FILTERS["grafana_datasources"]
grafana_dashboard_providers = FILTERS["grafana_dashboard_providers"]

UIDS = {"prometheus": "prometheus", "loki": "loki"}

MINIMAL = {
    "title": "Minimal",
    "uid": "minimal",
    "variables": [{"name": "instance", "query": "label_values(up, instance)"}],
    "rows": [
        {"title": "First", "panels": [
            {"title": "Up", "type": "stat", "targets": [{"expr": 'up{instance=~"$instance"}'}]},
            {"title": "Load", "targets": [{"expr": "node_load1", "legend": "{{instance}}"}], "unit": "short"},
        ]},
    ],
}


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _overlaps(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def _bad(spec, *fragments):
    with pytest.raises(AnsibleFilterError) as info:
        grafana_dashboard(spec)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- the library --------------------------------------------------------

def test_library_is_complete():
    names = {os.path.basename(p)[:-4] for p in LIBRARY}
    assert {"infrastructure", "containers", "postgresql", "http", "backups", "alerts", "logs"} <= names


@pytest.mark.parametrize("path", LIBRARY, ids=[os.path.basename(p) for p in LIBRARY])
def test_library_dashboard_is_valid(path):
    dashboard = grafana_dashboard(_load(path), UIDS)
    assert dashboard["schemaVersion"] >= 39
    assert re.match(r"^[A-Za-z0-9_-]{1,40}$", dashboard["uid"])
    assert lint_dashboard(dashboard) == []
    panels = list(iter_panels(dashboard))
    assert panels
    for panel in panels:
        assert panel["datasource"]["uid"] in ("${DS_PROMETHEUS}", "${DS_LOKI}")
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert target["datasource"] == panel["datasource"]
            assert target["refId"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    top = dashboard["panels"]
    for index, first in enumerate(top):
        assert 0 <= first["gridPos"]["x"] and first["gridPos"]["x"] + first["gridPos"]["w"] <= GRID_COLUMNS
        for second in top[index + 1:]:
            assert not _overlaps(first["gridPos"], second["gridPos"]), (first["title"], second["title"])


def test_library_uids_are_unique():
    uids = [grafana_dashboard(_load(p))["uid"] for p in LIBRARY]
    assert len(uids) == len(set(uids)), uids


def test_library_uses_the_agreed_metric_names():
    text = {}
    for path in LIBRARY:
        with open(path, encoding="utf-8") as handle:
            text[os.path.basename(path)[:-4]] = handle.read()
    for metric in ("pg_stat_database_xact_commit", "pg_locks_count", "pg_settings_max_connections", "pg_stat_activity_count",
                   "pg_database_size_bytes", "pg_replication_lag_seconds", "pg_long_running_queries_count",
                   "pg_long_running_queries_max_duration_seconds", "pg_slow_queries", "pg_stat_database_deadlocks"):
        assert metric in text["postgresql"], metric
    for metric in ("nginx_http_requests_total", "nginx_http_request_duration_seconds_bucket", "nginx_connections_active"):
        assert metric in text["http"], metric
    for metric in ("backup_last_success_timestamp_seconds", "backup_duration_seconds", "backup_size_bytes",
                   "backup_last_status", "backup_restore_test_status"):
        assert metric in text["backups"], metric
    for metric in ("ALERTS{", "ALERTS_FOR_STATE", "alertmanager_"):
        assert metric in text["alerts"], metric
    assert "container_cpu_usage_seconds_total" in text["containers"]
    assert "node_cpu_seconds_total" in text["infrastructure"]


def test_logs_dashboard_uses_loki_and_logs_panels():
    dashboard = grafana_dashboard(_load(os.path.join(ROOT, "roles", "grafana", "files", "dashboards", "logs.yml")), UIDS)
    types = {p["type"] for p in iter_panels(dashboard)}
    assert "logs" in types
    assert all(p["datasource"]["type"] == "loki" for p in iter_panels(dashboard))
    logql = dashboard_queries(dashboard, datasource_type="loki")
    assert logql and all('job=~".+"' in q and 'host=~".+"' in q for q in logql)
    assert dashboard_queries(dashboard) == []


def test_loki_query_variables_are_structured():
    """Grafana 12's Loki datasource reads a variable query object only through type/label/stream (issue #13)."""
    dashboard = grafana_dashboard({"title": "L", "datasource": "loki", "variables": [
        {"name": "job", "query": "label_values(job)"},
        {"name": "host", "query": 'label_values({job=~"$job"}, host)'},
        {"name": "label", "query": "label_names()"}],
        "panels": [{"title": "P", "type": "logs", "targets": ['{job=~"$job", host=~"$host"}']}]}, UIDS)
    queries = {v["name"]: v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"}
    ref = "LokiVariableQueryEditor-VariableQuery"
    assert queries == {"job": {"type": 1, "label": "job", "stream": "", "refId": ref},
                       "host": {"type": 1, "label": "host", "stream": '{job=~"$job"}', "refId": ref},
                       "label": {"type": 0, "refId": ref}}
    definitions = {v["name"]: v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"}
    assert definitions["host"] == 'label_values({job=~"$job"}, host)'


def test_loki_query_variable_grafana_cannot_parse_is_refused():
    _bad({"title": "L", "datasource": "loki", "variables": [{"name": "job", "query": "count_over_time({a=\"b\"}[5m])"}],
          "panels": [{"title": "P", "type": "logs", "targets": ['{job=~"$job"}']}]},
         "variable 'job'", "label_values")


def test_prometheus_query_variables_keep_the_query_object():
    dashboard = grafana_dashboard({"title": "P", "variables": [{"name": "job", "query": "label_values(up, job)"}],
                                   "panels": [{"title": "P", "targets": ['up{job=~"$job"}']}]}, UIDS)
    var = [v for v in dashboard["templating"]["list"] if v["name"] == "job"][0]
    assert var["query"] == {"query": "label_values(up, job)", "refId": "PrometheusVariableQueryEditor-VariableQuery"}


def test_docs_example_renders():
    """The user dashboard example in docs/grafana.md renders and passes the lint."""
    with open(os.path.join(ROOT, "docs", "grafana.md"), encoding="utf-8") as handle:
        text = handle.read()
    block = re.search(r"<!-- example-spec -->\s*```yaml\n(.*?)```", text, re.S)
    assert block, "docs/grafana.md lost its <!-- example-spec --> block"
    loader = type("UnsafeLoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!unsafe", lambda load, node: load.construct_scalar(node))  # Ansible's tag: a plain string here
    entries = yaml.load(block.group(1), Loader=loader)["grafana_dashboards"]  # noqa: S506 - a SafeLoader subclass
    for entry in entries:
        dashboard = grafana_dashboard(entry["spec"], UIDS)
        assert lint_dashboard(dashboard) == []
        assert any("dps_contracts_active_total" in q for q in dashboard_queries(dashboard))


# --- rendering -----------------------------------------------------------

def test_minimal_rendering():
    dashboard = grafana_dashboard(MINIMAL, UIDS)
    assert dashboard["uid"] == "minimal"
    assert dashboard["schemaVersion"] == 39
    assert dashboard["id"] is None
    row, stat, load = dashboard["panels"]
    assert row["type"] == "row" and row["gridPos"] == {"h": 1, "w": 24, "x": 0, "y": 0}
    assert stat["gridPos"] == {"h": 4, "w": 4, "x": 0, "y": 1}
    assert load["gridPos"] == {"h": 8, "w": 12, "x": 4, "y": 1}
    assert load["targets"][0]["legendFormat"] == "{{instance}}"
    assert load["fieldConfig"]["defaults"]["unit"] == "short"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["current"]["value"] == "prometheus"
    assert variables["instance"]["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    assert variables["instance"]["includeAll"] and variables["instance"]["allValue"] == ".*"


def test_fixed_datasource_uids():
    dashboard = grafana_dashboard(MINIMAL, {"prometheus": "prom-main"}, datasource_variables=False)
    assert all(p["datasource"] == {"type": "prometheus", "uid": "prom-main"} for p in iter_panels(dashboard))
    assert "DS_PROMETHEUS" not in [v["name"] for v in dashboard["templating"]["list"]]
    with pytest.raises(AnsibleFilterError, match="no uid for datasource type 'prometheus'"):
        grafana_dashboard(MINIMAL, {}, datasource_variables=False)


def test_explicit_datasource_mapping():
    spec = copy.deepcopy(MINIMAL)
    spec["rows"][0]["panels"][0]["datasource"] = {"type": "prometheus", "uid": "other"}
    dashboard = grafana_dashboard(spec, UIDS)
    assert dashboard["panels"][1]["datasource"] == {"type": "prometheus", "uid": "other"}


def test_layout_wraps_and_never_overlaps():
    panels = [{"title": "p%d" % i, "width": w, "height": h, "targets": ["up"]}
              for i, (w, h) in enumerate([(8, 4), (8, 6), (10, 3), (24, 2), (5, 5), (20, 5), (1, 1)])]
    dashboard = grafana_dashboard({"title": "Layout", "panels": panels})
    positions = [p["gridPos"] for p in dashboard["panels"]]
    assert positions[0] == {"h": 4, "w": 8, "x": 0, "y": 0}
    assert positions[1] == {"h": 6, "w": 8, "x": 8, "y": 0}
    assert positions[2] == {"h": 3, "w": 10, "x": 0, "y": 6}
    assert positions[3] == {"h": 2, "w": 24, "x": 0, "y": 9}
    for index, first in enumerate(positions):
        assert first["x"] + first["w"] <= 24
        for second in positions[index + 1:]:
            assert not _overlaps(first, second)


def test_rows_start_on_new_lines_and_ids_are_unique():
    spec = {"title": "Rows", "rows": [
        {"title": "A", "panels": [{"title": "a", "width": 4, "targets": ["up"]}]},
        {"title": "B", "collapsed": True, "panels": [{"title": "b", "targets": ["up"]}, {"title": "c", "targets": ["up"]}]},
        {"panels": [{"title": "d", "targets": ["up"]}]},
    ]}
    dashboard = grafana_dashboard(spec)
    row_b = dashboard["panels"][2]
    assert row_b["type"] == "row" and row_b["collapsed"] is True
    assert [p["title"] for p in row_b["panels"]] == ["b", "c"]
    ids = [p["id"] for p in dashboard["panels"]] + [p["id"] for p in row_b["panels"]]
    assert len(ids) == len(set(ids))
    assert row_b["gridPos"]["y"] == 9
    assert lint_dashboard(dashboard) == []


def test_uid_derived_from_title():
    assert grafana_dashboard({"title": "My Business: KPIs!", "panels": [{"title": "x", "targets": ["up"]}]})["uid"] == \
        "my-business-kpis"


def test_thresholds_and_panel_types():
    spec = {"title": "Types", "panels": [
        {"title": "t", "type": "timeseries", "stack": "percent", "targets": ["up"],
         "thresholds": [{"color": "blue"}, {"value": 5, "color": "red"}]},
        {"title": "g", "type": "gauge", "min": 0, "max": 100, "targets": ["up"]},
        {"title": "b", "type": "bargauge", "targets": ["up"]},
        {"title": "tab", "type": "table", "targets": ["up", "up == 0"]},
        {"title": "l", "type": "logs", "targets": ['{job="x"}']},
    ]}
    panels = {p["title"]: p for p in grafana_dashboard(spec)["panels"]}
    steps = panels["t"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"color": "blue", "value": None}, {"color": "red", "value": 5}]
    assert panels["t"]["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "percent"
    assert panels["g"]["fieldConfig"]["defaults"]["max"] == 100
    assert panels["tab"]["targets"][0]["instant"] is True and panels["tab"]["targets"][0]["format"] == "table"
    assert panels["tab"]["targets"][1]["refId"] == "B"
    assert panels["tab"]["transformations"] == [{"id": "merge", "options": {}}]
    assert panels["l"]["datasource"]["type"] == "loki"
    assert "queryType" in panels["l"]["targets"][0]


def test_variable_types():
    spec = {"title": "Vars", "variables": [
        {"name": "quantile", "type": "custom", "query": "0.5,0.95,0.99", "current": "0.95"},
        {"name": "step", "type": "interval", "query": "1m,5m,1h"},
        {"name": "ds", "type": "datasource", "query": "prometheus"},
        {"name": "search", "type": "textbox", "query": ""},
    ], "panels": [{"title": "q", "targets": [
        "histogram_quantile($quantile, sum by (le) (rate(x_bucket[$step])))",
        "rate(y[${step}]) and on () vector($__range_s) > 0",
    ]}]}
    dashboard = grafana_dashboard(spec)
    assert dashboard_queries(dashboard) == [
        "histogram_quantile(0.95, sum by (le) (rate(x_bucket[1m])))",
        "rate(y[1m]) and on () vector(3600) > 0",
    ]


def test_queries_substitute_variables_and_builtins():
    dashboard = grafana_dashboard(MINIMAL)
    assert dashboard_queries(dashboard)[0] == 'up{instance=~".*"}'
    detailed = dashboard_queries(dashboard, detailed=True)
    assert detailed[0]["panel"] == "Up" and detailed[0]["raw_expr"] == 'up{instance=~"$instance"}'
    spec = {"title": "B", "panels": [{"title": "r", "targets": [
        'sum(rate(x{a=~"${a:regex}", b=~"[[a]]"}[$__rate_interval]))',
        'label_replace(up, "c", "${1}xx", "code", "([0-9]).*")',
    ]}], "variables": [{"name": "a", "query": "label_values(x, a)"}]}
    assert dashboard_queries(grafana_dashboard(spec)) == [
        'sum(rate(x{a=~".*", b=~".*"}[5m]))',
        'label_replace(up, "c", "${1}xx", "code", "([0-9]).*")',
    ]


def test_lint_finds_equality_match_on_multi_value_variable():
    spec = {"title": "Lint", "variables": [{"name": "job", "query": "label_values(up, job)"}],
            "panels": [{"title": "x", "targets": ['up{job="$job"}', "up{instance=~\"$undefined\"}"]}]}
    problems = lint_dashboard(grafana_dashboard(spec))
    assert any("'=' or '!=' instead of '=~'" in p for p in problems)
    assert any("undefined variable $undefined" in p for p in problems)


def test_lint_finds_overlap_and_duplicate_ids():
    dashboard = grafana_dashboard(MINIMAL)
    dashboard["panels"][2]["gridPos"] = dict(dashboard["panels"][1]["gridPos"])
    dashboard["panels"][2]["id"] = dashboard["panels"][1]["id"]
    problems = lint_dashboard(dashboard)
    assert any("overlap" in p for p in problems)
    assert any("not unique" in p for p in problems)


# --- bad specs name dashboard, panel and field ---------------------------

def test_bad_spec_not_a_mapping():
    _bad(["x"], "must be a mapping")


def test_bad_spec_missing_title():
    _bad({"panels": []}, "field 'title'", "is required")


def test_bad_spec_unknown_key():
    _bad({"title": "D", "pannels": [], "panels": [{"title": "x", "targets": ["up"]}]}, "dashboard 'D'", "pannels")


def test_bad_panel_type():
    _bad({"title": "D", "panels": [{"title": "P", "type": "graph", "targets": ["up"]}]},
         "dashboard 'D', panel 'P', field 'type'", "graph")


def test_bad_panel_width():
    _bad({"title": "D", "panels": [{"title": "P", "width": 30, "targets": ["up"]}]}, "panel 'P', field 'width'")


def test_bad_panel_without_targets():
    _bad({"title": "D", "panels": [{"title": "P"}]}, "panel 'P', field 'targets'", "non-empty list")


def test_bad_target_without_expr():
    _bad({"title": "D", "panels": [{"title": "P", "targets": [{"legend": "x"}]}]}, "panel 'P', field 'targets'", "expr")


def test_bad_target_key():
    _bad({"title": "D", "panels": [{"title": "P", "targets": [{"expr": "up", "legendd": "x"}]}]}, "legendd")


def test_bad_thresholds():
    _bad({"title": "D", "panels": [{"title": "P", "targets": ["up"], "thresholds": [{"value": 5, "color": "red"},
                                                                                    {"value": 1, "color": "blue"}]}]},
         "field 'thresholds'", "increase")
    _bad({"title": "D", "panels": [{"title": "P", "targets": ["up"], "thresholds": [{"value": "high", "color": "red"}]}]},
         "field 'thresholds'", "number")


def test_bad_unit_and_min_max():
    _bad({"title": "D", "panels": [{"title": "P", "targets": ["up"], "unit": 5}]}, "field 'unit'")
    _bad({"title": "D", "panels": [{"title": "P", "targets": ["up"], "min": 5, "max": 1}]}, "field 'min'")


def test_bad_uid_and_refresh():
    _bad({"title": "D", "uid": "has space", "panels": [{"title": "P", "targets": ["up"]}]}, "field 'uid'")
    _bad({"title": "D", "uid": "x" * 41, "panels": [{"title": "P", "targets": ["up"]}]}, "field 'uid'")
    _bad({"title": "D", "refresh": "often", "panels": [{"title": "P", "targets": ["up"]}]}, "field 'refresh'")


def test_bad_duplicate_titles_and_variables():
    _bad({"title": "D", "panels": [{"title": "P", "targets": ["up"]}, {"title": "P", "targets": ["up"]}]},
         "panel 'P'", "duplicate panel title")
    _bad({"title": "D", "variables": [{"name": "a", "query": "x"}, {"name": "a", "query": "y"}],
          "panels": [{"title": "P", "targets": ["up"]}]}, "field 'variables'", "duplicate")


def test_bad_variable():
    _bad({"title": "D", "variables": [{"name": "1bad", "query": "x"}], "panels": [{"title": "P", "targets": ["up"]}]},
         "field 'variables'")
    _bad({"title": "D", "variables": [{"name": "v", "type": "adhoc"}], "panels": [{"title": "P", "targets": ["up"]}]},
         "variable 'v' type")
    _bad({"title": "D", "variables": [{"name": "v", "type": "interval", "query": "1m,often"}],
          "panels": [{"title": "P", "targets": ["up"]}]}, "not a Prometheus duration")
    _bad({"title": "D", "variables": [{"name": "v", "type": "interval", "query": "1m,30m1h"}],
          "panels": [{"title": "P", "targets": ["up"]}]}, "'30m1h' is not a Prometheus duration")


def test_interval_variable_takes_prometheus_durations():
    dashboard = grafana_dashboard({"title": "D", "variables": [{"name": "v", "type": "interval", "query": "1h30m,1d"}],
                                   "panels": [{"title": "P", "targets": ["rate(x[$v])"]}]})
    assert dashboard_queries(dashboard) == ["rate(x[1h30m])"]


def test_bad_datasource():
    _bad({"title": "D", "panels": [{"title": "P", "datasource": "influx", "targets": ["up"]}]},
         "panel 'P', field 'datasource'")
    _bad({"title": "D", "panels": [{"title": "P", "type": "logs", "datasource": "prometheus", "targets": ["up"]}]},
         "panel 'P', field 'datasource'", "loki")


def test_bad_rows():
    _bad({"title": "D", "rows": [{"title": "R"}]}, "field 'rows'", "panels")
    _bad({"title": "D", "rows": [], "panels": []}, "either 'rows' or 'panels'")
    _bad({"title": "D"}, "non-empty 'rows' or 'panels'")


def test_queries_refuse_a_spec():
    with pytest.raises(AnsibleFilterError, match="rendered dashboard"):
        dashboard_queries({"title": "not rendered"})


# --- datasources and providers ------------------------------------------

SOURCES = [
    {"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "group": "prometheus", "port": 9090, "is_default": True,
     "json_data": {"httpMethod": "POST"}},
    {"name": "Loki", "type": "loki", "uid": "loki", "group": "loki", "port": 3100},
]


def test_datasources_from_existing_groups():
    result = grafana_datasources(SOURCES, {"prometheus": ["prom1", "prom2"], "loki": []},
                                 {"prom1": {"ansible_host": "10.0.0.5"}})
    assert result == [{"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy",
                       "url": "http://10.0.0.5:9090", "isDefault": True, "editable": False,
                       "jsonData": {"httpMethod": "POST"}}]
    assert grafana_datasources(SOURCES, {"loki": ["logs.example.org"]})[0]["url"] == "http://logs.example.org:3100"
    assert grafana_datasources(SOURCES, {}) == []


def test_datasources_bad_source():
    with pytest.raises(AnsibleFilterError, match="unknown key"):
        grafana_datasources([{"name": "x", "type": "prometheus", "uid": "x", "group": "g", "prot": 1}], {})
    with pytest.raises(AnsibleFilterError, match="'uid'"):
        grafana_datasources([{"name": "x", "type": "prometheus", "group": "g"}], {})


def test_dashboard_providers():
    providers = grafana_dashboard_providers([{"uid": "a", "title": "A"}, {"uid": "b", "title": "B"}], "/d/", True)
    assert [p["options"]["path"] for p in providers] == ["/d/a", "/d/b"]
    assert providers[0]["folderUid"] == "a" and providers[0]["allowUiUpdates"] is True
    with pytest.raises(AnsibleFilterError, match="used twice"):
        grafana_dashboard_providers([{"uid": "a", "title": "A"}, {"uid": "a", "title": "B"}], "/d")
    with pytest.raises(AnsibleFilterError, match="non-empty list"):
        grafana_dashboard_providers([], "/d")


def test_plugin_documentation_is_valid_yaml():
    with open(os.path.join(ROOT, "plugins", "filter", "grafana_dashboard.yml"), encoding="utf-8") as handle:
        sidecar = yaml.safe_load(handle)
    doc = sidecar["DOCUMENTATION"]
    assert doc["name"] == "grafana_dashboard"
    assert set(doc["options"]) == {"_input", "datasource_uids", "datasource_variables"}
    assert yaml.safe_load(sidecar["EXAMPLES"])
    assert "_value" in sidecar["RETURN"]
