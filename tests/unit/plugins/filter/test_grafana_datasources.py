# -*- coding: utf-8 -*-
"""Unit tests of the datasource filters: monitoring.stack.grafana_datasources (derived from the other roles'
variables), grafana_dashboard_datasource_uids, grafana_datasources_check, grafana_datasource_health_requests and
grafana_datasource_health_failures, and that the plan writes the datasources as a secret."""

from __future__ import annotations

import copy
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.dashboards import FilterModule
from ansible_collections.monitoring.stack.plugins.filter.grafana_plan import FilterModule as PlanFilters

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
F = FilterModule().filters()
datasources = F["grafana_datasources"]
dashboard_uids = F["grafana_dashboard_datasource_uids"]
check = F["grafana_datasources_check"]
health_requests = F["grafana_datasource_health_requests"]
health_failures = F["grafana_datasource_health_failures"]
grafana_plan = PlanFilters().filters()["grafana_plan"]

with open(os.path.join(ROOT, "roles", "grafana", "defaults", "main.yml"), encoding="utf-8") as _handle:
    SOURCES = yaml.safe_load(_handle)["grafana_datasource_sources"]

CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
SITE_TLS = {"ca_file": "pki/ca.crt", "cert_file": "pki/mon1.crt", "key_file": "pki/mon1.key"}
GROUPS = {"prometheus": ["mon1", "mon2"], "alertmanager": ["mon1"], "loki": ["logs1"]}


def _by_name(result):
    return {entry["name"]: entry for entry in result}


