# -*- coding: utf-8 -*-
"""Unit tests of monitoring.stack.grafana_plan."""

from __future__ import annotations

import configparser
import glob
import json
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.grafana_plan import FilterModule

grafana_plan = FilterModule().filters()["grafana_plan"]

LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles", "grafana", "files", "dashboards")
INI = {"instance_name": "gf-1", "server": {"protocol": "http", "http_port": 3000},
       "security": {"admin_password": "p#ss;word", "secret_key": "0123456789abcdef"}}
FOLDERS = [{"uid": "monitoring-stack", "title": "Monitoring stack"}, {"uid": "business", "title": "Business"}]
ORDERS = {"title": "Orders", "uid": "orders",
          "panels": [{"title": "Orders per second", "targets": [{"expr": "sum(rate(orders_total[5m]))"}]}]}
DATASOURCES = [{"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "url": "http://prom:9090",
                "access": "proxy", "isDefault": True, "secureJsonData": {"httpHeaderValue1": "Bearer t0ken"}}]


def plan(**kwargs):
    args = {"config_dir": "/etc/grafana", "dashboards_dir": "/var/lib/grafana/dashboards", "folders": FOLDERS,
            "datasources": DATASOURCES}
    args.update(kwargs)
    return grafana_plan(INI, **args)


def writes(result):
    return {group["name"]: group for group in result["writes"]}


def files(result):
    return {item["dest"]: item["content"] for group in result["writes"] for item in group["files"]}


def prunes(result):
    return {group["name"]: group for group in result["prunes"]}


def test_secret_files_are_grouped_apart_and_restart_grafana():
    groups = writes(plan(contact_points=[{"orgId": 1, "name": "ops"}]))
    secret = groups["grafana.ini, datasources and alerting"]
    assert secret["secret"] is True and secret["restart"] is True
    assert [f["dest"] for f in secret["files"]] == [
        "/etc/grafana/grafana.ini",
        "/etc/grafana/provisioning/datasources/monitoring-stack.yml",
        "/etc/grafana/provisioning/alerting/monitoring-stack.yml",
    ]
    providers = groups["dashboard providers"]
    assert providers["secret"] is False and providers["restart"] is True
    assert [f["dest"] for f in providers["files"]] == ["/etc/grafana/provisioning/dashboards/monitoring-stack.yml"]
    dashboards = groups["dashboards"]
    assert dashboards["secret"] is False and dashboards["restart"] is False
    # Nothing that holds a secret is outside the secret group.
    for group in (providers, dashboards):
        for item in group["files"]:
            assert "p#ss;word" not in item["content"] and "t0ken" not in item["content"]


def test_grafana_ini_is_rendered_with_a_header():
    text = files(plan())["/etc/grafana/grafana.ini"]
    assert text.startswith("# Managed by monitoring.stack")
    parser = configparser.RawConfigParser(interpolation=None, comment_prefixes=("#", ";"), inline_comment_prefixes=None)
    parser.read_string("[__top__]\n" + text)
    assert parser.get("__top__", "instance_name") == "gf-1"
    assert parser.get("server", "http_port") == "3000"
    assert parser.get("security", "admin_password") == '"""p#ss;word"""'


def test_provisioning_files_are_yaml_with_the_header():
    result = files(plan(datasources_prune=False, allow_ui_updates=True,
                        contact_points=[{"orgId": 1, "name": "ops"}], policies=[{"orgId": 1, "receiver": "ops"}]))
    for dest, text in result.items():
        if dest.endswith(".yml"):
            assert text.startswith("# Managed by monitoring.stack")
    datasources = yaml.safe_load(result["/etc/grafana/provisioning/datasources/monitoring-stack.yml"])
    assert datasources == {"apiVersion": 1, "prune": False, "datasources": DATASOURCES}
    providers = yaml.safe_load(result["/etc/grafana/provisioning/dashboards/monitoring-stack.yml"])
    assert [p["options"]["path"] for p in providers["providers"]] == [
        "/var/lib/grafana/dashboards/monitoring-stack", "/var/lib/grafana/dashboards/business"]
    assert all(p["allowUiUpdates"] is True for p in providers["providers"])
    alerting = yaml.safe_load(result["/etc/grafana/provisioning/alerting/monitoring-stack.yml"])
    assert alerting == {"apiVersion": 1, "contactPoints": [{"orgId": 1, "name": "ops"}],
                        "policies": [{"orgId": 1, "receiver": "ops"}]}


