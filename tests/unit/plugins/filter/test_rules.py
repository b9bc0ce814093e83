# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the monitoring.stack rule filters and of the shipped rule packs."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter import rules
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SEVERITIES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PACK_FILES = sorted(glob.glob(os.path.join(ROOT, "roles", "prometheus", "files", "rule_packs", "*.yml")))
PACKS = [yaml.safe_load(open(path, encoding="utf-8")) for path in PACK_FILES]
EXPECTED_PACKS = ["alertmanager", "backups", "blackbox", "business", "containers", "http_app", "kafka", "mobile_sync", "node", "nginx",
                  "notifications", "postgresql", "prometheus", "pushgateway", "redis"]


def test_filter_names():
    assert sorted(rules.FilterModule().filters()) == ["alert_rule_groups", "promql_scope", "rule_pack_groups", "slo_rule_groups"]


def test_all_packs_are_shipped():
    assert sorted(pack["pack"] for pack in PACKS) == sorted(EXPECTED_PACKS)
    assert [os.path.basename(p)[:-4] for p in PACK_FILES] == sorted(pack["pack"] for pack in PACKS)


def test_every_pack_renders_with_valid_severities_and_runbooks():
    groups = rules.rule_pack_groups(PACKS, runbook_base_url="https://rb.example.com")
    alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    assert len(alerts) > 30
    for rule in alerts:
        assert rule["labels"]["severity"] in SEVERITIES
        assert rule["annotations"]["runbook_url"].startswith("https://rb.example.com/")
        assert rule["annotations"]["summary"]
    assert len({rule["alert"] for rule in alerts}) == len(alerts)
    yaml.safe_dump({"groups": groups})  # plain data, ready for to_nice_yaml


@pytest.mark.parametrize("record", [
    "instance:node_cpu_utilisation:rate5m", "instance:node_memory_utilisation:ratio", "job:nginx_http_requests:rate5m",
    "job_endpoint:nginx_http_request_duration_seconds:p95_rate5m", "instance:pg_connections_used:ratio",
])
def test_dashboard_recording_rules_exist(record):
    groups = rules.rule_pack_groups(PACKS)
    assert record in {rule.get("record") for group in groups for rule in group["rules"]}


def test_required_thresholds_from_the_requirements():
    groups = rules.rule_pack_groups(PACKS)
    by_name = {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}
    assert by_name["HostHighCpuUtilisation"]["expr"].endswith("> 80") and by_name["HostHighCpuUtilisation"]["for"] == "15m"
    assert by_name["HostHighMemoryUtilisation"]["expr"].endswith("> 85")
    assert by_name["HostDiskSpaceLow"]["expr"].endswith("< 10")
    assert by_name["NginxHighErrorRate"]["expr"].endswith("> 1") and by_name["NginxHighErrorRate"]["labels"]["severity"] == "critical"
    assert by_name["NginxHighLatency"]["for"] == "10m" and by_name["NginxHighLatency"]["labels"]["severity"] == "warning"
    assert by_name["BlackboxSslCertificateExpiringSoon"]["expr"].endswith("< 30")
    assert by_name["BlackboxSslCertificateExpiringVerySoon"]["labels"]["severity"] == "critical"
    assert by_name["BackupStale"]["expr"].endswith("> 93600")
    assert by_name["PostgresqlLowCacheHitRatio"]["expr"].endswith("< 95")


def test_tenant_scope_reaches_every_expression():
    groups = rules.rule_pack_groups(PACKS, selector={"tenant_id": "t1"})
    for group in groups:
        for rule in group["rules"]:
            assert 'tenant_id="t1"' in rule["expr"], rule


def test_rule_pack_groups_overrides_and_switches():
    groups = rules.rule_pack_groups(PACKS, enabled=["node"], overrides={"HostHighCpuUtilisation": {"threshold": 95},
                                                                        "HostDown": {"enabled": False}},
                                    params={"node": {"job": "node_exporter"}})
    alerts = {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}
    assert "HostDown" not in alerts
    assert alerts["HostHighCpuUtilisation"]["expr"] == 'instance:node_cpu_utilisation:rate5m{job="node_exporter"} * 100 > 95'
    assert alerts["HostHighCpuUtilisation"]["annotations"]["summary"].endswith("above 95%.")
    assert [g["name"] for g in groups] == ["node"]


def test_alert_rule_groups_filter():
    groups = rules.alert_rule_groups([{"name": "PaymentFailures", "expr": "sum(increase(f[10m]))", "threshold": 5,
                                       "severity": "critical", "summary": "s", "runbook": "business/payment-failure"}],
                                     group="business", runbook_base_url="https://wiki.dps.local/runbooks")
    assert groups == [{"name": "business", "rules": [{
        "alert": "PaymentFailures", "expr": "sum(increase(f[10m])) > 5", "labels": {"severity": "critical"},
        "annotations": {"summary": "s", "runbook_url": "https://wiki.dps.local/runbooks/business/payment-failure"}}]}]


def test_slo_rule_groups_filter():
    groups = rules.slo_rule_groups([{"name": "x", "objective": 99.5, "sli": {"error_query": "e[${window}]", "total_query": "t[${window}]"}}],
                                   labels={"team": "api"})
    assert groups[0]["rules"][-4]["labels"] == {"team": "api", "slo": "x", "long_window": "1h", "short_window": "5m", "severity": "critical"}


def test_promql_scope_filter():
    assert rules.promql_scope("sum by (job) (up)", 'env="prod"') == 'sum by (job, env) (up{env="prod"})'


@pytest.mark.parametrize("call, message", [
    (lambda: rules.alert_rule_groups([{"name": "X", "expr": "x", "severity": "page", "summary": "s"}]),
     "alert_rule_groups: rule 'X', field 'severity': 'page' is not one of critical|warning|info"),
    (lambda: rules.alert_rule_groups([{"name": "X", "expr": "x", "severity": "info", "summary": "s", "for": "5"}]),
     "rule 'X', field 'for'"),
    (lambda: rules.alert_rule_groups([{"name": "X", "expr": "x", "severity": "info", "summary": "s", "sumary": "s"}]),
     "rule 'X', field 'sumary': unknown key"),
    (lambda: rules.rule_pack_groups(PACKS, overrides={"HostHighCpu": {"threshold": 1}}), "rule 'HostHighCpu', field 'overrides'"),
    (lambda: rules.rule_pack_groups(PACKS, enabled=["mysql"]), "rule 'mysql', field 'enabled'"),
    (lambda: rules.rule_pack_groups(PACKS, runbook_url="x"), "field 'runbook_url': unknown option"),
    (lambda: rules.slo_rule_groups([{"name": "x", "objective": 99.9, "sli": {"type": "latency", "metric": "m"}}]),
     "rule 'x', field 'sli.threshold'"),
])
def test_errors_are_ansible_filter_errors(call, message):
    with pytest.raises(AnsibleFilterError) as err:
        call()
    assert message in str(err.value)
