# -*- coding: utf-8 -*-
# Copyright: (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# pylint: disable=missing-function-docstring  # test names say what they check
"""Unit tests for roles/alertmanager/files/alert-digest (the daily alert digest).

A real http.server on 127.0.0.1 stands in for Prometheus (it checks the basic-auth header and
answers query_range, query and rules); a fake SMTP client records what would be sent.
"""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import role_script

ad = role_script.load("alertmanager", "alert-digest", "alert_digest_script")

NOW = 1_700_000_000.0
STEP = 60
START = NOW - 24 * 3600


def _series(labels, stamps):
    return {"metric": dict(labels, __name__="ALERTS", alertstate="firing"), "values": [[s, "1"] for s in stamps]}


DB_DOWN = {"alertname": "PostgresqlDown", "severity": "critical", "instance": "db1:9187", "job": "postgres"}
DISK = {"alertname": "HostDiskFull", "severity": "warning", "instance": "web1:9100", "mountpoint": "/"}
MATRIX = [
    # fired twice: 10 minutes, then from 2 hours before the end until now (still firing)
    _series(DB_DOWN, [START + 3600 + i * STEP for i in range(10)] + [NOW - 7200 + i * STEP for i in range(121)]),
    # fired once, 30 minutes
    _series(DISK, [START + 7200 + i * STEP for i in range(30)]),
]
FIRING_NOW = [{"metric": dict(DB_DOWN, __name__="ALERTS", alertstate="firing"), "value": [NOW, "1"]}]
FOR_STATE = [{"metric": dict(DB_DOWN, __name__="ALERTS_FOR_STATE"), "value": [NOW, str(NOW - 7200)]}]
RULES = {"groups": [{"rules": [
    {"type": "alerting", "name": "PostgresqlDown", "annotations": {"runbook_url": "https://runbooks.example.com/postgresql-down"}},
    {"type": "alerting", "name": "HostDiskFull", "annotations": {"summary": "x"}},
    {"type": "alerting", "name": "Templated", "annotations": {"runbook_url": "https://x/{{ $labels.job }}"}}]}]}


class FakePrometheus(BaseHTTPRequestHandler):
    requests = []
    auth = "Basic " + base64.b64encode(b"digest:s3cret").decode()

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakePrometheus.requests.append((url.path, params))
        if self.headers.get("Authorization") != self.auth:
            self.send_response(401)
            self.end_headers()
            return
        if url.path == "/prom/api/v1/query_range":
            data = {"resultType": "matrix", "result": MATRIX}
        elif url.path == "/prom/api/v1/query":
            data = {"resultType": "vector", "result": FIRING_NOW if params["query"].startswith("ALERTS{") else FOR_STATE}
        elif url.path == "/prom/api/v1/rules":
            data = RULES
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"status": "success", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(name="prometheus_url")
def fixture_prometheus_url():
    FakePrometheus.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/prom" % server.server_address[1]
    server.shutdown()
    server.server_close()


class FakeSMTP:
    """Records the SMTP conversation; offers STARTTLS unless told otherwise."""
    instances = []

    def __init__(self, host, port, local_hostname=None, timeout=None, context=None, starttls=True):
        self.host, self.port, self.hello, self.timeout, self.context = host, port, local_hostname, timeout, context
        self.offers_starttls = starttls
        self.calls = []
        self.sent = []
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append("quit")

    def ehlo(self):
        self.calls.append("ehlo")

    def has_extn(self, name):
        return name == "starttls" and self.offers_starttls

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, mail):
        self.sent.append(mail)


def _config(tmp_path, url, **smtp):
    settings = {"smarthost": "mail.example.com:587", "from": "monitoring@example.com", "to": ["ops@example.com"],
                "username": "", "password": "", "password_file": "", "require_tls": True}
    settings.update(smtp)
    config = {"prometheus": {"url": url, "ca_file": "", "username": "digest", "password": "s3cret"},
              "hours": 24, "step": "1m", "top": 20, "subject": "Alert digest", "smtp": settings}
    path = tmp_path / "digest.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_intervals_split_on_gaps_and_include_the_last_step():
    assert ad.intervals([0, 60, 120, 600, 660], 60) == [(0, 180), (600, 720)]
    assert ad.intervals([], 60) == []


