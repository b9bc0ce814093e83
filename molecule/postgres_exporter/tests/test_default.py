"""postgres_exporter: live exporter against the Debian PostgreSQL (15 on bookworm, 17 on trixie).

The role created the monitoring user (pg_monitor only); prepare.yml loaded
pg_stat_statements and made a table with dead tuples.
"""

import time

import pytest
import yaml
from testlib import exposure, first_sample, preflight_failure, samples

SECRET = "pgx-Secr3t-pw"
CUSTOM_METRICS = [
    "pg_long_running_queries_count", "pg_long_running_queries_max_duration_seconds",
    "pg_slow_queries", "pg_slow_queries_max_mean_seconds",
    "pg_table_bloat_dead_tuples", "pg_table_bloat_dead_ratio", "pg_table_bloat_estimated_bytes",
    "pg_index_bloat_size_bytes", "pg_index_bloat_estimated_bytes",
    "pg_replication_replica_replay_lag_bytes", "pg_replication_replica_standbys",
    "pg_temp_files_count", "pg_temp_files_bytes",
    "pg_locks_waiting_count",
    "pg_connections_used", "pg_connections_max", "pg_connections_reserved", "pg_connections_used_ratio",
]
# Built-in metrics the dashboards and the postgresql rule pack rely on.
BUILTIN_METRICS = [
    "pg_stat_activity_count", "pg_stat_activity_max_tx_duration", "pg_settings_max_connections",
    "pg_locks_count", "pg_stat_database_deadlocks", "pg_stat_database_temp_bytes", "pg_database_size_bytes",
    "pg_wal_size_bytes", "pg_replication_lag_seconds", "pg_stat_database_blks_hit", "pg_long_running_transactions",
]


def scrape(host):
    return host.check_output("curl -sf http://127.0.0.1:9187/metrics")


def test_service_running_as_unprivileged_user(host):
    svc = host.service("postgres_exporter")
    assert svc.is_running and svc.is_enabled
    assert host.check_output("ps -o user= -C postgres_exporter").strip() == "postgres-exp"


def test_pg_up(host):
    assert samples(scrape(host), "pg_up") == {"": 1.0}


@pytest.mark.parametrize("name", CUSTOM_METRICS + BUILTIN_METRICS)
def test_metric_present(host, name):
    assert samples(scrape(host), name), name + " missing"


def test_queries_file_loaded_without_error(host):
    body = scrape(host)
    assert list(samples(body, "pg_exporter_user_queries_load_error").values()) == [0.0]
    assert samples(body, "pg_exporter_last_scrape_error") == {"": 0.0}


def test_every_custom_query_runs_as_the_monitoring_user(host):
    """Each query (including the standby one that yields no rows here) runs with pg_monitor rights only."""
    queries = yaml.safe_load(host.file("/etc/postgres_exporter/queries.yaml").content_string)
    assert "pg_replication_standby" in queries and "pg_slow" in queries
    for name, query in queries.items():
        res = host.run("PGPASSWORD=%s psql -h 127.0.0.1 -U postgres_exporter -d postgres -XAtqc %s",
                       SECRET, query["query"])
        assert res.rc == 0, "%s: %s" % (name, res.stderr)


def test_monitoring_user_is_least_privilege(host):
    out = host.check_output(
        "runuser -u postgres -- psql -XAtc \"SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolconnlimit, "
        "pg_has_role('postgres_exporter', 'pg_monitor', 'member') FROM pg_roles WHERE rolname = 'postgres_exporter'\"")
    assert out.strip() == "f|f|f|f|5|t"


def test_bloat_estimates_see_the_demo_table(host):
    body = scrape(host)
    dead = [v for labels, v in samples(body, "pg_table_bloat_dead_ratio").items() if 'relname="pgx_bloat_demo"' in labels]
    assert dead and 0.3 < dead[0] <= 0.6, dead
    assert any('indexrelname="pgx_bloat_demo_pkey"' in labels for labels in samples(body, "pg_index_bloat_size_bytes"))


def test_long_running_query_is_counted(host):
    host.run("(runuser -u postgres -- psql -XAtqc 'SELECT pg_sleep(12)' >/dev/null 2>&1 &)")
    time.sleep(5)
    body = scrape(host)
    active = [v for labels, v in samples(body, "pg_long_running_queries_count").items()
              if 'datname="postgres"' in labels and 'state="active"' in labels]
    longest = [v for labels, v in samples(body, "pg_long_running_queries_max_duration_seconds").items()
               if 'datname="postgres"' in labels and 'state="active"' in labels]
    assert active == [1.0], body
    assert longest and longest[0] >= 3


def test_slow_queries_counted_from_pg_stat_statements(host):
    host.check_output("runuser -u postgres -- psql -XAtqc 'SELECT pg_sleep(0.3)'")
    slow = [v for labels, v in samples(scrape(host), "pg_slow_queries").items() if 'datname="postgres"' in labels]
    assert slow and slow[0] >= 1


def test_connections_ratio_is_consistent(host):
    body = scrape(host)
    used = first_sample(body, "pg_connections_used")
    cmax = first_sample(body, "pg_connections_max")
    reserved = first_sample(body, "pg_connections_reserved")
    ratio = first_sample(body, "pg_connections_used_ratio")
    assert used >= 1 and cmax >= 10
    assert abs(ratio - used / (cmax - reserved)) < 1e-6


def test_secret_files(host):
    for path in ("/etc/postgres_exporter/password", "/etc/postgres_exporter/postgres_exporter.env"):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "postgres-exp", 0o640), path
    assert host.file("/etc/postgres_exporter/password").content_string == SECRET
    env = host.file("/etc/postgres_exporter/postgres_exporter.env").content_string
    assert "DATA_SOURCE_PASS_FILE=/etc/postgres_exporter/password" in env
    assert SECRET not in env


def test_secret_not_in_unit_ps_or_environment(host):
    assert SECRET not in host.check_output("systemctl cat postgres_exporter")
    assert "EnvironmentFile=/etc/postgres_exporter/postgres_exporter.env" in host.check_output("systemctl cat postgres_exporter")
    assert SECRET not in host.check_output("ps -eo args ww")
    pid = host.check_output("systemctl show -p MainPID --value postgres_exporter")
    assert SECRET not in host.check_output("tr '\\0' '\\n' < /proc/%s/environ" % pid)


def test_preflight_rejects_missing_secret():
    """Bad input fails early with a message naming the variable (preflight only, on the controller)."""
    out = preflight_failure(__file__)
    assert "postgres_exporter: set postgres_exporter_db_password" in out, out


def test_security_score(host):
    assert exposure(host, "postgres_exporter.service") <= 3.5
