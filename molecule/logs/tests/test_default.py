"""Centralised logs: Loki + Promtail (lg-loki) and Alloy (lg-alloy), rendered but NOT run.

What was NOT run live: no Loki, Promtail or Alloy binary can be had on this machine, so all
three roles ran with install source ``binary`` pointing at a path that does not exist.
Nothing here starts a daemon, pushes a log line, queries Loki, or runs ``loki -verify-config``,
``promtail -check-syntax`` or ``alloy validate``; the configs are only checked structurally
(they parse, they hold the expected sources, labels and stages). What is verified on real
Debian 12 hosts: users and groups (adm, systemd-journal), POSIX ACLs (getfacl) on the
PostgreSQL and application log directories, directories, hardened systemd units, secrets
file modes, and that no service is started.
"""

import re

import yaml

SOURCES = ["nginx_access", "nginx_error", "postgresql", "journal", "odoo", "django", "fastapi", "audit"]


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
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    bare = "\n".join(line for line in bare.splitlines() if not line.lstrip().startswith("//"))
    assert bare.count("{") == bare.count("}")
    declared = set(re.findall(r'^([a-z_.]+) "([a-z0-9_]+)" \{', text, flags=re.M))
    for name in SOURCES:
        assert ("loki.process", name) in declared
    for comp, label, _kind in re.findall(r"\b((?:loki|local)\.[a-z_.]+?)\.([a-z0-9_]+)\.(receiver|targets|rules)\b", bare):
        assert (comp, label) in declared
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
