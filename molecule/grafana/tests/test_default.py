"""Grafana role, converged in ``binary`` mode on a Debian 12 host WITHOUT a Grafana binary.

What was NOT run live: no Grafana binary can be had on this machine (no package registry
here carries it), so the Grafana daemon never starts in this scenario and nothing is faked
in its place. Not verified here therefore: that Grafana accepts grafana.ini, loads the
provisioned datasources, dashboards, contact points and policies, installs plugins, or
serves HTTP on port 3000; the repository and archive install paths are not exercised
either. Verified: the system user and group, directories and permissions, the secret
grafana.ini (0640 root:grafana) and its rendered values, the provisioning files (YAML and
JSON parse and carry the expected content), the hardened systemd unit, and that the
service is NOT running because the binary is missing.
"""

import configparser
import json

import yaml

INI = "/etc/grafana/grafana.ini"
PROV = "/etc/grafana/provisioning"
DASHBOARDS = "/var/lib/grafana/dashboards"


def _ini(host):
    parser = configparser.RawConfigParser(interpolation=None, comment_prefixes=("#", ";"), inline_comment_prefixes=None)
    parser.read_string("[__top__]\n" + host.file(INI).content_string)
    return parser


def _yaml(host, path):
    return yaml.safe_load(host.file(path).content_string)


def test_user_and_group(host):
    user = host.user("grafana")
    assert user.exists
    assert user.group == "grafana"
    assert user.shell == "/usr/sbin/nologin"
    assert host.group("grafana").exists


def test_directories(host):
    for path, owner, mode in (
        ("/etc/grafana", "root", 0o750),
        (PROV + "/datasources", "root", 0o750),
        (PROV + "/dashboards", "root", 0o750),
        (PROV + "/alerting", "root", 0o750),
        ("/var/lib/grafana", "grafana", 0o750),
        ("/var/lib/grafana/plugins", "grafana", 0o750),
        ("/var/log/grafana", "grafana", 0o750),
        (DASHBOARDS + "/monitoring-stack", "root", 0o750),
        (DASHBOARDS + "/business", "root", 0o750),
    ):
        directory = host.file(path)
        assert directory.is_directory, path
        assert directory.user == owner, path
        assert directory.group == "grafana", path
        assert directory.mode == mode, path


def test_grafana_ini_is_secret(host):
    ini = host.file(INI)
    assert ini.user == "root"
    assert ini.group == "grafana"
    assert ini.mode == 0o640


def test_grafana_ini_values(host):
    ini = _ini(host)
    assert ini.get("__top__", "instance_name") == "gf-bookworm"
    assert ini.get("paths", "provisioning") == PROV
    assert ini.get("server", "protocol") == "http"
    assert ini.get("server", "http_port") == "3000"
    assert ini.get("database", "type") == "sqlite3"
    # The password holds "#" and ";", so it must be triple-quoted for Grafana's INI parser.
    assert ini.get("security", "admin_password") == '"""molecule-Adm1n#pass;word"""'
    assert ini.get("security", "secret_key") == "molecule-secret-key-0123456789"
    assert ini.get("security", "cookie_secure") == "false"
    assert ini.get("security", "disable_gravatar") == "true"
    assert ini.get("users", "allow_sign_up") == "false"
    assert ini.get("users", "auto_assign_org_role") == "Viewer"
    assert ini.get("auth.anonymous", "enabled") == "false"
    assert ini.get("analytics", "reporting_enabled") == "false"
    # grafana_ini is deep-merged: one key overridden, its siblings kept.
    assert ini.get("log", "level") == "warn"
    assert ini.get("log", "mode") == "console"


def test_datasources_from_inventory(host):
    path = PROV + "/datasources/monitoring-stack.yml"
    assert host.file(path).mode == 0o640
    assert host.file(path).group == "grafana"
    data = _yaml(host, path)
    assert data["apiVersion"] == 1
    by_uid = {ds["uid"]: ds for ds in data["datasources"]}
    assert set(by_uid) == {"prometheus", "alertmanager", "loki"}
    assert by_uid["prometheus"]["url"] == "http://gf-bookworm:9090"
    assert by_uid["prometheus"]["isDefault"] is True
    assert by_uid["alertmanager"]["jsonData"]["implementation"] == "prometheus"
    assert by_uid["loki"]["url"] == "http://gf-bookworm:3100"


def test_dashboard_providers(host):
    data = _yaml(host, PROV + "/dashboards/monitoring-stack.yml")
    providers = {p["folderUid"]: p for p in data["providers"]}
    assert set(providers) == {"monitoring-stack", "business"}
    assert providers["business"]["options"]["path"] == DASHBOARDS + "/business"
    assert providers["monitoring-stack"]["allowUiUpdates"] is False


def test_dashboards_parse(host):
    names = host.check_output("ls %s/monitoring-stack" % DASHBOARDS).split()
    assert sorted(names) == sorted("ms-%s.json" % n for n in (
        "infrastructure", "containers", "postgresql", "http", "backups", "alerts", "logs", "prometheus"))
    uids = set()
    for name in names:
        path = "%s/monitoring-stack/%s" % (DASHBOARDS, name)
        assert host.file(path).mode == 0o640
        dashboard = json.loads(host.file(path).content_string)
        assert dashboard["schemaVersion"] >= 39
        assert dashboard["uid"] + ".json" == name
        uids.add(dashboard["uid"])
        ds_vars = {v["name"]: v for v in dashboard["templating"]["list"] if v["type"] == "datasource"}
        assert "DS_PROMETHEUS" in ds_vars or "DS_LOKI" in ds_vars
    business = json.loads(host.file(DASHBOARDS + "/business/dps-business.json").content_string)
    assert business["title"] == "Contracts and payments"
    exprs = [t["expr"] for p in business["panels"] for t in p["targets"]]
    assert 'sum(dps_contracts_active_total{tenant_id=~"$tenant_id"})' in exprs


def test_alerting_provisioning(host):
    path = PROV + "/alerting/monitoring-stack.yml"
    assert host.file(path).mode == 0o640
    assert host.file(path).user == "root"
    data = _yaml(host, path)
    assert data["apiVersion"] == 1
    assert data["contactPoints"][0]["name"] == "ops-webhook"
    assert data["policies"][0]["receiver"] == "ops-webhook"


def test_unit_file(host):
    unit = host.file("/etc/systemd/system/grafana.service").content_string
    assert "ExecStart=/usr/share/grafana/bin/grafana" in unit
    assert "--config=/etc/grafana/grafana.ini" in unit
    assert "User=grafana" in unit
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "ReadWritePaths=/var/lib/grafana /var/log/grafana"):
        assert line in unit
    assert "molecule-secret-key" not in unit


def test_service_not_running_without_binary(host):
    assert not host.file("/usr/share/grafana/bin/grafana").exists
    service = host.service("grafana")
    assert not service.is_running
    assert not service.is_enabled


def test_plugins_not_installed_without_binary(host):
    assert not host.file("/var/lib/grafana/plugins/grafana-clock-panel").exists