def test_no_alerting_file_without_alerting_and_it_is_pruned():
    result = plan()
    assert not any("/alerting/" in dest for dest in files(result))
    provisioning = prunes(result)["provisioning files"]
    assert provisioning["paths"] == ["/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards",
                                     "/etc/grafana/provisioning/alerting"]
    assert provisioning["patterns"] == ["monitoring-stack.yml"]
    assert provisioning["restart"] is True
    assert "/etc/grafana/provisioning/alerting/monitoring-stack.yml" not in provisioning["keep"]
    assert "/etc/grafana/provisioning/datasources/monitoring-stack.yml" in provisioning["keep"]
    with_alerting = prunes(plan(policies=[{"orgId": 1, "receiver": "ops"}]))["provisioning files"]
    assert "/etc/grafana/provisioning/alerting/monitoring-stack.yml" in with_alerting["keep"]


ALERTING = "/etc/grafana/provisioning/alerting/monitoring-stack.yml"
OPS_POINT = {"orgId": 1, "name": "ops", "receivers": [{"uid": "ops-webhook", "type": "webhook", "settings": {"url": "https://x"}}]}
OPS_POLICY = {"orgId": 1, "receiver": "ops"}


def test_removed_alerting_is_taken_back_not_just_deleted():
    """Deleting the file leaves Grafana's policies and contact points in place (issue #13): once the role's alerting is
    removed, the file it wrote last time is answered with Grafana's resetPolicies and deleteContactPoints."""
    first = files(plan(contact_points=[OPS_POINT], policies=[OPS_POLICY]))[ALERTING]
    result = plan(alerting_previous=first)
    assert ALERTING in files(result)
    assert ALERTING in prunes(result)["provisioning files"]["keep"]
    assert [f["dest"] for f in writes(result)["grafana.ini, datasources and alerting"]["files"]][-1] == ALERTING
    taken_back = yaml.safe_load(files(result)[ALERTING])
    assert taken_back == {"apiVersion": 1, "deleteContactPoints": [{"orgId": 1, "uid": "ops-webhook"}], "resetPolicies": [1]}
    assert files(result)[ALERTING].startswith("# Managed by monitoring.stack")


def test_taking_back_is_the_same_on_every_run():
    first = files(plan(contact_points=[OPS_POINT], policies=[OPS_POLICY]))[ALERTING]
    second = files(plan(alerting_previous=first))[ALERTING]
    third = files(plan(alerting_previous=second))[ALERTING]
    assert second == third


def test_a_removed_contact_point_is_deleted_and_the_kept_one_stays():
    other = {"orgId": 2, "name": "dev", "receivers": [{"uid": "dev-mail", "type": "email", "settings": {"addresses": "a@b"}}]}
    first = files(plan(contact_points=[OPS_POINT, other], policies=[OPS_POLICY, {"orgId": 2, "receiver": "dev"}]))[ALERTING]
    result = yaml.safe_load(files(plan(contact_points=[OPS_POINT], policies=[OPS_POLICY], alerting_previous=first))[ALERTING])
    assert result["contactPoints"] == [OPS_POINT]
    assert result["policies"] == [OPS_POLICY]
    assert result["deleteContactPoints"] == [{"orgId": 2, "uid": "dev-mail"}]
    assert result["resetPolicies"] == [2]


def test_provisioning_again_drops_the_removal():
    first = files(plan(contact_points=[OPS_POINT], policies=[OPS_POLICY]))[ALERTING]
    removed = files(plan(alerting_previous=first))[ALERTING]
    again = yaml.safe_load(files(plan(contact_points=[OPS_POINT], policies=[OPS_POLICY], alerting_previous=removed))[ALERTING])
    assert again == {"apiVersion": 1, "contactPoints": [OPS_POINT], "policies": [OPS_POLICY]}


@pytest.mark.parametrize("previous", ["", None, "not: [valid", "just text", "apiVersion: 1\n"])
def test_nothing_to_take_back_writes_no_alerting_file(previous):
    result = plan(alerting_previous=previous)
    assert ALERTING not in files(result)
    assert ALERTING not in prunes(result)["provisioning files"]["keep"]


