"""node_exporter: live daemon checks (real binary from Debian, archive install path)."""

AUTH = "prometheus:test-scrape-secret"


def curl(host, url, auth=None):
    cmd = "curl -s -o /dev/null -w '%{http_code}' "
    if auth:
        cmd += "-u " + auth + " "
    return host.check_output(cmd + url)


def test_service_running_and_enabled(host):
    svc = host.service("node_exporter")
    assert svc.is_running
    assert svc.is_enabled


def test_runs_as_unprivileged_user(host):
    user = host.user("node-exp")
    assert user.shell == "/usr/sbin/nologin"
    assert host.check_output("ps -o user= -C node_exporter").strip() == "node-exp"


def test_metrics_need_basic_auth(host):
    assert curl(host, "http://127.0.0.1:9100/metrics") == "401"
    assert curl(host, "http://127.0.0.1:9100/metrics", "prometheus:wrong") == "401"
    assert curl(host, "http://127.0.0.1:9100/metrics", AUTH) == "200"


def test_metrics_content(host):
    body = host.check_output("curl -sf -u %s http://127.0.0.1:9100/metrics" % AUTH)
    assert "node_cpu_seconds_total" in body
    assert "node_textfile_scrape_error 0" in body
    assert 'node_systemd_unit_state{name="node_exporter.service",state="active",type="simple"} 1' in body


def test_web_config_is_secret(host):
    web = host.file("/etc/node_exporter/web.yml")
    assert web.user == "root"
    assert web.group == "node-exp"
    assert web.mode == 0o640
    assert "test-scrape-secret" not in web.content_string
    assert "$2b$" in web.content_string


def test_unit_is_hardened(host):
    unit = host.file("/etc/systemd/system/node_exporter.service").content_string
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectKernelTunables=yes",
                 "RestrictSUIDSGID=yes", "LockPersonality=yes", "Restart=on-failure"):
        assert line in unit
    assert "test-scrape-secret" not in unit


def test_textfile_directory(host):
    d = host.file("/var/lib/node_exporter/textfile")
    assert d.is_directory
    assert d.group == "node-exp"
    assert d.mode == 0o775


def test_security_score(host):
    out = host.check_output("systemd-analyze security node_exporter.service --no-pager | tail -n 1")
    score = float(out.split("exposure level for node_exporter.service:")[1].split()[0])
    print("systemd-analyze security node_exporter.service: %.1f" % score)
    assert score <= 3.5, out
