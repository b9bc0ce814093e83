"""postgres_exporter: live exporter against the Debian PostgreSQL (15 on bookworm, 17 on trixie).

The role created the monitoring user (pg_monitor only); prepare.yml loaded
pg_stat_statements, made a table with dead tuples, scanned it sequentially and by index, and made two
materialized views (one refreshed, one WITH NO DATA).
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


def _of(body, name, **labels):
    """Values of name whose labels include all of labels."""
    wanted = ['%s="%s"' % item for item in labels.items()]
    return [v for key, v in samples(body, name).items() if all(w in key for w in wanted)]


def test_table_depth_sizes_scans_and_index_hits(host):
    """Seed depth: top table and index sizes, sequential scans per table, per-index cache hits."""
    body = scrape(host)
    table = _of(body, "pg_top_relations_bytes", relname="pgx_bloat_demo", kind="table")
    index = _of(body, "pg_top_relations_bytes", relname="pgx_bloat_demo_pkey", kind="index")
    assert table and index and table[0] > index[0] > 0, (table, index)
    assert _of(body, "pg_stat_user_tables_seq_scan", relname="pgx_bloat_demo")[0] >= 1
    assert _of(body, "pg_stat_user_tables_idx_scan", relname="pgx_bloat_demo")[0] >= 1
    hits = _of(body, "pg_statio_user_indexes_idx_blks_hit_total", indexrelname="pgx_bloat_demo_pkey")
    assert hits and hits[0] >= 1, list(samples(body, "pg_statio_user_indexes_idx_blks_hit_total"))[:3]


def test_materialized_views_populated_size_and_refresh_age(host):
    body = scrape(host)
    assert _of(body, "pg_matview_populated", matviewname="pgx_matview_demo") == [1.0]
    assert _of(body, "pg_matview_populated", matviewname="pgx_matview_never") == [0.0]
    assert _of(body, "pg_matview_size_bytes", matviewname="pgx_matview_demo")[0] > 0
    # With postgres_exporter_matview_refresh_age: the age of the last refresh, a number (NaN without).
    age = _of(body, "pg_matview_refresh_age_seconds", matviewname="pgx_matview_demo")
    assert age and 0 <= age[0] < 3600, age


def test_idle_in_transaction_sessions_are_counted(host):
    # A session that opens a transaction and then waits in a shell command: "idle in transaction" for 15 s.
    host.check_output("printf 'BEGIN;\\nSELECT 1;\\n\\\\! sleep 15\\nCOMMIT;\\n' > /tmp/pgx-idle.sql && chmod 644 /tmp/pgx-idle.sql")
    host.run("(runuser -u postgres -- psql -XAtq -f /tmp/pgx-idle.sql >/dev/null 2>&1 &)")
    time.sleep(4)
    idle = [v for key, v in samples(scrape(host), "pg_stat_activity_count").items()
            if 'state="idle in transaction"' in key and 'datname="postgres"' in key]
    assert idle and idle[0] >= 1, idle


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
