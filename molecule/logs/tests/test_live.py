"""Live tier of the logs scenario: real Loki and Promtail on lg-loki (docs/logs.md "Live tier").

Runs only when MONITORING_STACK_LOKI_BINARY and MONITORING_STACK_PROMTAIL_BINARY name real linux-amd64
binaries on the controller (prepare.yml copies them to /usr/local/bin on lg-loki, the roles' "binary" install
source starts them). Without them every test here is SKIPPED with that reason, and a skipped test is not a pass:
nothing here then ran.

What runs live, against lg-loki only (lg-alloy runs Alloy, which has no binary in either tier):
- Loki is ready, ``loki -verify-config`` and ``promtail -check-syntax`` pass on the rendered configs;
- lines written on the host (an nginx request and error, a PostgreSQL error, an Odoo line, a Django JSON line,
  and a journal line of nginx.service when the Promtail binary has the journal target) are queryable in Loki
  under the tenant, with the expected labels and with the timestamps they were written with, read in the
  host's zone (Asia/Tokyo, east of UTC);
- the ruler has loaded the generated log-alert rules, and NginxCriticalLogged fires on a crit line;
- an agent switch promtail -> alloy -> promtail keeps the read positions: counted in Loki, every line written
  before, during and after the switch is there exactly once (the Alloy leg is rendered only: Alloy has no
  binary, so it never reads a line; the proof is that Promtail's saved offset is exactly the file size at the
  switch, and that Promtail goes on from there when it comes back);
- a logrotate rotation (rename + create) of the django source loses and duplicates no line;
- a loki_config_extra typo is refused: a top-level one by the role's check, a nested one by loki -verify-config,
  and the running configuration is left as it was.
"""

import datetime
import json
import os
import time
import uuid
from urllib.parse import urlencode

import pytest
import yaml
from testlib import ROOT, molecule_inventory, poll, run_playbook

LOKI_BINARY = os.environ.get("MONITORING_STACK_LOKI_BINARY", "")
PROMTAIL_BINARY = os.environ.get("MONITORING_STACK_PROMTAIL_BINARY", "")
LIVE = bool(LOKI_BINARY and PROMTAIL_BINARY)
pytestmark = pytest.mark.skipif(
    not LIVE, reason="live tier SKIPPED: MONITORING_STACK_LOKI_BINARY and MONITORING_STACK_PROMTAIL_BINARY are not both "
    "set (no Loki or Promtail binary on this machine), so Loki and Promtail never ran here and nothing was shipped, "
    "queried, rotated or switched live")

# Loki and Promtail run on lg-loki only.
testinfra_hosts = ["lg-loki"]

LOKI = "http://127.0.0.1:3100"
TENANT = "molecule"
ZONE = datetime.timezone(datetime.timedelta(hours=9))  # Asia/Tokyo, lg-loki's zone in the live tier (no DST)
CONVERGE = os.path.join(ROOT, "molecule", "_shared", "converge.yml")
RUN = uuid.uuid4().hex[:10]


def _curl_json(host, path, **params):
    url = LOKI + path + ("?" + urlencode(params) if params else "")
    # categorize-labels: "stream" holds the stream (index) labels only; structured metadata comes apart per entry.
    return json.loads(host.check_output("curl -sf --max-time 20 -H %s -H %s %s", "X-Scope-OrgID: " + TENANT,
                                        "X-Loki-Response-Encoding-Flags: categorize-labels", url))


def _entries(host, query, since=3600):
    """[(stream labels, ns timestamp, line, structured metadata)] of a LogQL query over the last ``since`` seconds."""
    now = time.time_ns()
    answer = _curl_json(host, "/loki/api/v1/query_range", query=query, start=now - since * 10**9, end=now + 60 * 10**9,
                        limit=5000, direction="forward")
    assert answer["status"] == "success", answer
    return [(stream["stream"], int(value[0]), value[1], (value[2] if len(value) > 2 else {}).get("structuredMetadata", {}))
            for stream in answer["data"]["result"] for value in stream["values"]]


