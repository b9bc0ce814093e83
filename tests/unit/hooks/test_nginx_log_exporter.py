# -*- coding: utf-8 -*-
# Copyright: (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# pylint: disable=missing-function-docstring  # test names say what they check
"""Unit tests for roles/nginx_exporter/files/nginx-log-exporter.

The exporter is a script without a .py suffix; role_script.load imports it from its path.
Parsing, endpoint normalisation (rules, id collapsing, max_endpoints), the text
exposition, the config check, and tailing across rotation are checked; one test runs
the real HTTP server on a free loopback port.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
import role_script

SCRIPT = role_script.path("nginx_exporter", "nginx-log-exporter")
RULES = [{"regex": "^/api/", "endpoint": "api"}, {"regex": "^/web(/|$)", "endpoint": "ui"},
         {"regex": "^/health", "endpoint": "health"}]


NLE = role_script.load("nginx_exporter", "nginx-log-exporter", "nginx_log_exporter")


def cfg(**overrides):
    return NLE.load_config(dict({"rules": RULES}, **overrides))


def line(path="/api/users/1", method="GET", status="200", request_time="0.042", upstream="0.040"):
    return json.dumps({"time": "2026-01-01T00:00:00+00:00", "method": method, "path": path, "status": status,
                       "request_time": request_time, "upstream_response_time": upstream, "host": "example"})


def samples(text, name):
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^%s\{([^}]*)\} (\S+)$" % re.escape(name), text, re.M)}


# ---- parsing -----------------------------------------------------------------------------

def test_parse_line_fields():
    assert NLE.parse_line(line()) == ("GET", "/api/users/1", "200", 0.042, 0.040)


def test_parse_line_upstream_dash_and_multiple_upstreams():
    assert NLE.parse_line(line(upstream="-"))[4] is None
    assert NLE.parse_line(line(upstream=""))[4] is None
    assert NLE.parse_line(line(upstream="0.010, 0.020 : 0.005"))[4] == pytest.approx(0.035)


def test_parse_line_bounds_method_and_status():
    assert NLE.parse_line(line(method="get"))[0] == "GET"
    assert NLE.parse_line(line(method="FOOBAR"))[0] == "OTHER"
    assert NLE.parse_line(line(status="2000"))[2] == "invalid"
    assert NLE.parse_line(line(status="abc"))[2] == "invalid"


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"method": "GET"}', line(request_time="x"),
                                  line(request_time="-1")])
def test_parse_line_rejects(text):
    assert NLE.parse_line(text) is None


def test_parse_line_falls_back_to_uri_key():
    entry = json.loads(line())
    entry["uri"] = entry.pop("path")
    assert NLE.parse_line(json.dumps(entry))[1] == "/api/users/1"


# ---- normalisation -----------------------------------------------------------------------

@pytest.mark.parametrize("path,endpoint", [
    ("/api/users/42", "api"),
    ("/api/", "api"),
    ("/web", "ui"),
    ("/web/dashboard?x=1", "ui"),
    ("/website", "/website"),          # ^/web(/|$) does not match
    ("/health/ready", "health"),
    ("/orders/123/items", "/orders/:id"),
    ("/orders/550e8400-e29b-41d4-a716-446655440000", "/orders/:id"),
    ("/files/deadbeefdeadbeefdeadbeef", "/files/:id"),
    ("/a/b/c/d", "/a/b"),              # path_depth 2
    ("/", "/"),
    ("", "/"),
])
def test_normalise_endpoint(path, endpoint):
    assert NLE.normalise_endpoint(path, cfg()) == endpoint


def test_first_matching_rule_wins():
    conf = cfg(rules=[{"regex": "^/api/admin", "endpoint": "admin"}, {"regex": "^/api/", "endpoint": "api"}])
    assert NLE.normalise_endpoint("/api/admin/x", conf) == "admin"
    assert NLE.normalise_endpoint("/api/x", conf) == "api"


def test_without_collapse_unmatched_paths_go_to_default():
    conf = cfg(collapse_ids=False, default_endpoint="other")
    assert NLE.normalise_endpoint("/orders/1", conf) == "other"
    assert NLE.normalise_endpoint("/api/x", conf) == "api"


def test_unsafe_path_characters_fall_back_to_default():
    assert NLE.normalise_endpoint('/we"ird path', cfg()) == "other"


def test_max_endpoints_bounds_cardinality():
    metrics = NLE.Metrics(cfg(max_endpoints=3, rules=[]))
    for index in range(10):
        metrics.observe_line(line(path="/p%d" % index))
    assert metrics.endpoints == {"/p0", "/p1", "/p2"}
    text = metrics.exposition()
    assert samples(text, "nginx_http_requests_total")['endpoint="other",method="GET",status="200"'] == 7
    assert "nginx_log_exporter_endpoint_overflow_total 7" in text


# ---- exposition --------------------------------------------------------------------------

def test_exposition_counters_and_histogram():
    metrics = NLE.Metrics(cfg(buckets=[0.1, 1.0]))
    metrics.observe_line(line(path="/api/a", status="200", request_time="0.05"))
    metrics.observe_line(line(path="/api/b", status="200", request_time="0.5"))
    metrics.observe_line(line(path="/api/c", status="500", request_time="2"))
    metrics.observe_line(line(path="/web/x", method="POST", status="302", request_time="0.01", upstream="-"))
    metrics.observe_line("garbage")
    text = metrics.exposition()
    requests = samples(text, "nginx_http_requests_total")
    assert requests == {'endpoint="api",method="GET",status="200"': 2, 'endpoint="api",method="GET",status="500"': 1,
                        'endpoint="ui",method="POST",status="302"': 1}
    buckets = samples(text, "nginx_http_request_duration_seconds_bucket")
    assert buckets['endpoint="api",method="GET",le="0.1"'] == 1
    assert buckets['endpoint="api",method="GET",le="1.0"'] == 2
    assert buckets['endpoint="api",method="GET",le="+Inf"'] == 3
    assert samples(text, "nginx_http_request_duration_seconds_count")['endpoint="api",method="GET"'] == 3
    assert samples(text, "nginx_http_request_duration_seconds_sum")['endpoint="api",method="GET"'] == pytest.approx(2.55)
    # Upstream histogram only for lines with an upstream time.
    upstream = samples(text, "nginx_http_upstream_duration_seconds_count")
    assert upstream == {'endpoint="api"': 3}
    lines = samples(text, "nginx_log_exporter_lines_total")
    assert lines == {'result="invalid"': 1, 'result="parsed"': 4}
    assert "# TYPE nginx_http_requests_total counter" in text
    assert "# TYPE nginx_http_request_duration_seconds histogram" in text
    assert text.endswith("\n")


def test_exposition_is_parseable_by_promtool_when_available(tmp_path):
    promtool = os.path.join(role_script.ROOT, ".cache", "tools", "bin", "promtool")
    if not os.access(promtool, os.X_OK):
        pytest.skip("promtool not built (make mirror)")
    metrics = NLE.Metrics(cfg())
    metrics.observe_line(line())
    res = subprocess.run([promtool, "check", "metrics"], input=metrics.exposition(), capture_output=True, text=True, check=False)
    # promtool lints names/help; exit 0 (clean) or 3 (lint warnings only) both mean it parsed.
    assert res.returncode in (0, 3), res.stdout + res.stderr
    assert "error while linting" not in res.stdout + res.stderr


# ---- configuration -----------------------------------------------------------------------

@pytest.mark.parametrize("data,message", [
    ({"rules": [{"regex": "(", "endpoint": "x"}]}, "invalid regex"),
    ({"rules": [{"regex": "^/", "endpoint": "has space"}]}, "endpoint"),
    ({"rules": [{"regex": "^/"}]}, "exactly {regex, endpoint}"),
    ({"buckets": [1, 0.5]}, "strictly increasing"),
    ({"buckets": []}, "strictly increasing"),
    ({"max_endpoints": 0}, "max_endpoints"),
    ({"listen": "9114"}, "listen"),
    ({"log_file": "relative.log"}, "absolute"),
    ({"typo": 1}, "unknown config key"),
])
def test_config_errors(data, message):
    with pytest.raises(NLE.ConfigError, match=re.escape(message)):
        NLE.load_config(data)


def test_check_config_cli(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"rules": RULES}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": [{"regex": "(", "endpoint": "x"}]}))
    ok = subprocess.run([sys.executable, SCRIPT, "--config", str(good), "--check-config"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "3 rules" in ok.stdout
    ko = subprocess.run([sys.executable, SCRIPT, "--config", str(bad), "--check-config"], capture_output=True, text=True, check=False)
    assert ko.returncode == 2 and "invalid regex" in ko.stderr


# ---- tailing -----------------------------------------------------------------------------

def test_tailer_starts_at_end_then_follows_rotation_and_truncation(tmp_path):
    log = tmp_path / "access.json.log"
    log.write_text(line(path="/old") + "\n")
    metrics = NLE.Metrics(cfg())
    tailer = NLE.Tailer(str(log), metrics)
    assert tailer.poll() == 0                       # history is not replayed
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(line() + "\n" + line()[:20])   # one full line, one partial
    assert tailer.poll() == 1
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(line()[20:] + "\n")
    assert tailer.poll() == 1                       # the partial line is completed, not lost
    os.rename(log, str(log) + ".1")                 # logrotate: rename + create
    log.write_text(line(path="/web/") + "\n")
    assert tailer.poll() == 1
    log.write_text("")                              # copytruncate
    assert tailer.poll() == 0
    log.write_text(line() + "\n")
    assert tailer.poll() == 1
    assert metrics.reopens == 2
    assert metrics.lines == {"parsed": 4, "invalid": 0}


def test_tailer_waits_for_missing_file(tmp_path):
    log = tmp_path / "later.log"
    metrics = NLE.Metrics(cfg())
    tailer = NLE.Tailer(str(log), metrics)
    assert tailer.poll() == 0
    log.write_text(line() + "\n")
    assert tailer.poll() == 1                       # a file that appears later is read from its start


# ---- HTTP --------------------------------------------------------------------------------

def test_http_server_serves_metrics():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    metrics = NLE.Metrics(cfg())
    metrics.observe_line(line())
    server = NLE.ThreadingHTTPServer(("127.0.0.1", port), NLE.make_handler(metrics))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 5
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as resp:
                    body = resp.read().decode()
                    ctype = resp.headers["Content-Type"]
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        assert 'nginx_http_requests_total{endpoint="api",method="GET",status="200"} 1' in body
        assert ctype.startswith("text/plain; version=0.0.4")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen("http://127.0.0.1:%d/nope" % port, timeout=2)  # pylint: disable=consider-using-with
    finally:
        server.shutdown()
        server.server_close()


def _hashed(password, salt="s4lt"):
    import hashlib  # pylint: disable=import-outside-toplevel
    return "%s$%s" % (salt, hashlib.sha256((salt + password).encode()).hexdigest())


def test_basic_auth_users_are_checked_against_salted_hashes():
    import base64  # pylint: disable=import-outside-toplevel
    users = {"prometheus": _hashed("scrape-pw")}
    header = "Basic " + base64.b64encode(b"prometheus:scrape-pw").decode()
    assert NLE.authorized(header, users)
    assert not NLE.authorized("Basic " + base64.b64encode(b"prometheus:wrong").decode(), users)
    assert not NLE.authorized("Basic " + base64.b64encode(b"nobody:scrape-pw").decode(), users)
    assert not NLE.authorized(None, users) and not NLE.authorized("Bearer x", users)
    assert NLE.authorized(None, {})


@pytest.mark.parametrize("change", [
    {"tls": {"cert_file": "/a"}},
    {"tls": {"cert_file": "/a", "key_file": "/b", "ca": "/c"}},
    {"basic_auth_users": {"prometheus": "plain-password"}},
])
def test_bad_tls_or_users_are_refused(change):
    with pytest.raises(NLE.ConfigError):
        NLE.load_config(dict({"rules": RULES}, **change))
