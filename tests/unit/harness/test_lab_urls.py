"""tests/harness/lab_urls.py: the URLs `make demo` prints and the check of their answers, against loopback servers."""

import base64
import http.server
import importlib.util
import os
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC = importlib.util.spec_from_file_location("lab_urls", os.path.join(ROOT, "tests", "harness", "lab_urls.py"))
lab_urls = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(lab_urls)
AUTH = "prometheus:secret"


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers 200 on /-/ready with the right basic auth, 401 without it, 404 elsewhere."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        expected = "Basic " + base64.b64encode(AUTH.encode()).decode()
        if self.path != "/-/ready":
            self.send_response(404)
        elif self.headers.get("Authorization") != expected:
            self.send_response(401)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_every_published_ui_is_printed_and_checked(server, monkeypatch, capsys):
    monkeypatch.setattr(lab_urls, "published", lambda container: {9090: server, 9093: server})
    assert lab_urls.main(["lab-mon", "--auth", AUTH, "--check", "prometheus,alertmanager"]) == 0
    out = capsys.readouterr().out
    assert "Prometheus    http://%s/   200" % server in out
    assert "Alertmanager  http://%s/   200" % server in out
    assert "Grafana" not in out


def test_a_ui_that_refuses_or_is_not_published_fails_the_check(server, monkeypatch, capsys):
    monkeypatch.setattr(lab_urls, "published", lambda container: {9090: server})
    assert lab_urls.main(["lab-mon", "--auth", "prometheus:wrong", "--check", "prometheus,pushgateway"]) == 1
    captured = capsys.readouterr()
    assert "401" in captured.out
    assert "Prometheus at http://%s/-/ready: 401" % server in captured.err
    assert "Pushgateway: port 9091 is not published by lab-mon" in captured.err


def test_nothing_listening_is_no_answer(monkeypatch, capsys):
    monkeypatch.setattr(lab_urls, "published", lambda container: {9091: "127.0.0.1:9"})
    assert lab_urls.main(["lab-mon", "--check", "pushgateway"]) == 1
    assert "no answer" in capsys.readouterr().out


def test_without_check_only_urls_are_printed(monkeypatch, capsys):
    monkeypatch.setattr(lab_urls, "published", lambda container: {3000: "127.0.0.1:1234"})
    assert lab_urls.main(["lab-mon"]) == 0
    assert capsys.readouterr().out.strip() == "Grafana       http://127.0.0.1:1234/"


def test_an_unchecked_ui_that_does_not_answer_is_not_running_here(server, monkeypatch, capsys):
    monkeypatch.setattr(lab_urls, "published", lambda container: {9090: server, 3000: "127.0.0.1:9"})
    assert lab_urls.main(["lab-mon", "--auth", AUTH, "--check", "prometheus"]) == 0
    out = capsys.readouterr().out
    assert "Grafana       http://127.0.0.1:9/   not running here" in out