def test_durations():
    assert ad.parse_duration("1m") == 60 and ad.parse_duration("1h30m") == 5400 and ad.parse_duration("500ms") == 0.5
    assert ad.human_duration(5400) == "1h 30m" and ad.human_duration(42) == "42s" and ad.human_duration(90061) == "1d 1h"
    with pytest.raises(ValueError):
        ad.parse_duration("5x")


def test_summary_counts_per_alert_and_severity_longest_and_still_firing():
    runbooks = {"PostgresqlDown": "https://runbooks.example.com/postgresql-down"}
    summary = ad.summarise(MATRIX, FIRING_NOW, FOR_STATE, runbooks, START, NOW, STEP)
    by_name = {entry["alertname"]: entry for entry in summary["alerts"]}
    assert by_name["PostgresqlDown"]["firings"] == 2 and by_name["HostDiskFull"]["firings"] == 1
    assert by_name["HostDiskFull"]["seconds"] == 30 * STEP
    assert summary["severities"] == {"critical": {"alerts": 1, "firings": 2}, "warning": {"alerts": 1, "firings": 1}}
    assert summary["longest"]["alertname"] == "PostgresqlDown" and summary["longest"]["seconds"] == 7200
    assert summary["still_firing"] == [{"alertname": "PostgresqlDown", "severity": "critical", "labels": "instance=db1:9187 job=postgres",
                                        "since": NOW - 7200, "runbook": "https://runbooks.example.com/postgresql-down"}]
    assert [entry["alertname"] for entry in summary["alerts"]] == ["PostgresqlDown", "HostDiskFull"]


def test_render_lists_still_firing_with_runbook_and_the_quiet_day():
    summary = ad.summarise(MATRIX, FIRING_NOW, FOR_STATE, {"PostgresqlDown": "https://rb/pg"}, START, NOW, STEP)
    text = ad.render(summary, "https://mon1:9090", 20)
    assert "2 alert(s) fired 3 time(s); 1 still firing." in text
    assert "[critical] PostgresqlDown instance=db1:9187 job=postgres since" in text and "(2h)" in text
    assert "runbook: https://rb/pg" in text
    assert "Longest firing: [critical] PostgresqlDown instance=db1:9187 job=postgres for 2h" in text
    quiet = ad.render(ad.summarise([], [], [], {}, START, NOW, STEP), "https://mon1:9090", 20)
    assert "No alert fired." in quiet


def test_main_asks_prometheus_with_basic_auth_and_sends_over_starttls(tmp_path, prometheus_url, capsys):
    FakeSMTP.instances = []
    path = _config(tmp_path, prometheus_url, username="mailer", password="m4il")
    sent = []

    def sender(settings, mail):
        ad.send(settings, mail, smtp_factory=FakeSMTP)
        sent.append(mail)

    assert ad.main(["--config", path, "--now", str(NOW)], sender=sender) == 0
    paths = [path for path, _params in FakePrometheus.requests]
    assert paths == ["/prom/api/v1/query_range", "/prom/api/v1/query", "/prom/api/v1/query", "/prom/api/v1/rules"]
    assert FakePrometheus.requests[0][1]["step"] == "60s"
    assert float(FakePrometheus.requests[0][1]["start"]) == START
    smtp = FakeSMTP.instances[0]
    assert (smtp.host, smtp.port) == ("mail.example.com", 587)
    assert smtp.calls == ["ehlo", "starttls", "ehlo", ("login", "mailer", "m4il"), "quit"]
    mail = sent[0]
    assert mail["To"] == "ops@example.com" and mail["From"] == "monitoring@example.com"
    assert mail["Subject"] == "Alert digest: 2 alert(s) fired, 1 still firing (last 24 h)"
    assert "runbook: https://runbooks.example.com/postgresql-down" in mail.get_content()
    assert "sent to ops@example.com" in capsys.readouterr().out


def test_wrong_prometheus_credentials_fail_with_a_message(tmp_path, prometheus_url, capsys):
    path = _config(tmp_path, prometheus_url)
    config = json.loads(open(path, encoding="utf-8").read())
    config["prometheus"]["password"] = "wrong"
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    assert ad.main(["--config", path, "--now", str(NOW), "--dry-run"]) == 1
    assert "answered HTTP 401" in capsys.readouterr().err


