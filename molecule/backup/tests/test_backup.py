# pylint: disable=missing-function-docstring  # test names say what they check
"""backup_monitor: real pg_dump jobs reporting through a real Pushgateway into Prometheus.

The tests run in file order; later ones rely on the dumps made by earlier ones.
Service names and addresses can be changed with BACKUP_TEST_* environment variables.
"""

import os
import re
import time

import pytest
from testlib import dashboard_queries, get_json, poll, prom_query, query_status

PROMETHEUS = os.environ.get("BACKUP_TEST_PROMETHEUS_URL", "http://127.0.0.1:9090")
PUSHGATEWAY = os.environ.get("BACKUP_TEST_PUSHGATEWAY_URL", "http://127.0.0.1:9091")
PUSHGATEWAY_SERVICE = os.environ.get("BACKUP_TEST_PUSHGATEWAY_SERVICE", "pushgateway")
INSTANCE = "bk-bookworm"
SPOOL = "/var/spool/backup-metrics"
WAIT = 150  # seconds: scrape + rule evaluation intervals of the scenario are 5 s


def now(host):
    """Unix time on the test host."""
    return float(host.check_output("date +%s.%N"))


def start_job(host, name):
    """Start backup-<name>.service (a oneshot: returns when the job ended); return (rc, seconds)."""
    started = time.monotonic()
    result = host.run("systemctl start backup-%s.service", name)
    return result.rc, time.monotonic() - started


def wait_value(host, expr, predicate, what):
    """Wait until the query has exactly one series whose value satisfies predicate; return that series."""
    def check():
        result = prom_query(host, expr, PROMETHEUS)
        if len(result) == 1 and predicate(float(result[0]["value"][1])):
            return result[0]
        return None
    return poll(check, timeout=WAIT, interval=2, what=what)


def pushgateway_sample(host, name, job, kind=None):
    """Value of one sample on the Pushgateway's /metrics, or None."""
    body = host.check_output(f"curl -sf {PUSHGATEWAY}/metrics")
    for line in body.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', line.split("}")[0]))
        if labels.get("job") == job and labels.get("kind") == kind and labels.get("instance") == INSTANCE:
            return float(line.rsplit(" ", 1)[1])
    return None


def spooled(host):
    """Names of the spooled pushes."""
    return [name for name in host.check_output("ls -1 %s", SPOOL).split() if name.endswith(".json")]


def dumps(host, job="pg_app"):
    """Finished dumps of a pg_dump job, oldest first."""
    return sorted(host.check_output("ls -1 /var/backups/%s", job).split())


def scratch_db_exists(host):
    """Whether the restore test left its scratch database behind."""
    out = host.check_output("runuser -u postgres -- psql -XAtqc \"SELECT datname FROM pg_database WHERE datname LIKE 'restore_test_%%'\"")
    return bool(out.strip())


# --------------------------------------------------------------------------- installation

def test_hook_config_and_directories(host):
    hook = host.file("/usr/local/bin/backup-metrics")
    assert hook.mode == 0o755 and hook.user == "root"
    assert host.group("backup-metrics").exists
    config = host.file("/etc/backup-metrics.conf")
    assert (config.user, config.group, config.mode) == ("root", "backup-metrics", 0o640)
    assert "url = http://127.0.0.1:9091" in config.content_string
    for path in (SPOOL, "/var/lib/backup-metrics"):
        directory = host.file(path)
        assert directory.is_directory and directory.group == "backup-metrics" and directory.mode == 0o2770
    assert host.run("/usr/local/bin/backup-metrics check-config").rc == 0


def test_units_are_hardened_and_timers_set(host):
    unit = host.file("/etc/systemd/system/backup-pg_app.service").content_string
    for line in ("Type=oneshot", "User=postgres", "SupplementaryGroups=backup-metrics", "ProtectSystem=strict", "ProtectHome=read-only",
                 "PrivateTmp=yes", "NoNewPrivileges=yes", "RemoveIPC=no",
                 "ReadWritePaths=/var/backups/pg_app /var/spool/backup-metrics /var/lib/backup-metrics"):
        assert line in unit
    assert host.service("backup-pg_app.timer").is_enabled
    assert host.service("backup-pg_app.timer").is_running
    assert not host.service("backup-pg_missing.timer").is_enabled


# --------------------------------------------------------------------------- success and failure

def test_successful_backup_is_visible_in_prometheus(host):
    started = now(host)
    rc, _seconds = start_job(host, "pg_app")
    assert rc == 0, host.run("journalctl -u backup-pg_app.service -n 50 --no-pager").stdout
    assert dumps(host) and dumps(host)[-1].endswith(".dump")
    series = wait_value(host, 'backup_last_status{job_name="pg_app"}', lambda v: v == 1, "backup_last_status 1 of pg_app")
    labels = series["metric"]
    assert labels["job"] == "pg_app"
    assert labels["instance"] == INSTANCE
    assert labels["tier"] == "molecule"
    assert "kind" not in labels
    success = wait_value(host, 'backup_last_success_timestamp_seconds{job_name="pg_app"}', lambda v: v >= started - 1,
                         "a fresh success time stamp")
    assert float(success["value"][1]) <= now(host)
    assert float(prom_query(host, 'backup_size_bytes{job_name="pg_app"}', PROMETHEUS)[0]["value"][1]) > 0
    assert float(prom_query(host, 'backup_expected_max_duration_seconds{job_name="pg_app"}', PROMETHEUS)[0]["value"][1]) == 600
    assert prom_query(host, 'backup_hook_info{job_name="pg_app"}', PROMETHEUS)[0]["metric"]["version"]


