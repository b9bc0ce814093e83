"""Centralised logs: Loki + Promtail (lg-loki) and Alloy (lg-alloy), rendered but NOT run.

What was NOT run live: no Loki, Promtail or Alloy binary can be had on this machine, so all
three roles ran with install source ``binary`` pointing at a path that does not exist.
Nothing here starts a daemon, pushes a log line, queries Loki, or runs ``loki -verify-config``,
``promtail -check-syntax`` or ``alloy validate``; the configs are only checked structurally
(they parse, they hold the expected sources, labels and stages). What is verified on real
Debian 12 hosts: users and groups (adm, systemd-journal), POSIX ACLs (getfacl) on the
PostgreSQL and application log directories, directories, hardened systemd units, secrets
file modes, and that no service is started; the logrotate files of the rotated sources, and a forced
rotation (rename + create) on the host.

With MONITORING_STACK_LOKI_BINARY and MONITORING_STACK_PROMTAIL_BINARY set (the live tier), Loki and Promtail
run on lg-loki and tests/test_live.py asserts their behaviour; here only "not started" becomes "started" for
them, and Promtail's positions are checked as the running Promtail rewrites them.
"""

import importlib.util
import os

import yaml

# The live tier (tests/test_live.py): real Loki and Promtail binaries on lg-loki. The checks below stay as strict
# without it; with it, the few that say "not started" or read files the running daemons rewrite expect the live state.
LIVE = bool(os.environ.get("MONITORING_STACK_LOKI_BINARY") and os.environ.get("MONITORING_STACK_PROMTAIL_BINARY"))