def test_dry_run_prints_the_mail(tmp_path, prometheus_url, capsys):
    assert ad.main(["--config", _config(tmp_path, prometheus_url), "--now", str(NOW), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Subject: Alert digest: 2 alert(s) fired" in out and "HostDiskFull" in out


def test_require_tls_without_starttls_fails_and_no_password_goes_out_in_clear(tmp_path):
    mail = ad.message({"from": "a@example.com", "to": ["b@example.com"]}, "s", "b")
    no_tls = {"smarthost": "mail.example.com:25", "require_tls": True, "username": "", "from": "a@example.com"}
    with pytest.raises(ad.DigestError, match="no STARTTLS"):
        ad.send(no_tls, mail, smtp_factory=lambda *a, **k: FakeSMTP(*a, starttls=False, **k))
    clear = {"smarthost": "mail.example.com:25", "require_tls": False, "username": "u", "password": "p"}
    with pytest.raises(ad.DigestError, match="without TLS"):
        ad.send(clear, mail, smtp_factory=FakeSMTP)
    FakeSMTP.instances = []
    local = {"smarthost": "localhost:25", "require_tls": False, "username": "u", "password_file": str(tmp_path / "pw")}
    (tmp_path / "pw").write_text("from-file\n")
    ad.send(local, mail, smtp_factory=FakeSMTP)
    assert FakeSMTP.instances[0].calls == ["ehlo", ("login", "u", "from-file"), "quit"]


def test_implicit_tls_on_465(tmp_path):
    FakeSMTP.instances = []
    mail = ad.message({"from": "a@example.com", "to": ["b@example.com"]}, "s", "b")
    ad.send({"smarthost": "mail.example.com:465", "username": "u", "password": "p"}, mail, ssl_factory=FakeSMTP)
    smtp = FakeSMTP.instances[0]
    assert smtp.context is not None and "starttls" not in smtp.calls and ("login", "u", "p") in smtp.calls


def test_bad_config_exits_2(tmp_path, capsys):
    path = tmp_path / "digest.json"
    path.write_text(json.dumps({"prometheus": {"url": ""}, "smtp": {}}))
    assert ad.main(["--config", str(path)]) == 2
    assert "bad config" in capsys.readouterr().err


class FakeSlack(BaseHTTPRequestHandler):
    posts = []

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_POST(self):  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FakeSlack.posts.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(200 if self.path == "/services/ok" else 403)
        self.end_headers()


@pytest.fixture(name="slack_url")
def fixture_slack_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def test_the_digest_is_also_posted_to_slack(tmp_path, prometheus_url, slack_url, capsys):
    FakeSlack.posts = []
    path = _config(tmp_path, prometheus_url)
    config = json.loads(open(path, encoding="utf-8").read())
    config["slack"] = {"api_url": slack_url + "/services/ok", "channel": "#ops"}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    assert ad.main(["--config", path, "--now", str(NOW)], sender=lambda settings, mail: None) == 0
    (post_path, content_type, payload), = FakeSlack.posts
    assert post_path == "/services/ok" and content_type == "application/json"
    assert payload["channel"] == "#ops"
    assert payload["text"].startswith("*Alert digest: 2 alert(s) fired, 1 still firing (last 24 h)*")
    assert "PostgresqlDown" in payload["text"] and "HostDiskFull" in payload["text"]
    out = capsys.readouterr().out
    assert "posted to Slack #ops" in out and "/services/ok" not in out


def test_a_refused_slack_post_fails_without_showing_the_webhook(tmp_path, slack_url):
    with pytest.raises(ad.DigestError, match="HTTP 403") as error:
        ad.post_slack({"api_url": slack_url + "/services/revoked"}, "s", "b")
    assert "revoked" not in str(error.value)


def test_the_site_ca_is_trusted_beside_the_system_cas(tmp_path):
    with pytest.raises(OSError):
        ad.tls_context(str(tmp_path / "missing.crt"))
    assert ad.tls_context("").verify_mode == ad.ssl.CERT_REQUIRED
