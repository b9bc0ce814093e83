"""node_exporter: live daemon checks (real binary from Debian, archive install path)."""

from testlib import exposure

AUTH = "prometheus:test-scrape-secret"


def tls(host):
    return host.backend.get_hostname() == "ne-trixie"


def base(host):
    return ("https" if tls(host) else "http") + "://127.0.0.1:9100"


def curl(host, url, auth=None, extra=""):
    cmd = "curl -s -o /dev/null -w '%{http_code}' "
    if tls(host):
        cmd += "--cacert /etc/node_exporter/tls.crt "
    if auth:
        cmd += "-u " + auth + " "
    return host.check_output(cmd + extra + url)


def test_service_running_and_enabled(host):
    svc = host.service("node_exporter")
    assert svc.is_running
    assert svc.is_enabled


def test_runs_as_unprivileged_user(host):
    user = host.user("node-exp")
    assert user.shell == "/usr/sbin/nologin"
    pid = host.check_output("systemctl show -p MainPID --value node_exporter")
    assert host.check_output("ps -o user= -p %s" % pid).strip() == "node-exp"


def test_metrics_need_basic_auth(host):
    assert curl(host, base(host) + "/metrics") == "401"
    assert curl(host, base(host) + "/metrics", "prometheus:wrong") == "401"
    assert curl(host, base(host) + "/metrics", AUTH) == "200"


def test_tls_only_where_configured(host):
    plain = host.run("curl -s -o /dev/null -w '%%{http_code}' -u %s http://127.0.0.1:9100/metrics" % AUTH).stdout
    if tls(host):
        assert plain != "200"  # plain HTTP is refused by the TLS listener
        web = host.file("/etc/node_exporter/web.yml").content_string
        assert "min_version: TLS12" in web
        key = host.file("/etc/node_exporter/tls.key")
        assert (key.user, key.group, key.mode) == ("root", "node-exp", 0o640)
        # TLS 1.1 is refused.
        assert host.run("curl -s --tls-max 1.1 --cacert /etc/node_exporter/tls.crt -u %s https://127.0.0.1:9100/metrics" % AUTH).rc != 0
    else:
        assert plain == "200"


def test_install_source(host):
    unit = host.file("/etc/systemd/system/node_exporter.service").content_string
    if host.backend.get_hostname() == "ne-package":
        assert "ExecStart=/usr/bin/prometheus-node-exporter" in unit
        assert host.package("prometheus-node-exporter").is_installed
        # The package's own unit is masked; the collection's hardened unit runs the daemon.
        assert host.run("systemctl is-enabled prometheus-node-exporter").stdout.strip() == "masked"
    else:
        assert "ExecStart=/usr/local/bin/node_exporter" in unit
        assert not host.package("prometheus-node-exporter").is_installed


def test_metrics_content(host):
    body = host.check_output("curl -sf %s -u %s %s/metrics" % ("--cacert /etc/node_exporter/tls.crt" if tls(host) else "", AUTH, base(host)))
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
                 "RestrictSUIDSGID=yes", "LockPersonality=yes", "Restart=always"):
        assert line in unit
    assert "test-scrape-secret" not in unit


def test_textfile_directory(host):
    d = host.file("/var/lib/node_exporter/textfile")
    assert d.is_directory
    assert d.group == "node-exp"
    assert d.mode == 0o775


def test_security_score(host):
    assert exposure(host, "node_exporter.service") <= 3.5