def _bad(fragments, *args, **kwargs):
    with pytest.raises(AnsibleFilterError) as info:
        datasources(*args, **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


# --------------------------------------------------------------------------- grafana_datasources


def test_the_lab_gets_exactly_what_it_got_before():
    """No TLS, no users, no tenants in the inventory: the entries of the time before derivation, key for key."""
    result = datasources(SOURCES, {"prometheus": ["lab-mon"], "alertmanager": ["lab-mon"], "loki": ["lab-mon"]},
                         {"lab-mon": {"ansible_host": "lab-mon", "log_shipper_tenant_id": ""}}, ca_cert="", tenants=[])
    assert result == [
        {"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy", "url": "http://lab-mon:9090",
         "isDefault": True, "editable": False, "jsonData": {"httpMethod": "POST", "timeInterval": "15s"}},
        {"name": "Alertmanager", "type": "alertmanager", "uid": "alertmanager", "access": "proxy",
         "url": "http://lab-mon:9093", "isDefault": False, "editable": False,
         "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False}},
        {"name": "Loki", "type": "loki", "uid": "loki", "access": "proxy", "url": "http://lab-mon:3100",
         "isDefault": False, "editable": False, "jsonData": {"maxLines": 1000}},
    ]
    assert datasources(SOURCES, {}) == []
    assert datasources(SOURCES, {"loki": ["logs1"]})[0]["url"] == "http://logs1:3100"


VM_GROUPS = dict(GROUPS, victoriametrics=["vm-5m", "vm-raw", "vm-raw2"])
VM_HOSTVARS = {"vm-5m": {"victoriametrics_tier": "5m"}, "vm-raw": {"victoriametrics_listen_address": ":8429"},
               "vm-raw2": {"victoriametrics_tier": "raw"}}


def test_the_store_follows_the_first_raw_tier_host_with_its_login_and_ca():
    hostvars = copy.deepcopy(VM_HOSTVARS)
    hostvars["vm-raw"].update({"monitoring_stack_tls": SITE_TLS, "victoriametrics_basic_auth_users": {"metrics": "vm#pw"}})
    store = _by_name(datasources(SOURCES, VM_GROUPS, hostvars, ca_cert=CA))["VictoriaMetrics"]
    assert store == {"name": "VictoriaMetrics", "type": "prometheus", "uid": "victoriametrics", "access": "proxy",
                     "url": "https://vm-raw:8429", "isDefault": False, "editable": False,
                     "basicAuth": True, "basicAuthUser": "metrics",
                     "jsonData": {"httpMethod": "POST", "timeInterval": "15s", "tlsAuthWithCACert": True},
                     "secureJsonData": {"basicAuthPassword": "vm#pw", "tlsCACert": CA}}


def test_a_single_user_store_with_two_users_is_refused():
    hostvars = copy.deepcopy(VM_HOSTVARS)
    hostvars["vm-raw"]["victoriametrics_basic_auth_users"] = {"a": "1", "b": "2"}
    _bad(["datasource 'VictoriaMetrics'", "exactly one user"], SOURCES, VM_GROUPS, hostvars)


def test_no_store_in_the_inventory_gives_no_store_datasource():
    assert "VictoriaMetrics" not in _by_name(datasources(SOURCES, GROUPS, {}))


def test_a_store_group_without_a_raw_tier_host_is_refused_with_the_tiers_found():
    _bad(["datasource 'VictoriaMetrics'", "victoriametrics_tier 'raw'", "vm-5m=5m"], SOURCES,
         {"victoriametrics": ["vm-5m"]}, VM_HOSTVARS)


def test_the_default_uid_makes_the_store_the_only_default_and_the_dashboards_use_it():
    result = datasources(SOURCES, VM_GROUPS, VM_HOSTVARS, default_uid="victoriametrics")
    assert [d["uid"] for d in result if d["isDefault"]] == ["victoriametrics"]
    assert dashboard_uids(result)["prometheus"] == "victoriametrics"


def test_the_default_falls_back_to_prometheus_without_store_hosts():
    result = datasources(SOURCES, GROUPS, {}, default_uid="victoriametrics")
    assert [d["uid"] for d in result if d["isDefault"]] == ["prometheus"]
    assert dashboard_uids(result)["prometheus"] == "prometheus"


@pytest.mark.parametrize("value, port", [(":9091", 9091), ("0.0.0.0:9092", 9092), ("[::]:9093", 9093),
                                         ("127.0.0.1", 9090), (None, 9090)])
def test_the_port_comes_from_the_listen_address_of_the_first_host(value, port):
    hostvars = {"mon1": {"prometheus_listen_address": value}, "mon2": {"prometheus_listen_address": ":1"}}
    assert datasources(SOURCES, GROUPS, hostvars)[0]["url"] == "http://mon1:%d" % port


def test_the_loki_port_is_a_number_and_an_ipv6_address_is_bracketed():
    hostvars = {"logs1": {"loki_http_listen_port": 3200, "ansible_host": "fd00::7"}}
    assert _by_name(datasources(SOURCES, GROUPS, hostvars))["Loki"]["url"] == "http://[fd00::7]:3200"


def test_a_bad_port_is_refused():
    source = dict(SOURCES[0], port=70000)
    del source["port_var"]
    _bad(["datasource source 'Prometheus'", "port"], [source], GROUPS, {})


@pytest.mark.parametrize("host_vars", [
    {"monitoring_stack_tls": SITE_TLS},
    {"prometheus_tls": {"cert_file": "/etc/prometheus/tls.crt", "key_file": "/etc/prometheus/tls.key"}},
])
def test_tls_on_the_target_gives_https(host_vars):
    result = datasources(SOURCES, GROUPS, {"mon1": host_vars})
    assert result[0]["url"] == "https://mon1:9090"
    assert "secureJsonData" not in result[0] and "tlsAuthWithCACert" not in result[0]["jsonData"]  # system trust


@pytest.mark.parametrize("host_vars", [{"monitoring_stack_tls": {}}, {"prometheus_tls": {"min_version": "TLS13"}},
                                       {"monitoring_stack_tls": dict(SITE_TLS, cert_file="")}])
def test_tls_without_a_certificate_stays_http(host_vars):
    assert datasources(SOURCES, GROUPS, {"mon1": host_vars})[0]["url"].startswith("http://")


def test_an_explicit_scheme_and_path_win():
    sources = [dict(SOURCES[0], scheme="http", path="/")]
    hostvars = {"mon1": {"monitoring_stack_tls": SITE_TLS, "prometheus_external_url": "https://mon1/prometheus/"}}
    assert datasources(sources, GROUPS, hostvars, ca_cert=CA)[0]["url"] == "http://mon1:9090"
    assert datasources([dict(SOURCES[0], path="prom/")], GROUPS, hostvars)[0]["url"] == "https://mon1:9090/prom"
    _bad(["scheme must be http or https"], [dict(SOURCES[0], scheme="ftp")], GROUPS, hostvars)


def test_the_role_names_the_variables_read():
    source = dict(SOURCES[0], group="monitoring", role="prometheus")
    hostvars = {"mon1": {"prometheus_external_url": "http://mon1/p", "monitoring_external_url": "http://mon1/m"}}
    assert datasources([source], {"monitoring": ["mon1"]}, hostvars)[0]["url"] == "http://mon1:9090/p"
    _bad(["role must be a string"], [dict(source, role=1)], {"monitoring": ["mon1"]}, hostvars)


def test_the_route_prefix_is_the_path_of_the_external_url():
    hostvars = {"mon1": {"prometheus_external_url": "https://mon1.example.org/prometheus/",
                         "alertmanager_external_url": "https://mon1.example.org/"}}
    result = _by_name(datasources(SOURCES, GROUPS, hostvars))
    assert result["Prometheus"]["url"] == "http://mon1:9090/prometheus"
    assert result["Alertmanager"]["url"] == "http://mon1:9093"


def test_an_external_url_without_scheme_is_refused():
    hostvars = {"mon1": {"prometheus_external_url": "mon1.example.org/prometheus/"}}
    _bad(["datasource 'Prometheus'", "prometheus_external_url of mon1",
          "external URL 'mon1.example.org/prometheus/' has no http:// or https:// scheme"], SOURCES, GROUPS, hostvars)


def test_basic_auth_as_grafana_from_the_users_of_the_target():
    hostvars = {"mon1": {"prometheus_basic_auth_users": {"runbook": "r", "grafana": "pw#1"},
                         "alertmanager_basic_auth_users": {"viewer": "v"}}}
    sources = [SOURCES[0], dict(SOURCES[1], basic_auth_user="viewer")]
    prom, alertmanager = datasources(sources, GROUPS, hostvars)
    assert prom["basicAuth"] is True and prom["basicAuthUser"] == "grafana"
    assert prom["secureJsonData"] == {"basicAuthPassword": "pw#1"}
    assert alertmanager["basicAuthUser"] == "viewer" and alertmanager["secureJsonData"] == {"basicAuthPassword": "v"}


def test_a_missing_grafana_user_names_the_datasource_the_host_and_the_variable():
    hostvars = {"mon1": {"alertmanager_basic_auth_users": {"runbook": "r"}}}
    message = _bad(["datasource 'Alertmanager'", "alertmanager_basic_auth_users of mon1", "no user 'grafana'", "runbook"],
                   SOURCES, GROUPS, hostvars)
    assert "'r'" not in message  # user names, never passwords


@pytest.mark.parametrize("users, fragment", [({"grafana": ""}, "empty password"), (["grafana"], "must map user names")])
def test_bad_users_are_refused(users, fragment):
    _bad([fragment], SOURCES, GROUPS, {"mon1": {"prometheus_basic_auth_users": users}})


def test_https_datasources_trust_the_given_ca():
    hostvars = {"mon1": {"monitoring_stack_tls": SITE_TLS}, "logs1": {}}
    result = _by_name(datasources(SOURCES, GROUPS, hostvars, ca_cert=CA.strip()))
    assert result["Prometheus"]["jsonData"]["tlsAuthWithCACert"] is True
    assert result["Prometheus"]["secureJsonData"] == {"tlsCACert": CA}
    assert "secureJsonData" not in result["Loki"] and "tlsAuthWithCACert" not in result["Loki"]["jsonData"]  # http


def test_a_ca_path_instead_of_pem_is_refused_without_echoing_it():
    message = _bad(["ca_cert must be the PEM text", "23-character text"], SOURCES, GROUPS, {}, ca_cert="/etc/ssl/private/ca.pem")
    assert "/etc/ssl" not in message
    _bad(["ca_cert must be the PEM text", "got int"], SOURCES, GROUPS, {}, ca_cert=5)


def test_a_loki_with_auth_gets_one_datasource_per_tenant():
    hostvars = {"logs1": {"loki_auth_enabled": True}}
    sources = [dict(SOURCES[2], is_default=True, json_data={"maxLines": 10, "httpHeaderName1": "X-Trace"})]
    result = datasources(sources, GROUPS, hostvars, tenants=["team-a", "team-b", "team-a"])
    assert [(d["name"], d["uid"], d["isDefault"]) for d in result] == [
        ("Loki (team-a)", "loki-team-a", True), ("Loki (team-b)", "loki-team-b", False)]
    assert result[1]["jsonData"] == {"maxLines": 10, "httpHeaderName1": "X-Trace", "httpHeaderName2": "X-Scope-OrgID"}
    assert result[1]["secureJsonData"] == {"httpHeaderValue2": "team-b"}
    assert all(d["url"] == "http://logs1:3100" for d in result)
    # Loki without auth ignores the tenants: one datasource, no header.
    assert datasources(SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": False}}, tenants=["team-a"])[2]["uid"] == "loki"
    assert len(datasources(SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": "true"}}, tenants=["x"])) == 3


def test_a_tenant_header_already_in_json_data_keeps_its_slot():
    sources = [dict(SOURCES[2], json_data={"httpHeaderName1": "X-Trace", "httpHeaderName2": "x-scope-orgid"})]
    entry = datasources(sources, GROUPS, {"logs1": {"loki_auth_enabled": True}}, tenants=["a"])[0]
    assert entry["jsonData"] == {"httpHeaderName1": "X-Trace", "httpHeaderName2": "X-Scope-OrgID"}
    assert entry["secureJsonData"] == {"httpHeaderValue2": "a"}


def test_a_tenant_uid_is_sanitised_and_collisions_are_refused():
    hostvars = {"logs1": {"loki_auth_enabled": True}}
    assert datasources([SOURCES[2]], GROUPS, hostvars, tenants=["ops.eu(1)"])[0]["uid"] == "loki-ops-eu-1-"
    long_uid = datasources([dict(SOURCES[2], uid="l" * 38)], GROUPS, hostvars, tenants=["a"])[0]["uid"]
    assert long_uid == "l" * 38 + "-a"
    _bad(["tenants 'team.a' and 'team-a' give the same uid 'loki-team-a'"], [SOURCES[2]], GROUPS, hostvars,
         tenants=["team.a", "team-a"])


def test_a_loki_with_auth_and_no_tenant_is_refused():
    _bad(["datasource 'Loki'", "loki_auth_enabled is true on logs1", "log_shipper_tenant_id"],
         SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": True}}, tenants=[])


@pytest.mark.parametrize("tenants", [["a|b"], [""], [".."], "team-a", [1]])
def test_bad_tenants_are_refused(tenants):
    with pytest.raises(AnsibleFilterError, match="tenant"):
        datasources(SOURCES, GROUPS, {}, tenants=tenants)


def test_bad_sources_are_refused():
    _bad(["unknown key(s) prot"], [{"name": "x", "type": "prometheus", "uid": "x", "group": "g", "prot": 1}], {})
    _bad(["'uid'"], [{"name": "x", "type": "prometheus", "group": "g"}], {})
    _bad(["uid 'a b'"], [{"name": "x", "type": "prometheus", "uid": "a b", "group": "g"}], {})
    _bad(["must be a list"], {"name": "x"}, {})
    _bad(["must be a mapping"], ["x"], {})


# --------------------------------------------------------------------------- grafana_dashboard_datasource_uids


def test_dashboard_uids_follow_the_datasources():
    assert dashboard_uids([]) == {"prometheus": "prometheus", "loki": "loki"}
    tenants = datasources(SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": True}}, tenants=["b", "a"])
    assert dashboard_uids(tenants) == {"prometheus": "prometheus", "loki": "loki-b"}
    own = [{"name": "P1", "type": "prometheus", "uid": "p1"}, {"name": "P2", "type": "prometheus", "uid": "p2", "isDefault": True}]
    assert dashboard_uids(own)["prometheus"] == "p2"
    with pytest.raises(AnsibleFilterError, match="must be a mapping with a name"):
        dashboard_uids([{"type": "loki"}])
    with pytest.raises(AnsibleFilterError, match="datasources must be a list"):
        dashboard_uids({"name": "P"})


# --------------------------------------------------------------------------- grafana_datasources_check


def _auth_loki(**kwargs):
    args = {"sources": SOURCES, "groups": GROUPS, "hostvars": {"logs1": {"loki_auth_enabled": True}}}
    args.update(kwargs)
    return args


def test_the_derived_datasources_pass_their_check():
    derived = datasources(SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": True}}, tenants=["a", "b"])
    assert check(derived, tenants=["a", "b"], dashboard_uids=dashboard_uids(derived), **_auth_loki()) is True


def test_a_shipper_tenant_without_a_loki_datasource_is_refused():
    own = [{"name": "Loki A", "type": "loki", "uid": "la", "url": "http://logs1:3100",
            "jsonData": {"httpHeaderName1": "x-scope-orgid"}, "secureJsonData": {"httpHeaderValue1": "a"}}]
    assert check(own, tenants=["a"], **_auth_loki()) is True
    with pytest.raises(AnsibleFilterError) as info:
        check(own, tenants=["a", "billing", "ops"], **_auth_loki())
    assert "Loki tenant(s) billing, ops" in str(info.value) and "X-Scope-OrgID" in str(info.value)
    with pytest.raises(AnsibleFilterError, match="Loki tenant.s. a: "):
        check([], tenants=["a"], **_auth_loki())
    # Loki without auth (or not in the inventory) reads every shipper's logs without a tenant.
    assert check(own, tenants=["billing"], **_auth_loki(hostvars={})) is True
    assert check(own, tenants=["billing"]) is True


def test_an_http_datasource_url_without_scheme_is_refused():
    own = [{"name": "Prometheus", "type": "prometheus", "url": "mon1.example.org:9090"}]
    with pytest.raises(AnsibleFilterError, match="datasource 'Prometheus': URL 'mon1.example.org:9090' has no http:// or https:// scheme"):
        check(own)
    assert check([{"name": "DB", "type": "postgres", "url": "db1:5432"}]) is True


def test_a_dashboard_uid_without_its_datasource_is_refused():
    derived = datasources(SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": True}}, tenants=["a"])
    with pytest.raises(AnsibleFilterError, match=r"grafana_dashboard_datasource_uids.loki is 'loki', but no loki datasource has that uid \(loki-a\)"):
        check(derived, dashboard_uids={"prometheus": "prometheus", "loki": "loki"})
    assert check(datasources(SOURCES, {"prometheus": ["mon1"]}, {}), dashboard_uids={"loki": "loki"}) is True


# --------------------------------------------------------------------------- health requests and failures


def test_health_requests_use_the_datasources_url_credentials_headers_and_ca():
    hostvars = {"mon1": {"monitoring_stack_tls": SITE_TLS, "prometheus_external_url": "https://mon1/prometheus/",
                         "prometheus_basic_auth_users": {"grafana": "pw"}},
                "logs1": {"loki_auth_enabled": True}}
    derived = datasources(SOURCES, GROUPS, hostvars, ca_cert=CA, tenants=["a"])
    requests = {r["name"]: r for r in health_requests(derived, ca_path="/etc/grafana/tls/datasources-ca.crt", ca_cert=CA)}
    assert requests["Prometheus"] == {
        "name": "Prometheus", "uid": "prometheus", "url": "https://mon1:9090/prometheus/api/v1/query?query=1",
        "label": "Grafana datasource 'Prometheus' (https://mon1:9090/prometheus/api/v1/query?query=1)",
        "user": "grafana", "password": "pw", "headers": {}, "validate_certs": True,
        "ca_path": "/etc/grafana/tls/datasources-ca.crt"}
    assert requests["Alertmanager"]["url"] == "https://mon1:9093/api/v2/status" and requests["Alertmanager"]["user"] == ""
    assert requests["Loki (a)"]["url"] == "http://logs1:3100/loki/api/v1/labels"
    assert requests["Loki (a)"]["headers"] == {"X-Scope-OrgID": "a"} and requests["Loki (a)"]["ca_path"] == ""


def test_health_requests_skip_excluded_and_other_types():
    derived = datasources(SOURCES, GROUPS, {}) + [{"name": "DB", "type": "postgres", "url": "db:5432"}]
    assert [r["name"] for r in health_requests(derived, exclude=["Loki", "alertmanager"])] == ["Prometheus"]
    tenants = datasources(SOURCES, GROUPS, {"logs1": {"loki_auth_enabled": True}}, tenants=["a", "b"])
    assert [r["name"] for r in health_requests(tenants, exclude=["Loki*"])] == ["Prometheus", "Alertmanager"]
    assert [r["name"] for r in health_requests(tenants, exclude=["loki-b", "Prom"])] == ["Prometheus", "Alertmanager", "Loki (a)"]
    own = [{"name": "P", "type": "prometheus", "url": "https://p.example.org/", "jsonData": {"tlsSkipVerify": True}}]
    assert health_requests(own)[0]["url"] == "https://p.example.org/api/v1/query?query=1"
    assert health_requests(own)[0]["validate_certs"] is False


@pytest.mark.parametrize("datasource, fragment", [
    ({"url": "p.example.org:9090"}, "has no http:// or https:// scheme"),
    ({}, "has no url to check"),
    ({"url": "https://p", "jsonData": {"tlsAuthWithCACert": True}}, "set grafana_datasources_ca_file"),
    ({"url": "https://p", "jsonData": {"tlsAuthWithCACert": True},
      "secureJsonData": {"tlsCACert": "-----BEGIN CERTIFICATE-----\nother\n-----END CERTIFICATE-----"}},
     "other than grafana_datasources_ca_file"),
    ({"url": "http://p", "basicAuth": True}, "no basicAuthUser"),
])
def test_health_requests_refuse_what_they_cannot_check(datasource, fragment):
    own = [dict({"name": "P", "type": "prometheus"}, **datasource)]
    with pytest.raises(AnsibleFilterError, match=fragment):
        health_requests(own, ca_path="/etc/grafana/tls/datasources-ca.crt" if "other" in str(datasource) else "", ca_cert=CA)
    assert health_requests(own, exclude=["P"]) == []


def test_health_failures_name_the_datasource_the_url_and_the_status_only():
    requests = health_requests([{"name": "Prometheus", "type": "prometheus", "uid": "prometheus",
                                 "url": "https://mon1:9090/prometheus", "basicAuth": True, "basicAuthUser": "grafana",
                                 "secureJsonData": {"basicAuthPassword": "s3cret"}}])
    results = [
        {"item": requests[0], "status": 401, "failed": True, "msg": "Status code was 401: s3cret", "ansible_loop_var": "item"},
        {"item": dict(requests[0], label="Grafana datasource 'Loki' (http://l:3100/loki/api/v1/labels)"), "status": -1},
        {"item": requests[0], "status": 200},
        {"check": {"name": "X"}, "ansible_loop_var": "check"},
        {"skipped": True},
    ]
    assert health_failures(results) == [
        "Grafana datasource 'Prometheus' (https://mon1:9090/prometheus/api/v1/query?query=1) answered HTTP 401",
        "Grafana datasource 'Loki' (http://l:3100/loki/api/v1/labels) did not answer over HTTP (connection refused, "
        "unknown name, TLS verification failed or timeout)",
        "Grafana datasource 'X' did not answer over HTTP (connection refused, unknown name, TLS verification failed "
        "or timeout)",
    ]
    assert "s3cret" not in " ".join(health_failures(results))
    assert health_failures([]) == [] and health_failures(None) == []


# --------------------------------------------------------------------------- the plan writes them as a secret


def test_datasources_with_secure_json_data_are_written_as_a_secret():
    derived = datasources(SOURCES, GROUPS, {"mon1": {"prometheus_basic_auth_users": {"grafana": "pw-secret"}}})
    plan = grafana_plan({"server": {"http_port": 3000}}, config_dir="/etc/grafana", dashboards_dir="/var/lib/grafana/dashboards",
                        datasources=copy.deepcopy(derived), folders=[{"uid": "f", "title": "F"}])
    holding = [write for write in plan["writes"] for item in write["files"] if "pw-secret" in item["content"]]
    assert [(w["name"], w["secret"]) for w in holding] == [("grafana.ini, datasources and alerting", True)]
    assert any(item["dest"] == "/etc/grafana/provisioning/datasources/monitoring-stack.yml" for item in holding[0]["files"])
