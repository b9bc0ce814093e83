"""Grafana role on a Debian 12 host, in two tiers.

Structural tier (default; no Grafana binary can be had on this machine): the role runs in ``binary`` mode
WITHOUT a Grafana binary, so the Grafana daemon never starts and nothing is faked in its place.
Verified: the system user and group, directories and permissions, the secret grafana.ini (0640 root:grafana)
and its rendered values (Viewers get Explore), the provisioning files (YAML and JSON parse and carry the expected
content; Loki variables in the form Grafana parses), the hardened systemd unit, that the service is NOT running,
that grafana_access is reported as skipped, and that removing the alerting settings writes Grafana's
deleteContactPoints/resetPolicies instead of deleting the file.

Live tier (MONITORING_STACK_GRAFANA_ARCHIVE=<a standalone linux-amd64 Grafana tar.gz on the controller>): the role
installs that archive (install source ``archive``) and the tests marked "live" ask Grafana itself: it runs and
its database is OK, each provisioned datasource's health API answers OK (when its backend listens: this scenario
runs no Prometheus, Alertmanager or Loki, so each such check is skipped with that reason), each dashboard loads
by uid from its folder, and grafana_access made the users, teams and folder permissions.
Without the variable the live tests are SKIPPED with the reason; skipped tests do not count as passed.
"""

import configparser
import json
import os
import re

import pytest
import yaml
from testlib import ROOT, get_json, molecule_inventory, poll, run_playbook

INI = "/etc/grafana/grafana.ini"
PROV = "/etc/grafana/provisioning"
DASHBOARDS = "/var/lib/grafana/dashboards"
ARCHIVE = os.environ.get("MONITORING_STACK_GRAFANA_ARCHIVE", "")
LIVE = bool(ARCHIVE)
GRAFANA = "http://127.0.0.1:3000"
ADMIN = "admin:molecule-Adm1n#pass;word"
CONVERGE = os.path.join(ROOT, "molecule", "_shared", "converge.yml")
NOT_LIVE = pytest.mark.skipif(
    not LIVE, reason="live tier SKIPPED: MONITORING_STACK_GRAFANA_ARCHIVE is not set (no Grafana binary on this "
    "machine), so Grafana never ran here and its API, datasources, dashboards and grafana_access were NOT checked")
ONLY_STRUCTURAL = pytest.mark.skipif(
    LIVE, reason="structural tier only: MONITORING_STACK_GRAFANA_ARCHIVE=%s gave Grafana a binary" % ARCHIVE)


def _ini(host):
    parser = configparser.RawConfigParser(interpolation=None, comment_prefixes=("#", ";"), inline_comment_prefixes=None)
    parser.read_string("[__top__]\n" + host.file(INI).content_string)
    return parser


def _yaml(host, path):
    return yaml.safe_load(host.file(path).content_string)


def _version():
    found = re.search(r"[0-9]+[.][0-9]+[.][0-9]+", os.path.basename(ARCHIVE))
    return found.group(0) if found else "12.4.2"


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
    # Viewers (read-only developers) get Explore: Grafana 12 OSS grants them the Explorer role through this.
    assert ini.get("users", "viewers_can_edit") == "true"
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
    # The core dashboards, and of the component and contract ones only Business: the inventory turns its pack on
    # (prometheus_rule_packs) and has no postgres, redis or kafka exporter hosts (grafana_dashboards_library).
    assert sorted(names) == sorted("ms-%s.json" % n for n in (
        "infrastructure", "containers", "postgresql", "http", "backups", "alerts", "logs", "prometheus", "business"))
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
    logs = json.loads(host.file(DASHBOARDS + "/monitoring-stack/ms-logs.json").content_string)
    loki_vars = {v["name"]: v["query"] for v in logs["templating"]["list"] if v["type"] == "query"}
    # The form Grafana 12's Loki datasource parses (an object with type/label/stream), not {"query": "label_values(job)"}.
    assert loki_vars["job"] == {"type": 1, "label": "job", "stream": "", "refId": "LokiVariableQueryEditor-VariableQuery"}
    assert loki_vars["host"]["type"] == 1 and loki_vars["host"]["label"] == "host"
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
    binary = "/opt/grafana/%s/bin/grafana" % _version() if LIVE else "/usr/share/grafana/bin/grafana"
    assert "ExecStart=%s" % binary in unit
    assert "--config=/etc/grafana/grafana.ini" in unit
    assert "User=grafana" in unit
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "ReadWritePaths=/var/lib/grafana /var/log/grafana"):
        assert line in unit
    assert "molecule-secret-key" not in unit


@ONLY_STRUCTURAL
def test_service_not_running_without_binary(host):
    assert not host.file("/usr/share/grafana/bin/grafana").exists
    service = host.service("grafana")
    assert not service.is_running
    assert not service.is_enabled


@ONLY_STRUCTURAL
def test_plugins_not_installed_without_binary(host):
    assert not host.file("/var/lib/grafana/plugins/grafana-clock-panel").exists


