"""prometheus + alertmanager + pushgateway + node_exporter on one host: live checks through the HTTP APIs."""

import json
import time

from testlib import exposure, get_json, poll, prom_query

PROM = "http://127.0.0.1:9090"
AM = "http://127.0.0.1:9093"
PUSH = "http://127.0.0.1:9091"


def test_services_running_and_enabled(host):
    for name in ("prometheus", "alertmanager", "pushgateway", "node_exporter"):
        svc = host.service(name)
        assert svc.is_running, name
        assert svc.is_enabled, name


def test_every_target_is_up(host):
    def targets():
        active = get_json(host, PROM + "/api/v1/targets")["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in active}
        return health if health and set(health.values()) == {"up"} else None
    health = poll(targets, timeout=90)
    assert health == {"prometheus": "up", "alertmanager": "up", "pushgateway": "up", "node": "up"}, \
        get_json(host, PROM + "/api/v1/targets")


def test_one_file_sd_file_per_job(host):
    files = sorted(host.check_output("ls /etc/prometheus/file_sd").split())
    assert files == ["alertmanager.json", "node.json", "prometheus.json", "pushgateway.json"]
    node = json.loads(host.file("/etc/prometheus/file_sd/node.json").content_string)
    assert node == [{"labels": {}, "targets": ["prom-bookworm:9100"]}]


def test_scrape_password_only_in_a_file(host):
    config = host.file("/etc/prometheus/prometheus.yml")
    assert config.mode == 0o640 and config.group == "prometheus"
    assert "test-scrape-secret" not in config.content_string
    assert "password_file: /etc/prometheus/secrets/node.basic_auth" in config.content_string
    secret = host.file("/etc/prometheus/secrets/node.basic_auth")
    assert secret.user == "root" and secret.group == "prometheus" and secret.mode == 0o640
    assert secret.content_string == "test-scrape-secret"


def test_prometheus_settings(host):
    config = host.file("/etc/prometheus/prometheus.yml").content_string
    assert "environment: molecule" in config
    assert "honor_labels: true" in config
    unit = host.file("/etc/systemd/system/prometheus.service").content_string
    for flag in ("--storage.tsdb.retention.time=2d", "--storage.tsdb.retention.size=1GB", "--storage.tsdb.path=/var/lib/prometheus",
                 "ReadWritePaths=/var/lib/prometheus", "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert flag in unit, flag
    flags = get_json(host, PROM + "/api/v1/status/flags")["data"]
    assert flags["storage.tsdb.retention.time"] == "2d"


def test_rules_loaded_and_managed_files_pruned(host):
    def files():
        groups = get_json(host, PROM + "/api/v1/rules")["data"]["groups"]
        return sorted({g["file"].rsplit("/", 1)[1] for g in groups})
    expected = ["monitoring-stack-alertmanager.yml", "monitoring-stack-backups.yml", "monitoring-stack-custom.yml",
                "monitoring-stack-node.yml", "monitoring-stack-prometheus.yml", "monitoring-stack-pushgateway.yml", "user-own.yml"]
    assert poll(lambda: files() == expected, timeout=30), files()
    assert not host.file("/etc/prometheus/rules/monitoring-stack-stale.yml").exists
    assert host.file("/etc/prometheus/rules/user-own.yml").exists
    node = host.file("/etc/prometheus/rules/monitoring-stack-node.yml").content_string
    assert node.splitlines()[3].startswith("# monitoring.stack managed rule file")
    assert 'up{job="node"}' in node
    assert "runbook_url: https://runbooks.example.com/host-down" in node


def test_generated_alert_reaches_alertmanager(host):
    def canary():
        alerts = get_json(host, AM + "/api/v2/alerts")
        return [a for a in alerts if a["labels"].get("alertname") == "MoleculeCanary"]
    found = poll(canary, timeout=60)
    assert found, get_json(host, PROM + "/api/v1/alerts")
    assert found[0]["labels"]["severity"] == "info"
    assert found[0]["labels"]["environment"] == "molecule"
    assert found[0]["receivers"][0]["name"] == "severity-info"


def test_alertmanager_config_checks_and_routes(host):
    out = host.run("/usr/local/bin/amtool check-config /etc/alertmanager/alertmanager.yml")
    assert out.rc == 0, out.stdout + out.stderr
    config = host.file("/etc/alertmanager/alertmanager.yml")
    assert config.mode == 0o640 and config.group == "alertmanager"
    text = config.content_string
    assert "match:" not in text and "match_re:" not in text
    for secret in ("test-pd-routing-key", "test-slack-hook", "test-smtp-password"):
        assert secret not in text
    for name in ("pager.routing_key", "chat.api_url", "email.auth_password"):
        secret = host.file("/etc/alertmanager/secrets/" + name)
        assert secret.user == "root" and secret.group == "alertmanager" and secret.mode == 0o640
    status = get_json(host, AM + "/api/v2/status")
    assert status["config"]["original"].count("severity=") >= 5
    assert status["cluster"]["status"] in ("disabled", "ready")


def test_amtool_routes_by_severity(host):
    cmd = "/usr/local/bin/amtool config routes test --config.file=/etc/alertmanager/alertmanager.yml severity=%s"
    assert host.check_output(cmd % "critical").strip() == "severity-critical"
    assert host.check_output(cmd % "warning").strip() == "severity-warning"
    assert host.check_output(cmd % "info").strip() == "severity-info"
    assert host.check_output(cmd % "unknown").strip() == "severity-warning"


def test_pushgateway_persistence_survives_restart(host):
    host.check_output("echo 'molecule_persist_test 42' | curl -sf --data-binary @- %s/metrics/job/molecule/instance/persist" % PUSH)
    assert "molecule_persist_test" in host.check_output("curl -sf %s/metrics" % PUSH)
    host.check_output("systemctl restart pushgateway")
    assert host.service("pushgateway").is_running

    def pushed():
        out = host.run("curl -sf %s/metrics" % PUSH)
        return out.rc == 0 and 'molecule_persist_test{instance="persist",job="molecule"} 42' in out.stdout
    assert poll(pushed, timeout=30)
    store = host.file("/var/lib/pushgateway/pushgateway.data")
    assert store.exists and store.user == "pushgateway"
    assert "--persistence.interval=5s" in host.file("/etc/systemd/system/pushgateway.service").content_string


def _kill_and_wait(host, unit):
    """kill -9 the unit's main process and wait until systemd brought it back (Restart=always)."""
    pid = host.check_output("systemctl show -p MainPID --value %s" % unit).strip()
    host.check_output("kill -9 %s" % pid)
    assert poll(lambda: host.check_output("systemctl show -p MainPID --value %s" % unit).strip() not in ("0", pid)
                and host.service(unit).is_running, timeout=30), "%s did not come back after kill -9" % unit


def test_a_hard_crash_loses_at_most_seconds_of_pushes_and_silences(host):
    """Durability: pushgateway persists every 5s, Alertmanager snapshots silences every 10s."""
    host.check_output("echo 'molecule_crash_test 7' | curl -sf --data-binary @- %s/metrics/job/molecule/instance/crash" % PUSH)
    silence = host.check_output(
        "/usr/local/bin/amtool silence add --alertmanager.url=%s --author=molecule --duration=1h "
        "--comment='made just before a crash' alertname=MoleculeCrashTest" % AM).strip()
    time.sleep(12)
    _kill_and_wait(host, "pushgateway")
    _kill_and_wait(host, "alertmanager")

    def pushed():
        out = host.run("curl -sf %s/metrics" % PUSH)
        return out.rc == 0 and 'molecule_crash_test{instance="crash",job="molecule"} 7' in out.stdout
    assert poll(pushed, timeout=30), "the push made 12 s before kill -9 is lost"

    def silenced():
        out = host.run("/usr/local/bin/amtool silence query -q --alertmanager.url=%s alertname=MoleculeCrashTest" % AM)
        return out.rc == 0 and silence in out.stdout
    assert poll(silenced, timeout=30), "the silence made 12 s before kill -9 is lost"


def test_pushed_metric_scraped_with_honor_labels(host):
    host.check_output("echo 'molecule_honor_test 7' | curl -sf --data-binary @- %s/metrics/job/backup_db/instance/db1" % PUSH)

    def scraped():
        result = prom_query(host, "molecule_honor_test")
        return result[0]["metric"] if result else None
    metric = poll(scraped, timeout=30)
    assert metric and metric["job"] == "backup_db" and metric["instance"] == "db1", metric


def test_security_exposure(host):
    scores = {unit: exposure(host, unit + ".service") for unit in ("prometheus", "alertmanager", "pushgateway")}
    for unit, score in scores.items():
        assert score <= 3.5, (unit, score)