def test_failed_backup_fires_backup_failed(host):
    rc, _seconds = start_job(host, "pg_missing")
    assert rc != 0
    assert host.run("systemctl show -p Result --value backup-pg_missing.service").stdout.strip() == "exit-code"
    wait_value(host, 'backup_last_status{job_name="pg_missing"}', lambda v: v == 0, "backup_last_status 0 of pg_missing")
    assert float(prom_query(host, 'backup_last_exit_code{job_name="pg_missing"}', PROMETHEUS)[0]["value"][1]) != 0
    assert float(prom_query(host, 'backup_last_success_timestamp_seconds{job_name="pg_missing"}', PROMETHEUS)[0]["value"][1]) == 0

    def alert():
        alerts = get_json(host, PROMETHEUS + "/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["labels"].get("alertname") == "BackupFailed" and a["state"] in ("pending", "firing")]
    found = poll(alert, timeout=WAIT, interval=2, what="BackupFailed pending or firing")
    assert {a["labels"].get("job_name") for a in found} == {"pg_missing"}


# --------------------------------------------------------------------------- Pushgateway outage

def test_backup_survives_a_pushgateway_outage_and_flush_delivers(host):
    host.run("rm -f %s/*.json", SPOOL)
    assert host.run("systemctl stop %s", PUSHGATEWAY_SERVICE).rc == 0
    try:
        started = now(host)
        rc, seconds = start_job(host, "pg_app")
        assert rc == 0, host.run("journalctl -u backup-pg_app.service -n 50 --no-pager").stdout
        assert seconds < 30, f"the outage slowed the backup down: {seconds:.1f} s"
        assert len(spooled(host)) == 1
        journal = host.run("journalctl -u backup-pg_app.service -n 30 --no-pager").stdout
        assert "spooled" in journal
    finally:
        assert host.run("systemctl start %s", PUSHGATEWAY_SERVICE).rc == 0
    poll(lambda: host.run("curl -sf %s/-/ready", PUSHGATEWAY).rc == 0, timeout=WAIT, interval=2, what="the Pushgateway to be ready")
    flush = host.run("/usr/local/bin/backup-metrics flush")
    assert flush.rc == 0, flush.stderr
    assert spooled(host) == []
    end = pushgateway_sample(host, "backup_last_end_timestamp_seconds", "pg_app")
    assert end is not None and end >= started
    assert pushgateway_sample(host, "backup_last_status", "pg_app") == 1


# --------------------------------------------------------------------------- restore tests

def test_restore_test_reports_success(host):
    rc, _seconds = start_job(host, "pg_app_restore")
    assert rc == 0, host.run("journalctl -u backup-pg_app_restore.service -n 50 --no-pager").stdout
    series = wait_value(host, 'backup_restore_test_status{job_name="pg_app"}', lambda v: v == 1, "restore test status 1")
    assert series["metric"]["kind"] == "restore_test"
    assert series["metric"]["job"] == "pg_app"
    # The restore-test push did not replace the backup group.
    assert float(prom_query(host, 'backup_last_status{job_name="pg_app",kind=""}', PROMETHEUS)[0]["value"][1]) == 1
    assert not scratch_db_exists(host)


def test_corrupted_dump_reports_restore_failure(host):
    assert start_job(host, "pg_app")[0] == 0
    newest = "/var/backups/pg_app/" + dumps(host)[-1]
    last_success = pushgateway_sample(host, "backup_restore_test_last_success_timestamp_seconds", "pg_app", "restore_test")
    assert last_success and last_success > 0
    host.check_output("head -c 4096 /dev/urandom > %s", newest)
    try:
        rc, _seconds = start_job(host, "pg_app_restore")
        assert rc != 0
        assert pushgateway_sample(host, "backup_restore_test_status", "pg_app", "restore_test") == 0
        kept = pushgateway_sample(host, "backup_restore_test_last_success_timestamp_seconds", "pg_app", "restore_test")
        assert kept == pytest.approx(last_success)
        wait_value(host, 'backup_restore_test_status{job_name="pg_app"}', lambda v: v == 0, "restore test status 0")
        assert not scratch_db_exists(host)
    finally:
        host.run("rm -f %s", newest)
        host.run("systemctl start backup-pg_app.service")


def test_files_job_archives_system_files(host):
    rc, _seconds = start_job(host, "etc_files")
    assert rc == 0, host.run("journalctl -u backup-etc_files.service -n 50 --no-pager").stdout
    archives = dumps(host, "etc_files")
    assert archives and archives[-1].endswith(".tar.gz")
    listing = host.check_output("tar -tzf /var/backups/etc_files/%s", archives[-1])
    assert "etc/postgresql/" in listing
    assert "etc/backup-metrics/jobs/pg_app.json" in listing
    assert pushgateway_sample(host, "backup_last_status", "etc_files") == 1
    assert pushgateway_sample(host, "backup_size_bytes", "etc_files") > 0


# --------------------------------------------------------------------------- Backups dashboard

def test_backups_dashboard_queries_return_data(host):
    """Every query of the shipped Backups dashboard returns data from this live Prometheus."""
    queries = dashboard_queries(titles={"Backups"})
    status = query_status(host, queries, PROMETHEUS)
    assert len(status) == len(queries) > 5
    missing = sorted(label for label, state in status.items() if state != "data")
    assert not missing, missing
