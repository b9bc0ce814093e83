# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loki: loki_config_extra keys, log alert rules (LogQL) and the ruler's Alertmanagers.

(plugins/module_utils/_loki.py, _loki_rules.py through the filters of plugins/filter/logs.py.)
"""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.logs import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils import _loki as L
from ansible_collections.monitoring.stack.plugins.module_utils import _loki_rules as R
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

FILTERS = FilterModule().filters()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "..")


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


PACKS = [_load(os.path.join(ROOT, "roles", "loki", "files", "rule_packs", name))
         for name in sorted(os.listdir(os.path.join(ROOT, "roles", "loki", "files", "rule_packs")))]


# --------------------------------------------------------------------------- 6. loki_config_extra keys

def test_top_level_keys_are_the_upstream_ones():
    keys = _load(os.path.join(HERE, "data", "loki_3_7_keys.yml"))
    assert L.LOKI_TOP_LEVEL_KEYS == frozenset(keys["root"])


@pytest.mark.parametrize("extra, problem", [
    ({"limit_config": {"ingestion_rate_mb": 8}}, "'limit_config' is not a top-level key of the Loki 3.x configuration (did you mean 'limits_config'?)"),
    ({"ingestor": {}}, "did you mean 'ingester'?"),
    ({"querry_range": {}}, "did you mean 'query_range'?"),
])
def test_typos_in_loki_config_extra_are_caught_with_a_did_you_mean(extra, problem):
    problems = FILTERS["loki_config_extra_problems"](extra)
    assert len(problems) == 1 and problem in problems[0]
    with pytest.raises(AnsibleFilterError, match="Loki would refuse to start"):
        FILTERS["loki_config"]({"extra": extra})


def test_known_keys_pass():
    extra = {"limits_config": {"ingestion_rate_mb": 8}, "ingester": {"chunk_idle_period": "1h"}, "querier": {}}
    assert FILTERS["loki_config_extra_problems"](extra) == []
    assert FILTERS["loki_config_extra_problems"]({}) == []
    assert FILTERS["loki_config_extra_problems"]([1]) == ["loki_config_extra must be a mapping of Loki configuration keys, got list"]


# --------------------------------------------------------------------------- 8. LogQL rules

@pytest.mark.parametrize("expr", [
    'sum by (host) (count_over_time({job="odoo", level="ERROR"}[5m])) > 20',
    'count_over_time({job="systemd-journal", unit=~"backup-.+"} |~ "backup failed|restore test FAILED" [15m])',
    'rate({job=~"odoo|django"} | json | status >= 500 [1m])',
    'sum(rate({app="a"} |= "{" [5m])) / sum(rate({app="a"}[5m]))',
    'absent_over_time({job="backup"}[1d])',
])
def test_good_logql(expr):
    assert R.check_logql(expr) == expr


@pytest.mark.parametrize("expr, message", [
    ('count_over_time({job="odoo"}[5m]', "never closed"),
    ('count_over_time({job="odoo}[5m])', "unterminated string"),
    ('count_over_time({job=~".*"}[5m])', "does not match the empty string"),
    ('count_over_time({job="odoo" level="x"}[5m])', "bad label matcher"),
    ('count_over_time({job="odoo"}[5 minutes])', "not a duration"),
    ('{job="odoo"} |= "error"', "metric query"),
    ('sum(rate(up[5m]))', "no stream selector"),
    ('count_over_time({job="odoo"}[5m]))', "unbalanced"),
])
def test_bad_logql(expr, message):
    with pytest.raises(SpecError, match=message):
        R.check_logql(expr)


def test_the_default_pack():
    assert [p["pack"] for p in PACKS] == ["logs"]
    groups = FILTERS["loki_rule_groups"](PACKS)
    assert [g["name"] for g in groups] == ["logs"]
    rules = {r["alert"]: r for r in groups[0]["rules"]}
    assert sorted(rules) == ["ApplicationErrorBurst", "LogBackupFailure"]
    backup = rules["LogBackupFailure"]
    assert backup["expr"] == ('sum by (host, unit) (count_over_time({job="systemd-journal", unit=~"backup-.+"} '
                              '|~ "backup failed|restore test FAILED" [15m])) > 0')
    assert backup["labels"] == {"severity": "critical"}
    assert "{{ $labels.unit }}" in backup["annotations"]["summary"]
    burst = rules["ApplicationErrorBurst"]
    assert burst["for"] == "5m" and burst["expr"].endswith("> 20")
    assert 'job=~"odoo|django|fastapi"' in burst["expr"]


def test_pack_params_overrides_and_own_rules():
    groups = FILTERS["loki_rule_groups"](
        PACKS, enabled=["logs"], overrides={"ApplicationErrorBurst": {"threshold": 50}, "LogBackupFailure": {"enabled": False}},
        params={"logs": {"app_jobs": "odoo"}}, runbook_base_url="https://runbooks.example.org",
        extra_rules=[{"name": "NginxCriticalLogged", "expr": 'sum by (host) (count_over_time({job="nginx", level="crit"}[5m]))',
                      "threshold": 0, "severity": "warning", "summary": "nginx logged crit lines."}])
    rules = {r["alert"]: r for g in groups for r in g["rules"]}
    assert sorted(rules) == ["ApplicationErrorBurst", "NginxCriticalLogged"]
    assert rules["ApplicationErrorBurst"]["expr"].endswith("> 50") and 'job=~"odoo"' in rules["ApplicationErrorBurst"]["expr"]
    assert rules["NginxCriticalLogged"]["annotations"]["runbook_url"] == "https://runbooks.example.org/nginx-critical-logged"
    assert [g["name"] for g in groups] == ["logs", "custom.alerts"]


@pytest.mark.parametrize("rule, message", [
    ({"name": "Bad", "expr": '{job="x"} |= "error"', "severity": "warning", "summary": "s"}, "metric query"),
    ({"name": "Bad", "expr": 'count_over_time({job=""}[5m])', "threshold": 0, "severity": "warning", "summary": "s"}, "empty string"),
    ({"name": "Bad", "expr": 'count_over_time({job="x"}[5m])', "severity": "loud", "summary": "s"}, "severity"),
    ({"name": "Bad", "expr": 'count_over_time({job="x"}[5m])', "severity": "warning", "summary": "s", "treshold": 1}, "did you mean 'threshold'"),
])
def test_bad_rules_are_refused_before_they_are_written(rule, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["loki_rule_groups"](PACKS, extra_rules=[rule])


# --------------------------------------------------------------------------- 8. the ruler's Alertmanagers

AM = {"group": "alertmanager", "port": 9093, "port_var": "alertmanager_listen_address", "path_var": "alertmanager_external_url"}
GROUPS = {"alertmanager": ["am2", "am1"]}
HOSTVARS = {"am1": {"alertmanager_listen_address": "0.0.0.0:9094", "alertmanager_external_url": "https://am1/alertmanager/"},
            "am2": {"alertmanager_external_url": "https://am2/alertmanager"}}


def test_ruler_alertmanagers_from_the_inventory():
    out = FILTERS["loki_ruler_alertmanager"](AM, GROUPS, HOSTVARS)
    assert out == {"alertmanager_url": "http://am1:9094/alertmanager,http://am2:9093/alertmanager", "enable_alertmanager_v2": True}


def test_ruler_alertmanagers_with_site_tls_and_basic_auth():
    spec = dict(AM, basic_auth={"username": "loki", "password": "s3cret"})
    out = FILTERS["loki_ruler_alertmanager"](spec, GROUPS, HOSTVARS, "/etc/loki/tls/ca.crt")
    assert out["alertmanager_url"].startswith("https://am1:9094/alertmanager,https://am2")
    assert out["alertmanager_client"] == {"basic_auth_username": "loki", "basic_auth_password": "s3cret",
                                          "tls_ca_path": "/etc/loki/tls/ca.crt"}
    config = FILTERS["loki_config"]({"ruler": dict(out, enabled=True)})
    assert config["ruler"]["alertmanager_client"]["tls_ca_path"] == "/etc/loki/tls/ca.crt"
    assert config["ruler"]["storage"] == {"type": "local", "local": {"directory": "/var/lib/loki/rules"}}


def test_no_alertmanager_no_url():
    assert FILTERS["loki_ruler_alertmanager"](AM, {}, {}) == {}
    assert FILTERS["loki_ruler_alertmanager"](dict(AM, enabled=False), GROUPS, HOSTVARS) == {}


@pytest.mark.parametrize("spec, message", [
    (dict(AM, basic_auth={"username": "x"}), "username and password"),
    (dict(AM, scheme="ftp"), "http or https"),
    (dict(AM, grup="x"), "unknown key"),
])
def test_ruler_alertmanagers_refused(spec, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["loki_ruler_alertmanager"](spec, GROUPS, HOSTVARS)


def test_ruler_settings_refused_when_unknown():
    with pytest.raises(AnsibleFilterError, match="ruler setting"):
        FILTERS["loki_config"]({"ruler": {"enabled": True, "alertmanager_uri": "http://x"}})
