"""Unit tests of the monitoring.stack.application_scrape_jobs filter and of its jobs in scrape_plan."""

import json
import os
import subprocess

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.rules import rule_pack_groups
from ansible_collections.monitoring.stack.plugins.filter.scrape import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._applications import application_scrape_jobs
from ansible_collections.monitoring.stack.plugins.module_utils._otlp import prometheus_otlp_sections
from ansible_collections.monitoring.stack.plugins.module_utils._scrape import scrape_plan
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

FILTERS = FilterModule().filters()

GROUPS = {"applications": ["app2", "app1", "api"], "node_exporter": ["app1"]}
HOSTVARS = {
    "app1": {"ansible_host": "10.0.0.11", "prometheus_target_labels": {"dc": "a"},
             "app_metrics": [{"name": "django-finance", "port": 8000, "framework": "django", "labels": {"team": "finance"}},
                             {"name": "worker", "port": 9808, "path": "/stats", "rule_packs": {}}]},
    "app2": {"ansible_host": "10.0.0.12",
             "app_metrics": [{"name": "django-finance", "port": 8001, "framework": "django", "labels": {"team": "finance"}}]},
    "api": {"ansible_host": "fd00::5",
            "app_metrics": [{"name": "shop", "port": 8080, "framework": "fastapi", "scheme": "https", "auth": "none",
                             "rule_packs": {"http_app": {"min_requests_per_second": 0.1}, "notifications": {"job": "shop"}}}]},
}
DEFAULTS = {"scheme": "https", "tls": {"ca_file": "/etc/ssl/site-ca.crt"},
            "basic_auth": {"username": "prometheus", "password": "scrape-secret"}}


def _jobs(groups=None, hostvars=None, **kwargs):
    return application_scrape_jobs(groups or GROUPS, hostvars or HOSTVARS, **kwargs)


def test_one_job_per_application_with_one_target_per_host():
    jobs = {job["name"]: job for job in _jobs()}
    assert sorted(jobs) == ["django-finance", "shop", "worker"]
    finance = jobs["django-finance"]
    assert finance["metrics_path"] == "/metrics"
    assert finance["targets"] == [
        {"target": "10.0.0.11:8000", "labels": {"dc": "a", "team": "finance"}},
        {"target": "10.0.0.12:8001", "labels": {"team": "finance"}},
    ]
    assert jobs["shop"]["targets"] == [{"target": "[fd00::5]:8080", "labels": {}}]
    assert jobs["worker"]["metrics_path"] == "/stats"
    assert jobs["worker"]["rule_packs"] == {}


def test_frameworks_set_the_pack_params_and_different_params_make_pack_instances():
    jobs = {job["name"]: job for job in _jobs()}
    assert jobs["django-finance"]["rule_packs"] == {"http_app@django-finance": {"job": "django-finance"}}
    assert jobs["shop"]["rule_packs"] == {
        "notifications": {"job": "shop"},
        "http_app@shop": {"job": "shop", "endpoint_label": "handler", "min_requests_per_second": 0.1}}


def test_jobs_with_equal_params_share_one_pack_named_after_the_pack():
    hostvars = {
        "a": {"app_metrics": [{"name": "billing", "port": 8000}]},
        "b": {"app_metrics": [{"name": "accounts", "port": 8000, "framework": "django"}]},
    }
    jobs = _jobs({"applications": ["a", "b"]}, hostvars)
    assert [job["rule_packs"] for job in jobs] == [{"http_app": {"job": "accounts|billing"}}] * 2


def test_the_jobs_go_through_scrape_plan_with_defaults_auth_and_file_sd():
    plan = scrape_plan([], GROUPS, HOSTVARS, extra=_jobs(), defaults=DEFAULTS)
    configs = {config["job_name"]: config for config in plan["scrape_configs"]}
    # default auth: the scrape defaults (site TLS and credentials) as for the exporters
    assert configs["django-finance"]["scheme"] == "https"
    assert configs["django-finance"]["basic_auth"] == {
        "username": "prometheus", "password_file": "/etc/prometheus/secrets/django-finance.basic_auth"}
    assert configs["django-finance"]["tls_config"]["ca_file"] == "/etc/ssl/site-ca.crt"
    # auth: none keeps scheme and TLS of the defaults, drops the credentials
    assert "basic_auth" not in configs["shop"]
    assert configs["shop"]["tls_config"]["ca_file"] == "/etc/ssl/site-ca.crt"
    assert configs["worker"]["metrics_path"] == "/stats"
    assert plan["file_sd"]["django-finance"] == [
        {"targets": ["10.0.0.11:8000"], "labels": {"dc": "a", "team": "finance"}},
        {"targets": ["10.0.0.12:8001"], "labels": {"team": "finance"}}]
    assert set(plan["rule_packs"]) == {"http_app@django-finance", "http_app@shop", "notifications"}


