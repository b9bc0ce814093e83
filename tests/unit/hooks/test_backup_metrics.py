# -*- coding: utf-8 -*-
# Copyright: (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# pylint: disable=missing-function-docstring  # test names say what they check
"""Unit tests for roles/backup_monitor/files/backup-metrics (the backup hook).

The hook is a script without a .py suffix; role_script.load imports it from its path.
A real http.server on 127.0.0.1 stands in for the Pushgateway; it can answer with any
status, or hang for a bounded time, and records every request.
"""

import base64
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import role_script

bm = role_script.load("backup_monitor", "backup-metrics", "backup_metrics_hook")


# --------------------------------------------------------------------------- fake Pushgateway

class Recorder:  # pylint: disable=too-few-public-methods
    """What the fake Pushgateway received and how it answers next."""

    def __init__(self):
        self.requests = []
        self.plan = []
        self.default = ("status", 200)
        self.release = threading.Event()
        self.lock = threading.Lock()

    def next_action(self):
        """Pop the next planned answer, or the default one."""
        with self.lock:
            return self.plan.pop(0) if self.plan else self.default


class Handler(BaseHTTPRequestHandler):
    """Records PUT/POST requests and answers as the recorder says."""

    def do_PUT(self):  # pylint: disable=invalid-name
        """Handle a push."""
        recorder = self.server.recorder
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        action, arg = recorder.next_action()
        with recorder.lock:
            recorder.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        if action == "hang":
            recorder.release.wait(arg)
            return
        self.send_response(arg)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT

    def log_message(self, *args):  # pylint: disable=arguments-differ
        """Keep the test output quiet."""


@pytest.fixture(name="gateway")
def fixture_gateway():
    """A fake Pushgateway on 127.0.0.1 with a free port, stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.recorder = Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.recorder.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Make the pause between tries short; the logic stays the same."""
    monkeypatch.setattr(bm, "BACKOFF_BASE", 0.01)
    for name in list(os.environ):
        if name.startswith("BACKUP_METRICS_"):
            monkeypatch.delenv(name)


class Env:
    """A configuration file, spool and state directories for one test."""

    def __init__(self, tmp_path, url, **overrides):
        self.tmp = tmp_path
        self.spool = tmp_path / "spool"
        self.state = tmp_path / "state"
        self.config = tmp_path / "backup-metrics.conf"
        values = {"url": url, "timeout": "1", "retries": "3", "push_deadline": "8",
                  "spool_dir": str(self.spool), "state_dir": str(self.state), "instance": "host1"}
        values.update(overrides)
        self.write_config(values)

    def write_config(self, values):
        """Write an INI configuration."""
        self.config.write_text("".join(f"{key} = {value}\n" for key, value in values.items()), encoding="utf-8")
        os.chmod(self.config, 0o640)

    def main(self, *argv):
        """Run the hook's main with this configuration; argv is the action and its arguments."""
        argv = list(argv)
        split = argv.index("--") if "--" in argv else len(argv)
        return bm.main(argv[:split] + ["--config", str(self.config)] + argv[split:])

    def spooled(self):
        """Spool entries, oldest first."""
        return bm.Spool(str(self.spool)).entries()


def exit_with(code):
    """A command that exits with code."""
    return [sys.executable, "-c", f"import sys; sys.exit({code})"]


def samples(body):
    """Parse exposition text into {(name, frozenset(labels)): value}; checks the line syntax."""
    result = {}
    for line in body.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line), line
            continue
        match = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert match, line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        result[(match.group(1), labels)] = float(match.group(3))
    return result


def value(body, name):
    """The value of the only sample called name."""
    found = [val for (sample, _labels), val in samples(body).items() if sample == name]
    assert len(found) == 1, (name, body)
    return found[0]


def names(body):
    """Metric names present in a body."""
    return {name for name, _labels in samples(body)}


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- exposition

def test_escape_label_value_escapes_backslash_quote_and_newline():
    assert bm.escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


def test_escape_help_escapes_backslash_and_newline_only():
    assert bm.escape_help('x\\y\n"z"') == 'x\\\\y\\n"z"'