SOURCES = ["nginx_access", "nginx_error", "postgresql", "journal", "odoo", "django", "fastapi", "audit"]
FILE_SOURCES = [s for s in SOURCES if s != "journal"]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _alloy_syntax():
    """The collection's Alloy syntax parser (standard library only), loaded by path."""
    spec = importlib.util.spec_from_file_location("_alloy_syntax", os.path.join(ROOT, "plugins", "module_utils", "_alloy_syntax.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _name(host):
    return host.ansible.get_variables()["inventory_hostname"]


def _agent(host):
    return "promtail" if _name(host) == "lg-loki" else "alloy"


def test_agent_user_reads_logs_through_groups(host):
    agent = _agent(host)
    user = host.user(agent)
    assert user.shell == "/usr/sbin/nologin"
    assert "adm" in user.groups
    assert "systemd-journal" in user.groups


def test_nginx_logs_readable_by_adm(host):
    log = host.file("/var/log/nginx/access.log")
    assert log.exists and log.group == "adm" and log.mode == 0o640


def test_acls_on_postgresql_and_app_dirs(host):
    agent = _agent(host)
    for path in ["/var/log/postgresql", "/var/log/odoo", "/var/log/django"]:
        acl = host.check_output("getfacl -p %s", path)
        assert "user:%s:r-x" % agent in acl, acl
        assert "default:user:%s:r-x" % agent in acl, acl
    odoo_log = host.check_output("getfacl -p /var/log/odoo/odoo-server.log")
    assert "user:%s:r--" % agent in odoo_log
    assert not host.file("/srv/fastapi/logs").exists


def test_agent_can_actually_read_a_protected_log(host):
    agent = _agent(host)
    cmd = host.run("runuser -u %s -- head -c 20 /var/log/odoo/odoo-server.log", agent)
    assert cmd.rc == 0 and cmd.stdout.startswith("2024-05-01")
    assert host.run("runuser -u %s -- head -c 1 /var/log/nginx/error.log", agent).rc == 0


def test_persistent_data_dir(host):
    agent = _agent(host)
    data = host.file("/var/lib/%s" % agent)
    assert data.is_directory and data.user == agent and data.mode == 0o750


def test_password_file_is_secret(host):
    agent = _agent(host)
    secret = host.file("/etc/%s/loki.password" % agent)
    assert secret.user == "root" and secret.group == agent and secret.mode == 0o640
    assert secret.content_string == "molecule-log-secret"


def test_unit_hardened_and_not_started(host):
    agent = _agent(host)
    names = [agent] + (["loki"] if _name(host) == "lg-loki" else [])
    for name in names:
        unit = host.file("/etc/systemd/system/%s.service" % name).content_string
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet=",
                     "User=%s" % name, "ReadWritePaths=/var/lib/%s" % name):
            assert line in unit, (name, line)
        svc = host.service(name)
        if LIVE and name in ("loki", "promtail"):
            assert svc.is_running and svc.is_enabled, name
            continue
        assert not svc.is_running
        assert not svc.is_enabled
    if agent == "promtail":
        unit = host.file("/etc/systemd/system/promtail.service").content_string
        assert "-config.file=/etc/promtail/config.yml" in unit and "ExecReload=" in unit
        assert "PrivateUsers" not in unit
    else:
        unit = host.file("/etc/systemd/system/alloy.service").content_string
        assert "--storage.path=/var/lib/alloy/data" in unit and "ExecReload=" in unit


def test_promtail_config(host):
    if _agent(host) != "promtail":
        return
    cfg_file = host.file("/etc/promtail/config.yml")
    assert cfg_file.mode == 0o640 and cfg_file.group == "promtail"
    cfg = yaml.safe_load(cfg_file.content_string)
    assert cfg["positions"]["filename"] == "/var/lib/promtail/positions.yaml"
    client = cfg["clients"][0]
    assert client["tenant_id"] == "molecule"
    assert client["basic_auth"] == {"username": "shipper", "password_file": "/etc/promtail/loki.password"}
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert sorted(jobs) == sorted(SOURCES)
    labels = jobs["nginx_access"]["static_configs"][0]["labels"]
    assert labels == {"job": "nginx", "host": "lg-loki", "environment": "molecule", "__path__": "/var/log/nginx/*access.log"}
    assert "journal" in jobs["journal"]
    django_stages = jobs["django"]["pipeline_stages"]
    assert {"labels": {"level": "level"}} in django_stages
    assert any("correlation_id" in s.get("structured_metadata", {}) for s in django_stages)
    for job in cfg["scrape_configs"]:
        for stage in job.get("pipeline_stages", []):
            if "labels" in stage:
                assert not {"correlation_id", "path", "filename"} & set(stage["labels"])


def test_alloy_config(host):
    if _agent(host) != "alloy":
        return
    cfg_file = host.file("/etc/alloy/config.alloy")
    assert cfg_file.mode == 0o640 and cfg_file.group == "alloy"
    text = cfg_file.content_string
    assert text.startswith("//")
    # Parsed with the collection's Alloy syntax parser (no alloy binary here to run alloy validate).
    syntax = _alloy_syntax()
    tree = syntax.parse(text)
    declared = set(syntax.blocks(tree))
    for name in SOURCES:
        assert ("loki.process", name) in declared
    assert syntax.undeclared_references(tree) == []
    assert 'url = "http://lg-loki:3100/loki/api/v1/push"' in text
    assert 'password_file = "/etc/alloy/loki.password"' in text
    assert '"host" = "lg-alloy"' in text


def test_loki_config(host):
    if _name(host) != "lg-loki":
        return
    cfg_file = host.file("/etc/loki/config.yml")
    assert cfg_file.mode == 0o640 and cfg_file.group == "loki"
    cfg = yaml.safe_load(cfg_file.content_string)
    assert cfg["auth_enabled"] is True
    assert cfg["server"]["http_listen_port"] == 3100
    assert cfg["schema_config"]["configs"][0]["store"] == "tsdb"
    assert cfg["schema_config"]["configs"][0]["schema"] == "v13"
    assert cfg["compactor"]["retention_enabled"] is True
    assert cfg["compactor"]["delete_request_store"] == "filesystem"
    assert cfg["limits_config"]["retention_period"] == "720h"
    assert cfg["analytics"]["reporting_enabled"] is False
    assert host.file("/var/lib/loki").user == "loki"


# --------------------------------------------------------------------------- issue #13, log side


def test_the_other_agent_is_stopped_disabled_and_removed(host):
    """prepare.yml left a running, enabled stand-in of the other agent: log_shipper switched it off."""
    other = "alloy" if _name(host) == "lg-loki" else "promtail"
    assert not host.file("/etc/systemd/system/%s.service" % other).exists
    assert host.run("systemctl is-active %s.service", other).stdout.strip() != "active"
    assert host.run("systemctl is-enabled %s.service", other).stdout.strip() not in ("enabled", "static")


def test_alloy_takes_over_promtail_positions(host):
    if _agent(host) != "alloy":
        return
    copied = host.file("/var/lib/alloy/promtail-positions.yaml")
    assert copied.user == "alloy" and copied.mode == 0o640
    assert yaml.safe_load(copied.content_string) == {"positions": {"/var/log/odoo/odoo-server.log": "81"}}
    tree = _alloy_syntax().parse(host.file("/etc/alloy/config.alloy").content_string)
    sources = {b["label"]: b for b in tree if b["type"] == "block" and b["name"] == "loki.source.file"}
    assert sorted(sources) == sorted(FILE_SOURCES)
    for block in sources.values():
        attrs = {a["name"]: a["value"] for a in block["body"] if a["type"] == "attribute"}
        assert attrs["legacy_positions_file"] == "/var/lib/alloy/promtail-positions.yaml"


def test_promtail_takes_over_alloy_positions(host):
    if _agent(host) != "promtail":
        return
    positions = host.file("/var/lib/promtail/positions.yaml")
    assert positions.user == "promtail" and positions.mode == 0o600
    if LIVE:
        # The running Promtail rewrote the file: it went on from the handed-over odoo offset and journal cursor.
        read = yaml.safe_load(positions.content_string)["positions"]
        assert int(read["/var/log/odoo/odoo-server.log"]) >= 81
        assert read["journal-journal"].startswith("s=")
        return
    assert yaml.safe_load(positions.content_string) == {
        "positions": {"/var/log/odoo/odoo-server.log": "81", "journal-journal": "s=0123abcd;i=42"}}


def test_timestamps_in_the_host_zone(host):
    """lg-alloy runs in Europe/Paris (prepare.yml), lg-loki in the image's Etc/UTC (Asia/Tokyo in the live tier):
    nginx error times get that location."""
    if _agent(host) == "promtail":
        cfg = yaml.safe_load(host.file("/etc/promtail/config.yml").content_string)
        job = {j["job_name"]: j for j in cfg["scrape_configs"]}["nginx_error"]
        stage = [s["timestamp"] for s in job["pipeline_stages"] if "timestamp" in s][0]
        assert stage["location"] == ("Asia/Tokyo" if LIVE else "Etc/UTC")
        return
    tree = _alloy_syntax().parse(host.file("/etc/alloy/config.alloy").content_string)
    process = [b for b in tree if b["type"] == "block" and (b["name"], b["label"]) == ("loki.process", "nginx_error")][0]
    stage = [b for b in process["body"] if b["type"] == "block" and b["name"] == "stage.timestamp"][0]
    attrs = {a["name"]: a["value"] for a in stage["body"]}
    assert attrs["location"] == "Europe/Paris" and attrs["format"] == "2006/01/02 15:04:05"


def test_odoo_glob_leaves_audit_log_to_the_audit_source(host):
    if _agent(host) == "promtail":
        cfg = yaml.safe_load(host.file("/etc/promtail/config.yml").content_string)
        labels = {j["job_name"]: j for j in cfg["scrape_configs"]}["odoo"]["static_configs"][0]["labels"]
        assert labels["__path__"] == "/var/log/odoo/*.log"
        assert labels["__path_exclude__"] == "/var/log/odoo/audit.log"
        return
    tree = _alloy_syntax().parse(host.file("/etc/alloy/config.alloy").content_string)
    match = [b for b in tree if b["type"] == "block" and (b["name"], b["label"]) == ("local.file_match", "odoo")][0]
    targets = match["body"][0]["value"]["list"]
    assert targets[0]["object"]["__path__"] == "/var/log/odoo/*.log"
    assert targets[0]["object"]["__path_exclude__"] == "/var/log/odoo/audit.log"


def test_promtail_grpc_on_loopback(host):
    if _agent(host) != "promtail":
        return
    server = yaml.safe_load(host.file("/etc/promtail/config.yml").content_string)["server"]
    assert server["grpc_listen_address"] == "127.0.0.1" and server["grpc_listen_port"] == 0


def test_loki_ruler_and_log_alert_rules(host):
    if _name(host) != "lg-loki":
        return
    cfg = yaml.safe_load(host.file("/etc/loki/config.yml").content_string)
    ruler = cfg["ruler"]
    # lg-alloy is the (only) host of the alertmanager group: its listen port and route prefix.
    assert ruler["alertmanager_url"] == "http://lg-alloy:9094/alertmanager"
    assert ruler["enable_alertmanager_v2"] is True
    assert ruler["storage"] == {"type": "local", "local": {"directory": "/var/lib/loki/rules"}}
    assert ruler["enable_api"] is True
    rules_dir = host.file("/var/lib/loki/rules/molecule")
    assert rules_dir.is_directory and rules_dir.group == "loki"
    rules_file = host.file("/var/lib/loki/rules/molecule/monitoring-stack.yml")
    assert rules_file.user == "root" and rules_file.group == "loki" and rules_file.mode == 0o640
    groups = {g["name"]: g for g in yaml.safe_load(rules_file.content_string)["groups"]}
    assert sorted(groups) == ["custom.alerts", "logs"]
    alerts = {r["alert"]: r for g in groups.values() for r in g["rules"]}
    assert sorted(alerts) == ["ApplicationErrorBurst", "LogBackupFailure", "NginxCriticalLogged"]
    assert alerts["LogBackupFailure"]["expr"].startswith('sum by (host, unit) (count_over_time({job="systemd-journal"')
    assert alerts["NginxCriticalLogged"]["annotations"]["summary"] == "nginx on {{ $labels.host }} logged crit lines."


# --------------------------------------------------------------------------- issue #15, log rotation


def test_logrotate_files_of_the_rotated_sources(host):
    """django and audit ask for rotation (seed 002: daily, 14, compress, create 0640); nginx_access asks too but
    the nginx package rotates it already; the stale file of a source gone from the catalogue is removed."""
    for name, keep in (("django", 14), ("audit", 30)):
        conf = host.file("/etc/logrotate.d/monitoring-stack-%s" % name)
        assert conf.user == "root" and conf.group == "root" and conf.mode == 0o644
        text = conf.content_string
        assert "Managed by monitoring.stack log_shipper: log source '%s'" % name in text
        body = [line.strip() for line in text.split("{", 1)[1].rsplit("}", 1)[0].strip().splitlines()]
        assert body == ["daily", "rotate %d" % keep, "missingok", "notifempty", "nocopytruncate", "create 0640",
                        "compress", "delaycompress"], body
    assert "/var/log/django/*.log {" in host.file("/etc/logrotate.d/monitoring-stack-django").content_string
    assert "/var/log/odoo/audit.log {" in host.file("/etc/logrotate.d/monitoring-stack-audit").content_string
    assert host.file("/etc/logrotate.d/nginx").exists
    assert not host.file("/etc/logrotate.d/monitoring-stack-nginx_access").exists
    assert not host.file("/etc/logrotate.d/monitoring-stack-oldsource").exists
    assert sorted(f for f in host.file("/etc/logrotate.d").listdir() if f.startswith("monitoring-stack-")) == [
        "monitoring-stack-audit", "monitoring-stack-django"]
    assert host.run("logrotate -d /etc/logrotate.d/monitoring-stack-django").rc == 0


def test_forced_rotation_renames_and_creates(host):
    """logrotate -f on the django source: the file is renamed (kept plain by delaycompress), a new empty file
    takes its place with mode 0640 and the old owner, and the agent can still read it (its ACL is kept)."""
    agent = _agent(host)
    log = "/var/log/django/app.log"
    before = host.file(log)
    owner, group, inode = before.user, before.group, host.check_output("stat -c %%i %s", log)
    host.check_output("printf 'rotation probe\\n' >> %s", log)
    rotated = host.run("logrotate -f /etc/logrotate.d/monitoring-stack-django")
    assert rotated.rc == 0, rotated.stderr
    old = host.file(log + ".1")
    assert old.exists and host.check_output("stat -c %%i %s", log + ".1") == inode
    assert old.content_string.endswith("rotation probe\n")
    new = host.file(log)
    assert new.exists and new.size == 0 and new.mode == 0o640
    assert (new.user, new.group) == (owner, group)
    assert host.run("runuser -u %s -- cat %s", agent, log).rc == 0
    assert not host.file(log + ".1.gz").exists
