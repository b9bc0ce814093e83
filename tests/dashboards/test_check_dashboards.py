# -*- coding: utf-8 -*-
"""pytest entry for tests/dashboards/check_dashboards.py.

test_library_promql_passes_promtool runs the real promtool (Prometheus 3.5, $PROMTOOL or
<repo>/.cache/tools/bin/promtool) and FAILS when it is missing. test_query_prometheus_client
checks only the HTTP client of the live mode against a local stub that answers like
/api/v1/query; the live run against a real Prometheus is `check_dashboards.py --prometheus-url`.
"""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check_dashboards  # noqa: E402  pylint: disable=wrong-import-position


def test_promtool_is_available():
    path = check_dashboards.promtool_path()
    assert os.path.isfile(path) and os.access(path, os.X_OK), (
        "promtool missing at %s: run tests/harness/build-mirror.sh or set PROMTOOL" % path)


def test_library_renders_and_is_well_formed():
    dashboards, errors = check_dashboards.render_library()
    assert errors == []
    assert len(dashboards) >= 7
    assert check_dashboards.check_structure(dashboards) == []


def test_every_loki_variable_query_is_parsed_by_grafana():
    """Grafana 12's Loki datasource reads a variable query object only through type/label/stream: an object such as
    {"query": "label_values(job)"} leaves the drop-down empty (issue #13)."""
    dashboards, _errors = check_dashboards.render_library()
    loki_vars = [(d["title"], v) for _p, d in dashboards for v in d["templating"]["list"]
                 if v["type"] == "query" and v["datasource"]["type"] == "loki"]
    assert loki_vars, "the library has no Loki query variable left to check"
    for _path, dashboard in dashboards:
        assert check_dashboards.loki_variable_problems(dashboard) == []
    by_name = {v["name"]: v["query"] for title, v in loki_vars if title == "Logs"}
    assert by_name["job"] == {"type": 1, "label": "job", "stream": "", "refId": "LokiVariableQueryEditor-VariableQuery"}
    assert by_name["host"] == {"type": 1, "label": "host", "stream": '{job=~"$job"}',
                               "refId": "LokiVariableQueryEditor-VariableQuery"}


@pytest.mark.parametrize("query, parsed", [
    ("label_values(job)", True),
    ('label_values({job=~"$job"}, host)', True),
    ("label_names()", True),
    ({"type": 1, "label": "job", "stream": ""}, True),
    ({"type": 0}, True),
    ({"query": "label_values(job)", "refId": "LokiVariableQueryEditor-VariableQuery"}, False),
    ({"type": 1, "label": ""}, False),
    ({"type": True, "label": "job"}, False),
    ("count_over_time({job=\"x\"}[5m])", False),
])
def test_loki_variable_check_follows_grafana(query, parsed):
    dashboard = {"title": "T", "templating": {"list": [
        {"name": "v", "type": "query", "datasource": {"type": "loki", "uid": "loki"}, "query": query}]}}
    assert (check_dashboards.loki_variable_problems(dashboard) == []) is parsed


def test_library_promql_passes_promtool():
    dashboards, _errors = check_dashboards.render_library()
    queries = check_dashboards.collect_queries(dashboards)
    assert len(queries) > 100
    passed, failures = check_dashboards.check_with_promtool(queries)
    assert failures == []
    assert passed == len(queries)


def test_promtool_catches_bad_expressions():
    queries = [{"dashboard": "t", "panel": "ok", "ref_id": "A", "expr": "sum(rate(up[5m]))"},
               {"dashboard": "t", "panel": "bad", "ref_id": "A", "expr": "sum(rate(up[5m])"}]
    passed, failures = check_dashboards.check_with_promtool(queries)
    assert passed == 1
    assert len(failures) == 1 and "t / bad / A" in failures[0]


def test_missing_promtool_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        check_dashboards.check_with_promtool([{"expr": "up"}], promtool=str(tmp_path / "promtool"))


def test_main_exit_codes(tmp_path, capsys):
    assert check_dashboards.main([]) == 0
    assert capsys.readouterr().out.strip().endswith(" 0 failed")
    bad = tmp_path / "bad.yml"
    bad.write_text("title: Bad\nuid: bad\npanels:\n  - title: x\n    targets: ['rated(up[5m])']\n", encoding="utf-8")
    assert check_dashboards.main(["--spec", str(bad)]) == 1
    assert "unknown function" in capsys.readouterr().out


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # pylint: disable=invalid-name
        body = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        query = body["query"][0]
        if query == "bad(":
            payload = {"status": "error", "errorType": "bad_data", "error": "parse error"}
        elif query == "up":
            payload = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}}
        else:
            payload = {"status": "success", "data": {"resultType": "vector", "result": []}}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def test_query_prometheus_client():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d/" % server.server_address[1]
        queries = [{"dashboard": "d", "panel": p, "ref_id": "A", "expr": e}
                   for p, e in (("data", "up"), ("empty", "absent_metric"), ("error", "bad("))]
        with_data, empty, errors = check_dashboards.query_prometheus(queries, url)
    finally:
        server.shutdown()
    assert with_data == ["d / data / A"]
    assert empty == ["d / empty / A"]
    assert len(errors) == 1 and errors[0].startswith("d / error / A")