@pytest.mark.parametrize("raw, text", [(1, "1"), (0, "0"), (True, "1"), (2.5, "2.5"), (3.0, "3"),
                                       (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"),
                                       (1700000000.123456, "1700000000.123456")])
def test_format_value(raw, text):
    assert bm.format_value(raw) == text


def test_render_metrics_has_help_and_type_once_per_metric_and_sorted_escaped_labels():
    body = bm.render_metrics([("backup_last_status", 1), ("backup_hook_info", 1, {"version": "1.0"}),
                              ("backup_hook_info", 1, {"version": "2.0"})], {"zone": 'a"b', "app": "x\\y\nz"})
    assert body.endswith("\n")
    lines = body.splitlines()
    assert lines[0] == "# HELP backup_last_status " + bm.METRIC_HELP["backup_last_status"]
    assert lines[1] == "# TYPE backup_last_status gauge"
    assert lines[2] == 'backup_last_status{app="x\\\\y\\nz",zone="a\\"b"} 1'
    assert lines.count("# TYPE backup_hook_info gauge") == 1
    assert 'backup_hook_info{app="x\\\\y\\nz",version="2.0",zone="a\\"b"} 1' in lines
    assert len(lines) == 7
    samples(body)


def test_render_metrics_without_labels_has_no_braces():
    assert bm.render_metrics([("backup_size_bytes", 42)]).splitlines()[-1] == "backup_size_bytes 42"


def test_grouping_path_encodes_unsafe_values_as_base64():
    assert bm.grouping_path([["job", "pg_app"], ["instance", "db1.example.org:5432"]]) == \
        "/metrics/job/pg_app/instance/db1.example.org:5432"
    path = bm.grouping_path([["job", "a/b c"], ["instance", ""]])
    encoded = base64.urlsafe_b64encode(b"a/b c").decode()
    assert path == f"/metrics/job@base64/{encoded}/instance@base64/="


# --------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("argv, message", [
    ([], "required: ACTION"),
    (["run", "--", "true"], "required: --job"),
    (["run", "--job", "x", "--label", "bad", "--", "true"], "not of the form name=value"),
    (["run", "--job", "x", "--label", "1a=b", "--", "true"], "invalid label name"),
    (["run", "--job", "x", "--label", "__a=b", "--", "true"], "invalid label name"),
    (["run", "--job", "x", "--label", "job=y", "--", "true"], "reserved"),
    (["run", "--job", "x", "--label", "job_name=y", "--", "true"], "reserved"),
    (["run", "--job", "x", "--label", "a=1", "--label", "a=2", "--", "true"], "more than once"),
    (["run", "--job", "x"], "needs the backup command"),
    (["run", "--job", "", "--", "true"], "job name"),
    (["run", "--job", "x", "--expected-max-duration", "-1", "--", "true"], "must not be negative"),
    (["finish", "--job", "x"], "required: --exit-code"),
    (["finish", "--job", "x", "--exit-code", "300"], "outside 0..255"),
    (["finish", "--job", "x", "--exit-code", "0", "--", "true"], "takes no command"),
    (["restore-test", "--job", "x"], "needs --status"),
    (["restore-test", "--job", "x", "--status", "maybe"], "invalid choice"),
    (["restore-test", "--job", "x", "--status", "ok", "--", "true"], "not both"),
    (["run", "--job", "x", "--password", "secret", "--", "true"], "unrecognized arguments"),
    (["bogus"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_a_clear_message(capsys, argv, message):
    assert bm.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "usage:" in err


@pytest.mark.parametrize("option, text, message", [
    ("--timeout", "soon", "is not a number"), ("--timeout", "0", "greater than 0"),
    ("--retries", "0", "at least 1"), ("--retries", "two", "not an integer"), ("--push-deadline", "-1", "must not be negative"),
])
def test_bad_delivery_options_exit_2_before_running_anything(tmp_path, capsys, option, text, message):
    marker = tmp_path / "ran"
    env = Env(tmp_path, "http://127.0.0.1:1")
    assert env.main("run", "--job", "x", option, text, "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')") == 2
    assert message in capsys.readouterr().err
    assert not marker.exists()


def test_help_documents_all_forms(capsys):
    with pytest.raises(SystemExit):
        bm.build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for word in ("run", "start", "finish", "restore-test", "flush", "backup_last_success_timestamp_seconds",
                 "kind=restore_test", "--push-deadline", "BACKUP_METRICS_PASSWORD", "spool"):
        assert word in out


# --------------------------------------------------------------------------- wrapper

@pytest.mark.parametrize("code", [0, 3, 255])
def test_run_returns_the_wrapped_exit_code_and_reports_it(tmp_path, gateway, code):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--", *exit_with(code)) == code
    (request,) = gateway.recorder.requests
    assert request["method"] == "PUT"
    assert request["path"] == "/metrics/job/db/instance/host1"
    assert request["headers"]["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "Authorization" not in request["headers"]
    body = request["body"]
    assert value(body, "backup_last_status") == (1 if code == 0 else 0)
    assert value(body, "backup_last_exit_code") == code
    start, end = value(body, "backup_last_start_timestamp_seconds"), value(body, "backup_last_end_timestamp_seconds")
    assert abs(time.time() - end) < 60
    assert value(body, "backup_duration_seconds") == pytest.approx(end - start, abs=1e-3)
    assert ("backup_hook_info", frozenset({("version", bm.VERSION), ("job_name", "db")})) in samples(body)
    assert all(("job_name", "db") in labels for _name, labels in samples(body))
    assert "backup_size_bytes" not in names(body)
    assert "backup_expected_max_duration_seconds" not in names(body)


def test_run_of_a_missing_command_returns_127_and_reports_failure(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--", str(tmp_path / "no-such-command")) == 127
    assert value(gateway.recorder.requests[0]["body"], "backup_last_status") == 0
    assert value(gateway.recorder.requests[0]["body"], "backup_last_exit_code") == 127


def test_run_of_a_command_killed_by_a_signal_returns_128_plus_signal(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    command = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
    assert env.main("run", "--job", "db", "--", *command) == 137
    assert value(gateway.recorder.requests[0]["body"], "backup_last_exit_code") == 137


def test_labels_and_expected_duration_are_pushed(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--instance", "other", "--label", "team=dba", "--label", 'note=a "b"',
                    "--expected-max-duration", "3600", "--", *exit_with(0)) == 0
    request = gateway.recorder.requests[0]
    assert request["path"] == "/metrics/job/db/instance/other"
    lines = [line for line in request["body"].splitlines() if not line.startswith("#")]
    assert lines and all('note="a \\"b\\"",' in line and 'team="dba"' in line for line in lines)
    assert value(request["body"], "backup_expected_max_duration_seconds") == 3600


def test_size_is_the_recursive_sum_of_outputs(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    dump = tmp_path / "db.dump"
    dump.write_bytes(b"x" * 1000)
    tree = tmp_path / "base"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "a").write_bytes(b"y" * 300)
    (tree / "sub" / "b").write_bytes(b"z" * 20)
    (tree / "sub" / "deeper" / "c").write_bytes(b"w" * 7)
    os.symlink(str(dump), str(tree / "sub" / "link-not-followed"))
    assert env.main("run", "--job", "db", "--output", str(dump), "--output", str(tree), "--", *exit_with(0)) == 0
    assert value(gateway.recorder.requests[0]["body"], "backup_size_bytes") == 1000 + 300 + 20 + 7


def test_missing_output_counts_as_zero_bytes(tmp_path, gateway, capsys):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--output", str(tmp_path / "absent"), "--", *exit_with(1)) == 1
    assert value(gateway.recorder.requests[0]["body"], "backup_size_bytes") == 0
    assert "absent" in capsys.readouterr().err


def test_start_and_finish_report_the_measured_run(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    before = time.time()
    assert env.main("start", "--job", "files") == 0
    assert not gateway.recorder.requests, "start must not touch the network"
    time.sleep(0.2)
    out = tmp_path / "archive.tar.gz"
    out.write_bytes(b"a" * 64)
    assert env.main("finish", "--job", "files", "--exit-code", "0", "--output", str(out)) == 0
    body = gateway.recorder.requests[0]["body"]
    assert value(body, "backup_last_start_timestamp_seconds") == pytest.approx(before, abs=0.5)
    assert value(body, "backup_duration_seconds") >= 0.2
    assert value(body, "backup_size_bytes") == 64
    assert value(body, "backup_last_status") == 1


def test_finish_with_a_failure_exits_0_and_reports_failure(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("start", "--job", "files") == 0
    assert env.main("finish", "--job", "files", "--exit-code", "2") == 0
    body = gateway.recorder.requests[0]["body"]
    assert value(body, "backup_last_status") == 0
    assert value(body, "backup_last_exit_code") == 2


def test_finish_without_start_omits_start_and_duration(tmp_path, gateway, capsys):
    env = Env(tmp_path, gateway.url)
    assert env.main("finish", "--job", "lonely", "--exit-code", "0") == 0
    body = gateway.recorder.requests[0]["body"]
    assert "backup_duration_seconds" not in names(body)
    assert "backup_last_start_timestamp_seconds" not in names(body)
    assert "no start recorded" in capsys.readouterr().err


# --------------------------------------------------------------------------- success timestamp

def test_last_success_timestamp_survives_a_failed_run(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    first = gateway.recorder.requests[0]["body"]
    success = value(first, "backup_last_success_timestamp_seconds")
    assert success == value(first, "backup_last_end_timestamp_seconds")
    time.sleep(0.05)
    assert env.main("run", "--job", "db", "--", *exit_with(4)) == 4
    second = gateway.recorder.requests[1]["body"]
    assert value(second, "backup_last_status") == 0
    assert value(second, "backup_last_end_timestamp_seconds") > success
    assert value(second, "backup_last_success_timestamp_seconds") == success
    stored = bm.StateStore(str(env.state)).load(bm.backup_group("db", "host1"))
    assert stored["last_success"] == pytest.approx(success, abs=1e-3)


def test_first_run_failing_reports_success_timestamp_zero(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "never", "--", *exit_with(1)) == 1
    assert value(gateway.recorder.requests[0]["body"], "backup_last_success_timestamp_seconds") == 0


def test_success_timestamps_are_kept_per_job(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "a", "--", *exit_with(0)) == 0
    assert env.main("run", "--job", "b", "--", *exit_with(1)) == 1
    assert value(gateway.recorder.requests[1]["body"], "backup_last_success_timestamp_seconds") == 0


# --------------------------------------------------------------------------- restore tests

def test_restore_test_uses_its_own_group_and_metrics(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert env.main("restore-test", "--job", "db", "--status", "ok", "--duration", "12.5") == 0
    backup, restore = gateway.recorder.requests
    assert backup["method"] == restore["method"] == "PUT"
    assert backup["path"] == "/metrics/job/db/instance/host1"
    assert restore["path"] == "/metrics/job/db/instance/host1/kind/restore_test"
    assert not any(name.startswith("backup_restore_test") for name in names(backup["body"]))
    assert names(restore["body"]) == {"backup_restore_test_status", "backup_restore_test_last_timestamp_seconds",
                                      "backup_restore_test_duration_seconds", "backup_restore_test_last_success_timestamp_seconds",
                                      "backup_hook_info"}
    assert value(restore["body"], "backup_restore_test_status") == 1
    assert all(("job_name", "db") in labels for _name, labels in samples(restore["body"]))
    assert value(restore["body"], "backup_restore_test_duration_seconds") == 12.5


def test_restore_test_failure_keeps_the_last_restore_success(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("restore-test", "--job", "db", "--status", "ok") == 0
    success = value(gateway.recorder.requests[0]["body"], "backup_restore_test_last_success_timestamp_seconds")
    assert success > 0
    assert env.main("restore-test", "--job", "db", "--status", "failed") == 0
    body = gateway.recorder.requests[1]["body"]
    assert value(body, "backup_restore_test_status") == 0
    assert value(body, "backup_restore_test_last_success_timestamp_seconds") == success
    assert "backup_restore_test_duration_seconds" not in names(body)


def test_restore_test_wrapper_form_propagates_the_exit_code(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("restore-test", "--job", "db", "--", *exit_with(4)) == 4
    body = gateway.recorder.requests[0]["body"]
    assert value(body, "backup_restore_test_status") == 0
    assert value(body, "backup_restore_test_duration_seconds") >= 0


def test_backup_and_restore_groups_do_not_share_state(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    assert env.main("restore-test", "--job", "db", "--status", "ok") == 0
    assert env.main("run", "--job", "db", "--", *exit_with(1)) == 1
    assert value(gateway.recorder.requests[1]["body"], "backup_last_success_timestamp_seconds") == 0


# --------------------------------------------------------------------------- transport

def test_basic_auth_password_from_file(tmp_path, gateway):
    secret = tmp_path / "secret"
    secret.write_text("s3cr:et\n", encoding="utf-8")
    env = Env(tmp_path, gateway.url, username="pusher", password_file=str(secret))
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    expected = "Basic " + base64.b64encode(b"pusher:s3cr:et").decode()
    assert gateway.recorder.requests[0]["headers"]["Authorization"] == expected


def test_basic_auth_password_from_config_and_environment(tmp_path, gateway, monkeypatch):
    env = Env(tmp_path, gateway.url, username="pusher", password="fromfile")
    assert env.main("restore-test", "--job", "db", "--status", "ok") == 0
    monkeypatch.setenv("BACKUP_METRICS_PASSWORD", "fromenv")
    assert env.main("restore-test", "--job", "db", "--status", "ok") == 0
    headers = [request["headers"]["Authorization"] for request in gateway.recorder.requests]
    assert headers == ["Basic " + base64.b64encode(b"pusher:fromfile").decode(),
                       "Basic " + base64.b64encode(b"pusher:fromenv").decode()]


def test_json_configuration_is_accepted(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    env.config.write_text(json.dumps({"url": gateway.url, "instance": "jsonhost", "retries": 1,
                                      "spool_dir": str(env.spool), "state_dir": str(env.state)}), encoding="utf-8")
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert gateway.recorder.requests[0]["path"] == "/metrics/job/db/instance/jsonhost"


def test_command_line_overrides_the_configuration(tmp_path, gateway):
    env = Env(tmp_path, "http://127.0.0.1:1")
    assert env.main("run", "--job", "db", "--url", gateway.url, "--", *exit_with(0)) == 0
    assert len(gateway.recorder.requests) == 1


def test_retries_after_server_errors_then_succeeds(tmp_path, gateway):
    gateway.recorder.plan = [("status", 500), ("status", 503)]
    env = Env(tmp_path, gateway.url, retries="3")
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert len(gateway.recorder.requests) == 3
    assert not env.spooled()


def test_retry_count_is_bounded_and_the_push_is_spooled(tmp_path, gateway):
    gateway.recorder.default = ("status", 500)
    env = Env(tmp_path, gateway.url, retries="3")
    assert env.main("run", "--job", "db", "--", *exit_with(6)) == 6
    assert len(gateway.recorder.requests) == 3
    (entry,) = env.spooled()
    assert entry[1]["path"] == "/metrics/job/db/instance/host1"
    assert value(entry[1]["body"], "backup_last_exit_code") == 6


def test_a_hanging_pushgateway_costs_at_most_retries_times_timeout(tmp_path, gateway):
    gateway.recorder.default = ("hang", 5)
    env = Env(tmp_path, gateway.url, timeout="0.3", retries="2")
    started = time.monotonic()
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert len(gateway.recorder.requests) == 2
    assert len(env.spooled()) == 1


def test_push_deadline_caps_the_total_time(tmp_path, gateway):
    gateway.recorder.default = ("hang", 5)
    env = Env(tmp_path, gateway.url, timeout="0.4", retries="10", push_deadline="1")
    started = time.monotonic()
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert 2 <= len(gateway.recorder.requests) < 10
    assert len(env.spooled()) == 1


def test_an_unreachable_pushgateway_is_fast_and_keeps_the_exit_code(tmp_path):
    env = Env(tmp_path, f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert env.main("run", "--job", "other", "--", *exit_with(9)) == 9
    assert time.monotonic() - started < 5
    assert len(env.spooled()) == 2


def test_auth_failure_is_not_retried_but_spooled(tmp_path, gateway):
    gateway.recorder.default = ("status", 401)
    env = Env(tmp_path, gateway.url, username="pusher", password="wrong")
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert len(gateway.recorder.requests) == 1
    assert len(env.spooled()) == 1


def test_a_rejected_payload_is_dropped_not_spooled(tmp_path, gateway, capsys):
    gateway.recorder.default = ("status", 400)
    env = Env(tmp_path, gateway.url)
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert len(gateway.recorder.requests) == 1
    assert not env.spooled()
    assert "rejected" in capsys.readouterr().err


def test_broken_configuration_still_runs_the_backup(tmp_path, capsys):
    env = Env(tmp_path, "ftp://nowhere")
    assert env.main("run", "--job", "db", "--", *exit_with(5)) == 5
    assert "http:// or https://" in capsys.readouterr().err


# --------------------------------------------------------------------------- spool

def test_spool_entries_are_written_atomically_and_sort_by_age(tmp_path):
    spool = bm.Spool(str(tmp_path / "spool"))
    first = spool.write(bm.make_entry(bm.backup_group("a", "h"), "x 1\n"))
    second = spool.write(bm.make_entry(bm.backup_group("b", "h"), "x 2\n"))
    assert sorted(os.listdir(tmp_path / "spool")) == sorted([first, second])
    assert [name for name, _entry in spool.entries()] == [first, second]
    (tmp_path / "spool" / first).write_text("{broken", encoding="utf-8")
    assert [name for name, _entry in spool.entries()] == [second]


def test_flush_delivers_oldest_first_and_drops_superseded(tmp_path, gateway):
    env = Env(tmp_path, gateway.url)
    spool = bm.Spool(str(env.spool))
    for job, body in (("a", "backup_last_status 0\n"), ("b", "backup_last_status 1\n"), ("a", "backup_last_status 1\n"),
                      ("c", "backup_last_status 0\n")):
        spool.write(bm.make_entry(bm.backup_group(job, "host1"), body))
    assert env.main("flush") == 0
    sent = [(request["path"], request["body"]) for request in gateway.recorder.requests]
    assert sent == [("/metrics/job/b/instance/host1", "backup_last_status 1\n"),
                    ("/metrics/job/a/instance/host1", "backup_last_status 1\n"),
                    ("/metrics/job/c/instance/host1", "backup_last_status 0\n")]
    assert not env.spooled()


def test_flush_keeps_entries_while_the_pushgateway_is_down(tmp_path, gateway):
    gateway.recorder.default = ("status", 503)
    env = Env(tmp_path, gateway.url, retries="2")
    assert env.main("run", "--job", "a", "--", *exit_with(0)) == 0
    assert env.main("run", "--job", "b", "--", *exit_with(0)) == 0
    assert env.main("flush") == 1
    assert len(env.spooled()) == 2
    gateway.recorder.default = ("status", 200)
    gateway.recorder.requests.clear()
    assert env.main("flush") == 0
    assert [request["path"] for request in gateway.recorder.requests] == ["/metrics/job/a/instance/host1",
                                                                          "/metrics/job/b/instance/host1"]
    assert not env.spooled()


def test_a_later_invocation_delivers_the_spool_before_its_own_push(tmp_path, gateway):
    gateway.recorder.default = ("status", 500)
    env = Env(tmp_path, gateway.url, retries="1")
    assert env.main("run", "--job", "a", "--", *exit_with(0)) == 0
    assert len(env.spooled()) == 1
    gateway.recorder.default = ("status", 200)
    gateway.recorder.requests.clear()
    assert env.main("restore-test", "--job", "b", "--status", "ok") == 0
    assert [request["path"] for request in gateway.recorder.requests] == ["/metrics/job/a/instance/host1",
                                                                          "/metrics/job/b/instance/host1/kind/restore_test"]
    assert not env.spooled()


def test_a_new_push_supersedes_the_spooled_push_of_its_group(tmp_path, gateway):
    gateway.recorder.default = ("status", 500)
    env = Env(tmp_path, gateway.url, retries="1")
    assert env.main("run", "--job", "a", "--", *exit_with(3)) == 3
    assert env.main("restore-test", "--job", "a", "--status", "failed") == 0
    assert len(env.spooled()) == 2
    gateway.recorder.default = ("status", 200)
    gateway.recorder.requests.clear()
    assert env.main("run", "--job", "a", "--", *exit_with(0)) == 0
    paths = [request["path"] for request in gateway.recorder.requests]
    assert paths == ["/metrics/job/a/instance/host1/kind/restore_test", "/metrics/job/a/instance/host1"]
    assert value(gateway.recorder.requests[1]["body"], "backup_last_status") == 1
    assert not env.spooled()


def test_without_url_the_push_is_spooled(tmp_path):
    env = Env(tmp_path, "")
    assert env.main("run", "--job", "db", "--", *exit_with(0)) == 0
    assert len(env.spooled()) == 1
    assert env.main("flush") == 1


# --------------------------------------------------------------------------- check-config

def test_check_config_accepts_a_valid_file_and_hides_the_password(tmp_path, capsys):
    env = Env(tmp_path, "https://pgw.example.org:9091", username="u", password="hunter2")
    assert env.main("check-config") == 0
    out = capsys.readouterr().out
    assert "OK" in out
    assert "hunter2" not in out


@pytest.mark.parametrize("content, message", [
    ("url = http://x\nbogus = 1\n", "unknown key"),
    ("timeout = 1\n", "url is not set"),
    ("url = http://x\nretries = 0\n", "at least 1"),
    ("url = http://x\n[other]\nk = v\n", "unknown section"),
    ("{not json", "invalid JSON"),
    ("url = http://x\npassword = a\npassword_file = /b\n", "not both"),
])
def test_check_config_rejects_bad_files(tmp_path, capsys, content, message):
    path = tmp_path / "bad.conf"
    path.write_text(content, encoding="utf-8")
    assert bm.main(["check-config", "--config", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_check_config_of_a_missing_file_exits_2(tmp_path, capsys):
    assert bm.main(["check-config", "--config", str(tmp_path / "absent.conf")]) == 2
    assert "does not exist" in capsys.readouterr().err