# --- live tier: Grafana itself ---------------------------------------------------------------------------------

def _api(host, path, **params):
    return get_json(host, GRAFANA + path, auth=ADMIN, **params)


@NOT_LIVE
def test_live_grafana_runs(host):
    assert host.service("grafana").is_running
    assert host.service("grafana").is_enabled
    health = poll(lambda: json.loads(host.run("curl -s --max-time 5 %s/api/health" % GRAFANA).stdout or "{}"),
                  timeout=60, what="Grafana's /api/health")
    assert health["database"] == "ok"
    assert health["version"] == _version()


def _datasources(host):
    return _yaml(host, PROV + "/datasources/monitoring-stack.yml")["datasources"]


@NOT_LIVE
@pytest.mark.parametrize("uid", ["prometheus", "alertmanager", "loki"])
def test_live_datasource_health(host, uid):
    source = {ds["uid"]: ds for ds in _datasources(host)}[uid]
    provisioned = _api(host, "/api/datasources/uid/%s" % uid)
    assert provisioned["url"] == source["url"] and provisioned["readOnly"] is True
    if host.run("curl -s -o /dev/null --max-time 5 %s", source["url"]).rc != 0:
        pytest.skip("datasource %s: nothing listens at %s in this scenario (it runs no %s), so Grafana's health "
                    "check of it was NOT verified" % (uid, source["url"], source["type"]))
    answer = host.run("curl -s --max-time 15 -u %s %s/api/datasources/uid/%s/health", ADMIN, GRAFANA, uid)
    assert json.loads(answer.stdout)["status"] == "OK", answer.stdout


@NOT_LIVE
def test_live_every_dashboard_loads_by_uid(host):
    folders = {f["uid"]: f for f in _api(host, "/api/folders")}
    for folder in ("monitoring-stack", "business"):
        assert folder in folders
        for name in host.check_output("ls %s/%s" % (DASHBOARDS, folder)).split():
            uid = name[:-len(".json")]
            answer = _api(host, "/api/dashboards/uid/%s" % uid)
            on_disk = json.loads(host.file("%s/%s/%s" % (DASHBOARDS, folder, name)).content_string)
            assert answer["dashboard"]["title"] == on_disk["title"]
            assert answer["meta"]["provisioned"] is True
            assert answer["meta"]["folderUid"] == folder


@NOT_LIVE
def test_live_access_is_applied(host):
    users = {u["login"]: u for u in _api(host, "/api/org/users")}
    assert users["dev1"]["role"] == "Viewer"
    assert users["ops1"]["role"] == "Admin"
    teams = {t["name"]: t for t in _api(host, "/api/teams/search")["teams"]}
    members = {name: [m["login"] for m in _api(host, "/api/teams/%d/members" % team["id"])] for name, team in teams.items()}
    assert members["developers"] == ["dev1"] and members["operations"] == ["ops1"]
    own = [p for p in _api(host, "/api/folders/monitoring-stack/permissions") if not p.get("inherited")]
    grants = sorted((p.get("team") or p.get("role") or p.get("userLogin"), p["permission"]) for p in own)
    assert grants == [("Editor", 2), ("developers", 1), ("operations", 4)]


@NOT_LIVE
def test_live_viewer_can_use_explore(host):
    """dev1 is a Viewer; with viewers_can_edit Grafana grants the Viewer basic role datasources:explore."""
    perms = get_json(host, GRAFANA + "/api/access-control/user/permissions", auth="dev1:molecule-Dev1-pass")
    assert "datasources:explore" in perms


# --- runs the role again (last: restores the converged state) ---------------------------------------------------

def test_removed_alerting_is_taken_back_and_access_skip_is_said(host):
    """With the alerting settings emptied, the alerting file lists Grafana's deleteContactPoints and resetPolicies
    for what it provisioned (deleting the file would leave them in Grafana); without a binary the run says that
    grafana_access was skipped. Then the scenario's settings are put back (the next run must change nothing)."""
    path = PROV + "/alerting/monitoring-stack.yml"
    empty = {"grafana_alerting_contact_points": [], "grafana_alerting_policies": []}
    rc, out = run_playbook(CONVERGE, empty, inventory=molecule_inventory(), connection=None,
                           tags="grafana_configure", timeout=900)
    assert rc == 0, out[-6000:]
    taken_back = _yaml(host, path)
    assert taken_back == {"apiVersion": 1, "deleteContactPoints": [{"orgId": 1, "uid": "ops-webhook"}], "resetPolicies": [1]}
    assert host.file(path).mode == 0o640
    if not LIVE:
        assert "grafana_access SKIPPED" in out and "team developers" in out
        assert "molecule-Dev1-pass" not in out
    rc, out = run_playbook(CONVERGE, inventory=molecule_inventory(), connection=None, tags="grafana_configure", timeout=900)
    assert rc == 0, out[-6000:]
    restored = _yaml(host, path)
    assert restored["contactPoints"][0]["name"] == "ops-webhook"
    assert "deleteContactPoints" not in restored and "resetPolicies" not in restored