def _wait_entries(host, query, count, what, timeout=90):
    """The entries of a query once there are at least ``count`` of them (fails after ``timeout`` seconds)."""
    def enough():
        found = _entries(host, query)
        return found if len(found) >= count else None
    return poll(enough, timeout=timeout, interval=3, what=what)


def _append(host, path, lines):
    """Append lines to a file as an application would (printf gets each line as its own argument)."""
    host.check_output("printf '%%s\\n'" + " %s" * len(lines) + " >> %s", *lines, path)


def _converge(*extra_vars, tags=None):
    rc, out = run_playbook(CONVERGE, *extra_vars, inventory=molecule_inventory(), connection=None, tags=tags, timeout=1200)
    return rc, out


def _django_lines(tag, count):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [json.dumps({"timestamp": stamp, "level": "INFO", "logger": "live", "message": "%s-%s %03d" % (RUN, tag, i)},
                       separators=(",", ":")) for i in range(count)]


def _exactly_once(host, tag, count, what):
    """Every numbered django line of ``tag`` is in Loki exactly once; returns nothing, fails with what is wrong."""
    query = '{job="django", host="lg-loki"} |= "%s-%s "' % (RUN, tag)
    _wait_entries(host, query, count, what)
    time.sleep(12)  # a late duplicate would arrive within Promtail's batch and sync periods
    lines = [json.loads(entry[2])["message"] for entry in _entries(host, query)]
    numbers = sorted(int(m.rsplit(" ", 1)[1]) for m in lines)
    assert numbers == list(range(count)), "%s: %d lines in Loki for %d written: %s" % (what, len(numbers), count, numbers)


# --------------------------------------------------------------------------- the daemons


def test_live_loki_ready_and_configs_verified_by_the_binaries(host):
    assert poll(lambda: host.run("curl -sf %s/ready", LOKI).stdout.strip() == "ready", timeout=120, what="Loki /ready")
    verify = host.run("runuser -u loki -- /usr/local/bin/loki -config.file=/etc/loki/config.yml -verify-config")
    assert verify.rc == 0, verify.stdout + verify.stderr
    syntax = host.run("runuser -u promtail -- /usr/local/bin/promtail -config.file=/etc/promtail/config.yml -check-syntax")
    assert syntax.rc == 0, syntax.stdout + syntax.stderr
    assert "3.6" in host.check_output("/usr/local/bin/loki -version")


# --------------------------------------------------------------------------- lines shipped, labels, zone