def test_dashboards_from_specs_and_files_with_their_prune_set():
    library = {"dashboards/backups.yml": open(os.path.join(LIBRARY, "backups.yml"), encoding="utf-8").read()}
    own = "title: Payments\nuid: payments\npanels:\n  - title: Failures\n    targets:\n      - expr: sum(payment_failures_total)\n"
    result = plan(builtin=["dashboards/backups.yml"], builtin_folder="monitoring-stack",
                  dashboards=[{"folder": "business", "spec": ORDERS}, {"file": "/srv/payments.yml"}],
                  sources=dict(library, **{"/srv/payments.yml": own}),
                  datasource_uids={"prometheus": "prom-main"})
    dashboards = writes(result)["dashboards"]["files"]
    assert [d["dest"] for d in dashboards] == [
        "/var/lib/grafana/dashboards/monitoring-stack/ms-backups.json",
        "/var/lib/grafana/dashboards/business/orders.json",
        # No folder given: the library's folder.
        "/var/lib/grafana/dashboards/monitoring-stack/payments.json",
    ]
    orders = json.loads(dashboards[1]["content"])
    assert orders["uid"] == "orders" and orders["title"] == "Orders"
    ds_var = [v for v in orders["templating"]["list"] if v["type"] == "datasource"][0]
    assert ds_var["current"]["value"] == "prom-main"
    assert dashboards[1]["content"].endswith("}\n")
    assert result["directories"] == ["/var/lib/grafana/dashboards/monitoring-stack", "/var/lib/grafana/dashboards/business"]
    prune = prunes(result)["dashboards"]
    assert prune["paths"] == result["directories"]
    assert prune["patterns"] == ["*.json"]
    assert prune["keep"] == sorted(d["dest"] for d in dashboards)
    assert prune["restart"] is False


def test_the_whole_library_renders():
    paths = sorted(glob.glob(os.path.join(LIBRARY, "*.yml")))
    sources = {path: open(path, encoding="utf-8").read() for path in paths}
    dashboards = writes(plan(builtin=paths, builtin_folder="monitoring-stack", sources=sources))["dashboards"]["files"]
    assert len(dashboards) == len(paths) >= 8
    for item in dashboards:
        assert json.loads(item["content"])["schemaVersion"] >= 39


def test_the_plan_is_the_same_on_every_call():
    args = {"builtin": [], "dashboards": [{"folder": "business", "spec": ORDERS}]}
    assert plan(**args) == plan(**args)


def test_parsed_sources_are_accepted():
    result = plan(dashboards=[{"file": "orders.yml", "folder": "business"}], sources={"orders.yml": ORDERS})
    assert "/var/lib/grafana/dashboards/business/orders.json" in files(result)


def test_refuses_an_unknown_folder():
    with pytest.raises(AnsibleFilterError, match="folder 'sales' is not one of grafana_dashboard_folders"):
        plan(dashboards=[{"folder": "sales", "spec": ORDERS}])


def test_refuses_a_uid_used_twice():
    with pytest.raises(AnsibleFilterError, match="uid 'orders' is used twice"):
        plan(dashboards=[{"folder": "business", "spec": ORDERS}, {"folder": "monitoring-stack", "spec": ORDERS}])


def test_refuses_a_spec_file_that_was_not_loaded_or_is_not_a_spec():
    with pytest.raises(AnsibleFilterError, match="was not loaded"):
        plan(dashboards=[{"file": "missing.yml"}])
    with pytest.raises(AnsibleFilterError, match="not valid YAML"):
        plan(dashboards=[{"file": "bad.yml"}], sources={"bad.yml": "title: [unclosed"})
    with pytest.raises(AnsibleFilterError, match="one dashboard spec"):
        plan(dashboards=[{"file": "list.yml"}], sources={"list.yml": "- a\n- b\n"})


def test_refuses_bad_dashboard_items():
    with pytest.raises(AnsibleFilterError, match="must be {spec, folder} or {file, folder}"):
        plan(dashboards=[{"folder": "business"}])
    with pytest.raises(AnsibleFilterError, match="must be {spec, folder} or {file, folder}"):
        plan(dashboards=[{"spec": ORDERS, "file": "x.yml"}])
    with pytest.raises(AnsibleFilterError, match="must be {spec, folder} or {file, folder}"):
        plan(dashboards=[{"spec": ORDERS, "folderr": "business"}])


def test_refuses_bad_dashboard_specs():
    with pytest.raises(AnsibleFilterError, match="grafana_plan"):
        plan(dashboards=[{"folder": "business", "spec": {"uid": "x"}}])


def test_refuses_bad_paths_and_settings():
    with pytest.raises(AnsibleFilterError, match="config_dir must be an absolute path"):
        plan(config_dir="etc/grafana")
    with pytest.raises(AnsibleFilterError, match="dashboards_dir must be an absolute path"):
        plan(dashboards_dir="")
    with pytest.raises(AnsibleFilterError, match="mapping"):
        grafana_plan(["server"], config_dir="/etc/grafana", dashboards_dir="/d", folders=FOLDERS)
    with pytest.raises(AnsibleFilterError, match="datasources must be a list"):
        plan(datasources={"name": "x"})
    with pytest.raises(AnsibleFilterError, match="folders"):
        plan(folders=[])