def test_an_application_that_is_gone_leaves_no_job():
    hostvars = dict(HOSTVARS, api={"ansible_host": "fd00::5"})
    plan = scrape_plan([], GROUPS, hostvars, extra=_jobs(hostvars=hostvars))
    assert "shop" not in plan["file_sd"]
    assert "http_app@shop" not in plan["rule_packs"]
    # one framework left: the pack is no longer split into instances
    assert plan["rule_packs"] == {"http_app": {"job": "django-finance"}}


def test_own_credentials_go_to_files():
    hostvars = {"a": {"app_metrics": [{"name": "billing", "port": 8000,
                                       "auth": {"authorization": {"credentials": "token"}}}]}}
    plan = scrape_plan([], {"applications": ["a"]}, hostvars, extra=_jobs({"applications": ["a"]}, hostvars), defaults=DEFAULTS)
    config = plan["scrape_configs"][0]
    assert config["authorization"] == {"type": "Bearer", "credentials_file": "/etc/prometheus/secrets/billing.credentials"}
    assert "basic_auth" not in config
    assert plan["secrets"] == [{"path": "/etc/prometheus/secrets/billing.credentials", "content": "token"}]


def test_pack_instances_render_with_their_params():
    packs = [{"pack": "http_app", "params": {"job": "app", "endpoint_label": "endpoint"},
              "recording_rules": [{"record": "x", "expr": 'sum by (${endpoint_label}) (m{job=~"${job}"})'}]}]
    groups = rule_pack_groups(packs, enabled=["http_app@shop", "http_app"],
                              params={"http_app": {"endpoint_label": "path"}, "http_app@shop": {"job": "shop"}})
    assert [group["name"] for group in groups] == ["http_app@shop", "http_app"]
    assert groups[0]["rules"][0]["expr"] == 'sum by (path) (m{job=~"shop"})'
    assert groups[1]["rules"][0]["expr"] == 'sum by (path) (m{job=~"app"})'
    with pytest.raises(AnsibleFilterError, match="no rule pack of this name"):
        rule_pack_groups(packs, enabled=["nope@shop"])


@pytest.mark.parametrize("hostvars, message", [
    ({"a": {"app_metrics": {"name": "x"}}}, "expected a list"),
    ({"a": {"app_metrics": [{"port": 80}]}}, "needs a name"),
    ({"a": {"app_metrics": [{"name": "x", "port": 0}]}}, "port"),
    ({"a": {"app_metrics": [{"name": "x", "port": 80, "framework": "rails"}]}}, "framework"),
    ({"a": {"app_metrics": [{"name": "x", "port": 80, "path": "metrics"}]}}, "path"),
    ({"a": {"app_metrics": [{"name": "x", "port": 80, "auth": "basic"}]}}, "auth"),
    ({"a": {"app_metrics": [{"name": "x", "port": 80, "prot": 1}]}}, "did you mean"),
    ({"a": {"app_metrics": [{"name": "x", "port": 80}, {"name": "x", "port": 81}]}}, "listed twice"),
    ({"a": {"app_metrics": [{"name": "x", "port": 80, "rule_packs": {"http_app": {"job": "y"}}}]}}, "job is set"),
    ({"a": {"app_metrics": [{"name": "node", "port": 80}]}}, "scrape job of the stack"),
])
def test_bad_input_names_host_application_and_field(hostvars, message):
    with pytest.raises(SpecError, match=message):
        _jobs({"applications": ["a"]}, hostvars, reserved=["node", "prometheus"])


def test_hosts_of_one_application_must_agree():
    hostvars = {"a": {"app_metrics": [{"name": "x", "port": 80, "framework": "django"}]},
                "b": {"app_metrics": [{"name": "x", "port": 80, "framework": "flask"}]}}
    with pytest.raises(SpecError, match=r"x on b.*framework.*differs from x on a"):
        _jobs({"applications": ["a", "b"]}, hostvars)


def test_filter_wraps_errors_and_ignores_an_empty_group():
    assert FILTERS["application_scrape_jobs"]({"applications": []}, {}) == []
    assert FILTERS["application_scrape_jobs"]({}, {}) == []
    with pytest.raises(AnsibleFilterError, match="monitoring.stack.application_scrape_jobs"):
        FILTERS["application_scrape_jobs"]({"applications": ["a"]}, {"a": {"app_metrics": [{"name": "x"}]}})


PROMTOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", ".cache", "tools", "bin", "promtool")