def test_live_lines_of_each_source_arrive_with_labels_and_host_zone_times(host):
    local = datetime.datetime.now(ZONE).replace(microsecond=0) - datetime.timedelta(minutes=7)
    utc = datetime.datetime.now(datetime.timezone.utc)
    # nginx access: a real request; nginx error: a line in nginx's own format, 7 minutes ago in LOCAL time.
    host.run("curl -s -o /dev/null http://127.0.0.1/live-%s", RUN)
    _append(host, "/var/log/nginx/error.log",
            ["%s [error] 4242#4242: *1 live-%s probe, client: 127.0.0.1" % (local.strftime("%Y/%m/%d %H:%M:%S"), RUN)])
    # PostgreSQL: a real error.
    host.run("runuser -u postgres -- psql -c %s", "select 'live-%s'::int" % RUN)
    # Odoo (UTC times) and Django (JSON).
    _append(host, "/var/log/odoo/odoo-server.log",
            ["%s,000 4321 WARNING shop odoo.live: live-%s odoo" % (utc.strftime("%Y-%m-%d %H:%M:%S"), RUN)])
    _append(host, "/var/log/django/app.log", _django_lines("labels", 1))

    expected = {
        "nginx access": ('{job="nginx"} |= "GET /live-%s "' % RUN, {"job": "nginx"}),
        "nginx error": ('{job="nginx", level="error"} |= "live-%s probe"' % RUN, {"job": "nginx", "level": "error"}),
        "postgresql": ('{job="postgresql"} |= "live-%s"' % RUN, {"job": "postgresql", "level": "ERROR"}),
        "odoo": ('{job="odoo"} |= "live-%s odoo"' % RUN, {"job": "odoo", "level": "WARNING"}),
        "django": ('{job="django"} |= "%s-labels"' % RUN, {"job": "django", "level": "INFO"}),
    }
    found = {}
    for what, (query, labels) in expected.items():
        entries = _wait_entries(host, query, 1, "the %s line in Loki (tenant %s)" % (what, TENANT))
        stream, stamp = entries[0][0], entries[0][1]
        for name, value in dict(labels, host="lg-loki", environment="molecule").items():
            assert stream.get(name) == value, (what, stream)
        # Unbounded values stay out of the stream labels: the file name is structured metadata.
        assert "filename" not in stream and "path" not in stream, (what, stream)
        if what != "journal":
            assert entries[0][3].get("filename", "").startswith("/var/log/"), (what, entries[0])
        found[what] = stamp
    # The nginx error time was written in Asia/Tokyo local time without a zone: read in the host's zone it is
    # exactly that instant (read as UTC it would be 9 h in the future and rejected by Loki).
    assert found["nginx error"] == int(local.timestamp()) * 10**9, (found["nginx error"], local.isoformat())
    assert found["odoo"] == int(utc.replace(microsecond=0).timestamp()) * 10**9


def test_live_journal_line_arrives(host):
    """A line logged from nginx.service's cgroup (the journal source keeps the nginx and postgresql units only)."""
    if "support for reading the systemd journal is not compiled" in host.check_output("journalctl -u promtail --no-pager"):
        pytest.skip("this Promtail binary was built without the journal target (upstream builds it with cgo and the "
                    "promtail_journal_enabled tag): the journal source was NOT checked live")
    journal = host.run("sh -c %s", "cg=$(cut -d: -f3 /proc/$(systemctl show -p MainPID --value nginx.service)/cgroup) && "
                       "echo $$ > /sys/fs/cgroup$cg/cgroup.procs && "
                       "echo live-%s journal | systemd-cat -t nginx-live -p warning" % RUN)
    assert journal.rc == 0, journal.stderr
    entries = _wait_entries(host, '{job="systemd-journal", unit="nginx.service"} |= "live-%s journal"' % RUN, 1,
                            "the journal line in Loki (tenant %s)" % TENANT)
    stream = entries[0][0]
    for name, value in {"job": "systemd-journal", "unit": "nginx.service", "level": "warning", "host": "lg-loki",
                        "environment": "molecule"}.items():
        assert stream.get(name) == value, stream


def test_live_the_tenant_is_enforced(host):
    no_tenant = host.run("curl -s -o /dev/null -w '%%{http_code}' '%s/loki/api/v1/labels'", LOKI)
    assert no_tenant.stdout.strip() == "401", no_tenant.stdout


# --------------------------------------------------------------------------- log alerts


def test_live_ruler_loaded_the_generated_rules_and_an_alert_fires(host):
    def rules():
        got = host.run("curl -sf -H 'X-Scope-OrgID: %s' %s/loki/api/v1/rules", TENANT, LOKI)
        return yaml.safe_load(got.stdout) if got.rc == 0 and got.stdout.strip() else None
    loaded = poll(rules, timeout=120, interval=5, what="the ruler's rules of tenant %s" % TENANT)
    groups = {g["name"]: g for namespace in loaded.values() for g in namespace}
    assert sorted(groups) == ["custom.alerts", "logs"], sorted(groups)
    alerts = sorted(r["alert"] for g in groups.values() for r in g["rules"])
    assert alerts == ["ApplicationErrorBurst", "LogBackupFailure", "NginxCriticalLogged"]
    local = datetime.datetime.now(ZONE).strftime("%Y/%m/%d %H:%M:%S")
    _append(host, "/var/log/nginx/error.log", ["%s [crit] 4242#4242: *2 live-%s crit probe" % (local, RUN)])

    def firing():
        got = _curl_json(host, "/prometheus/api/v1/alerts")
        return [a for a in got["data"]["alerts"] if a["labels"].get("alertname") == "NginxCriticalLogged"]
    fired = poll(firing, timeout=180, interval=10, what="NginxCriticalLogged evaluated by the Loki ruler")
    assert fired[0]["labels"]["host"] == "lg-loki"


