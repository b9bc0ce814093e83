"""blackbox_exporter: live probes against loopback servers started in prepare.yml.

bbx-bookworm runs without ICMP (no capabilities at all), bbx-trixie with ICMP
(CAP_NET_RAW only). Real binary from the Debian package, archive install path.
"""

import pytest
from testlib import exposure, first_sample, preflight_failure

PROBE = "http://127.0.0.1:9115/probe?module=%s&target=%s"
CONFIG = "/etc/blackbox_exporter/blackbox.yml"
BINARY = "/usr/local/bin/blackbox_exporter"


def probe(host, module, target):
    return host.check_output("curl -sf '%s'" % (PROBE % (module, target)))


def icmp_enabled(host):
    return host.backend.get_hostname().endswith("trixie")


def test_service_running_and_enabled(host):
    svc = host.service("blackbox_exporter")
    assert svc.is_running
    assert svc.is_enabled
    assert host.check_output("ps -o user= -C blackbox_exporter").strip() == "blackbox-exp"


def test_config_file_is_protected_and_holds_the_modules(host):
    cfg = host.file(CONFIG)
    assert (cfg.user, cfg.group, cfg.mode) == ("root", "blackbox-exp", 0o640)
    for module in ("http_2xx:", "http_health:", "tls:", "tcp_connect:", "tls_test:"):
        assert module in cfg.content_string
    assert ("icmp:" in cfg.content_string) == icmp_enabled(host)


@pytest.mark.parametrize("module,target", [
    ("http_2xx", "http://127.0.0.1:8000/"),
    ("http_health", "http://127.0.0.1:8000/health"),
    ("http_health", "http://127.0.0.1:8000/health/ready"),
    ("tcp_connect", "127.0.0.1:8000"),
])
def test_probe_succeeds(host, module, target):
    assert first_sample(probe(host, module, target), "probe_success") == 1


@pytest.mark.parametrize("module,target,why", [
    ("http_2xx", "http://127.0.0.1:8000/missing", "404"),
    ("http_health", "http://127.0.0.1:8000/health/degraded", "body says degraded"),
    ("tcp_connect", "127.0.0.1:1", "closed port"),
    ("tls", "127.0.0.1:8443", "self-signed certificate, not trusted by the default module"),
])
def test_probe_fails(host, module, target, why):
    assert first_sample(probe(host, module, target), "probe_success") == 0, why


def test_health_regex_failure_is_reported(host):
    body = probe(host, "http_health", "http://127.0.0.1:8000/health/degraded")
    assert first_sample(body, "probe_failed_due_to_regex") == 1


def test_tls_certificate_expiry(host):
    body = probe(host, "tls_test", "localhost:8443")
    assert first_sample(body, "probe_success") == 1
    expiry = first_sample(body, "probe_ssl_earliest_cert_expiry")
    now = float(host.check_output("date +%s"))
    assert 25 * 86400 < expiry - now <= 31 * 86400


def test_icmp_only_when_enabled(host):
    unit = host.file("/etc/systemd/system/blackbox_exporter.service").content_string
    if icmp_enabled(host):
        assert "AmbientCapabilities=CAP_NET_RAW" in unit
        assert "PrivateUsers" not in unit
        assert first_sample(probe(host, "icmp", "127.0.0.1"), "probe_success") == 1
    else:
        assert "AmbientCapabilities=\n" in unit or unit.rstrip().find("AmbientCapabilities=CAP") == -1
        assert "CAP_NET_RAW" not in unit
        assert "Unknown module" in host.run("curl -s '%s'" % (PROBE % ("icmp", "127.0.0.1"))).stdout


def test_broken_module_is_refused_and_running_config_kept(host):
    """The role's validate command refuses a broken module; the deployed file and the daemon stay as they are."""
    before = host.check_output("sha256sum %s" % CONFIG)
    pid = host.check_output("systemctl show -p MainPID --value blackbox_exporter")
    broken = "/tmp/bbx-broken.yml"
    host.check_output("printf 'modules:\\n  bad:\\n    prober: http\\n    http:\\n      method: 12x\\n"
                      "      fail_if_body_not_matches_regexp: [\"(unclosed\"]\\n' > %s" % broken)
    check = host.run("%s --config.check --config.file=%s" % (BINARY, broken))
    assert check.rc != 0, check.stdout + check.stderr
    assert host.run("%s --config.check --config.file=%s" % (BINARY, CONFIG)).rc == 0
    # A reload with the good file keeps the same process (SIGHUP, not restart).
    host.check_output("systemctl reload blackbox_exporter")
    assert host.check_output("sha256sum %s" % CONFIG) == before
    assert host.check_output("systemctl show -p MainPID --value blackbox_exporter") == pid
    assert host.service("blackbox_exporter").is_running


def test_preflight_rejects_unknown_target_module():
    """Bad input fails early with a message naming the variable (preflight only, on the controller)."""
    out = preflight_failure(__file__)
    assert "FAILURES 2:" in out, out
    assert "blackbox_exporter_targets: each entry needs a unique name" in out, out
    assert "icmp prober, which needs CAP_NET_RAW" in out, out


def test_security_score(host):
    assert exposure(host, "blackbox_exporter.service") <= 3.5