@pytest.mark.skipif(not os.access(PROMTOOL, os.X_OK), reason="promtool of the test mirror not built (make mirror)")
def test_promtool_accepts_application_jobs_and_the_otlp_receiver(tmp_path):
    """The pinned Prometheus 3.5 promtool takes the application jobs and the otlp/storage sections of prometheus_otlp."""
    result = scrape_plan([], GROUPS, HOSTVARS, extra=_jobs(), file_sd_dir=str(tmp_path), secrets_dir=str(tmp_path),
                         defaults={"basic_auth": {"username": "prometheus", "password": "pw"}})
    for job, groups in result["file_sd"].items():
        (tmp_path / ("%s.json" % job)).write_text(json.dumps(groups), encoding="utf-8")
    for secret in result["secrets"]:
        (tmp_path / os.path.basename(secret["path"])).write_text(secret["content"], encoding="utf-8")
    config = {"global": {"scrape_interval": "15s"}, "scrape_configs": result["scrape_configs"]}
    config.update(prometheus_otlp_sections({
        "enabled": True, "promote_resource_attributes": ["tenant_id", "deployment.environment"],
        "translation_strategy": "UnderscoreEscapingWithSuffixes", "keep_identifying_resource_attributes": True,
        "convert_histograms_to_nhcb": False, "out_of_order_time_window": "30m"}))
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stdout + proc.stderr
    # an attribute promoted twice is refused by promtool itself (the filter refuses it first)
    config["otlp"]["promote_resource_attributes"] = ["tenant_id", "tenant_id"]
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "duplicated promoted OTel resource attribute" in proc.stdout + proc.stderr


def test_rule_scope_reaches_packs_own_rules_and_slos_as_the_role_passes_it():
    """prometheus_rule_scope -> {selector, group_by} (null when unset) as keyword options of each rule_pack_groups call."""
    packs = [{"pack": "http_app", "params": {"job": "app"},
              "recording_rules": [{"record": "job:x:rate5m", "expr": 'sum by (job) (rate(x{job=~"${job}"}[5m]))'}],
              "alerts": [{"name": "XDown", "metric": 'up{job=~"${job}"}', "comparison": "==", "threshold": 0,
                          "severity": "critical", "summary": "down"}]}]
    scope = {"selector": 'tenant_id=~"t1|t2"', "group_by": ["tenant_id"]}
    pack = rule_pack_groups(packs, enabled=["http_app"], **scope)[0]["rules"]
    assert pack[0]["expr"] == 'sum by (job, tenant_id) (rate(x{job=~"app", tenant_id=~"t1|t2"}[5m]))'
    assert pack[1]["expr"] == 'up{job=~"app", tenant_id=~"t1|t2"} == 0'
    own = rule_pack_groups(packs, enabled=[], extra_rules=[{"name": "Own", "expr": "sum by (job) (y) > 1",
                                                            "severity": "info", "summary": "own"}], **scope)
    assert own[0]["rules"][0]["expr"] == 'sum by (job, tenant_id) (y{tenant_id=~"t1|t2"}) > 1'
    slos = rule_pack_groups(packs, enabled=[], slos=[{"name": "api", "objective": 99, "sli": {
        "type": "availability", "metric": "http_requests_total", "error_selector": 'status=~"5.."'}}], **scope)
    exprs = [rule["expr"] for group in slos for rule in group["rules"]]
    assert exprs[0].startswith('(sum(rate(http_requests_total{status=~"5..", tenant_id=~"t1|t2"}[5m]))')
    assert all("tenant_id" in expr for expr in exprs if "by (" in expr)
    # unset: the role passes nulls, nothing is scoped
    unscoped = rule_pack_groups(packs, enabled=["http_app"], selector=None, group_by=None)[0]["rules"]
    assert unscoped[0]["expr"] == 'sum by (job) (rate(x{job=~"app"}[5m]))'


def test_prometheus_role_passes_the_scope_to_every_rule_file():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..",
                           "roles", "prometheus", "tasks", "configure.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    calls = [task["vars"]["__prometheus_groups"] for task in tasks if "__prometheus_groups" in (task.get("vars") or {})]
    # Packs, own rules, SLOs; the retention tiers only average series those rules already scoped.
    built = [call for call in calls if "rule_pack_groups" in call]
    assert len(built) == 3 and calls == built + ["{{ _prometheus_scale.rule_groups }}"]
    assert all("**_prometheus_rule_scope" in call for call in built)


def test_the_applications_dashboard_follows_the_applications_group():
    """roles/grafana: the library entry {name: applications, groups: [applications], packs: [http_app]}."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_selection import library_dashboards
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..",
                           "roles", "grafana", "defaults", "main.yml"), encoding="utf-8") as handle:
        library = yaml.safe_load(handle)["grafana_dashboards_library"]
    assert {"name": "applications", "groups": ["applications"], "packs": ["http_app"]} in library
    assert "applications" in library_dashboards(library, GROUPS, HOSTVARS)
    assert "applications" not in library_dashboards(library, {"applications": [], "prometheus": ["mon"]}, {"mon": {}})