# --------------------------------------------------------------------------- agent switch and rotation


def test_live_agent_switch_promtail_alloy_promtail_ships_each_line_once(host):
    log = "/var/log/django/app.log"
    _append(host, log, _django_lines("before", 40))
    _exactly_once(host, "before", 40, "lines written before the switch")

    rc, out = _converge({"log_shipper_agent": "alloy", "log_shipper_binary_path": "/usr/local/bin/alloy"})
    assert rc == 0, out[-6000:]
    assert not host.service("promtail").is_running and not host.file("/etc/systemd/system/promtail.service").exists
    size = int(host.check_output("stat -c %%s %s", log))
    saved = yaml.safe_load(host.file("/var/lib/promtail/positions.yaml").content_string)["positions"]
    # Zero duplicates by position file contents: Promtail stopped having read the whole file and says so.
    assert int(saved[log]) == size, (saved, size)
    # Alloy gets Promtail's positions as they were at the stop (its own copy, read through legacy_positions_file).
    alloy = host.file("/etc/alloy/config.alloy").content_string
    assert 'legacy_positions_file = "/var/lib/alloy/promtail-positions.yaml"' in alloy
    handed = yaml.safe_load(host.file("/var/lib/alloy/promtail-positions.yaml").content_string)["positions"]
    assert int(handed[log]) == size, (handed, size)
    # Alloy has no binary (rendered only): these lines wait for the agent that comes back.
    _append(host, log, _django_lines("during", 25))

    rc, out = _converge()
    assert rc == 0, out[-6000:]
    assert host.service("promtail").is_running and not host.file("/etc/systemd/system/alloy.service").exists
    _append(host, log, _django_lines("after", 15))
    for tag, count in (("before", 40), ("during", 25), ("after", 15)):
        _exactly_once(host, tag, count, "lines written %s the switch" % tag)


def test_live_rotation_loses_and_duplicates_no_line(host):
    log = "/var/log/django/app.log"
    _append(host, log, _django_lines("prerotate", 30))
    _exactly_once(host, "prerotate", 30, "lines written before the rotation")
    _append(host, log, _django_lines("atrotate", 10))  # possibly not read yet when the file is renamed
    rotated = host.run("logrotate -f /etc/logrotate.d/monitoring-stack-django")
    assert rotated.rc == 0, rotated.stderr
    _append(host, log, _django_lines("postrotate", 20))
    for tag, count in (("prerotate", 30), ("atrotate", 10), ("postrotate", 20)):
        _exactly_once(host, tag, count, "lines written %s" % tag)


# --------------------------------------------------------------------------- bad input


def test_live_loki_config_extra_typos_are_refused_and_loki_keeps_running(host):
    before = host.check_output("sha256sum /etc/loki/config.yml")
    rc, out = _converge({"loki_config_extra": {"limits_confg": {"retention_period": "1h"}}}, tags="loki_configure")
    assert rc != 0 and "limits_confg" in out and "limits_config" in out, out[-4000:]
    rc, out = _converge({"loki_config_extra": {"limits_config": {"retention_perod": "1h"}}}, tags="loki_configure")
    assert rc != 0 and "retention_perod" in out, out[-4000:]
    assert host.check_output("sha256sum /etc/loki/config.yml") == before
    assert host.run("curl -sf %s/ready", LOKI).stdout.strip() == "ready"
