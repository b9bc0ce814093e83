# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the rule builders: PromQL scoping (_promql.py), alerts and records (_rules.py), SLOs (_slo.py), packs (_rule_packs.py)."""

from __future__ import annotations

import pytest

from ansible_collections.monitoring.stack.plugins.module_utils import _promql, _rule_packs, _slo
from ansible_collections.monitoring.stack.plugins.module_utils import _rules as r
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError


def ctx(**kwargs):
    return r.Context(**kwargs)


def alert(**kwargs):
    spec = {"name": "HighThing", "expr": "thing", "threshold": 1, "severity": "warning", "summary": "s"}
    spec.update(kwargs)
    return spec


@pytest.mark.parametrize("name, expected", [
    ("HostHighCpuLoad", "host-high-cpu-load"),
    ("PostgresqlWALTooLarge", "postgresql-wal-too-large"),
    ("HostDiskWillFillIn24Hours", "host-disk-will-fill-in-24-hours"),
    ("TargetDown", "target-down"),
])
def test_kebab_case(name, expected):
    assert r.kebab_case(name) == expected


@pytest.mark.parametrize("expr, expected", [
    ("up", 'up{t="1"}'),
    ('up{job="x"}', 'up{job="x", t="1"}'),
    ('up{t="2"}', 'up{t="2"}'),
    ('{__name__="up"}', '{__name__="up", t="1"}'),
    ("sum by (job) (rate(x[5m]))", 'sum by (job, t) (rate(x{t="1"}[5m]))'),
    ("sum(rate(x[5m])) by (le)", 'sum(rate(x{t="1"}[5m])) by (le, t)'),
    ("sum without (cpu) (x)", 'sum without (cpu) (x{t="1"})'),
    ("a / on (instance) group_left (nodename) b", 'a{t="1"} / on (instance, t) group_left (nodename) b{t="1"}'),
    ("a / ignoring (reason) b", 'a{t="1"} / ignoring (reason) b{t="1"}'),
    ('label_replace(x, "dst", "$1", "src", "(.*)")', 'label_replace(x{t="1"}, "dst", "$1", "src", "(.*)")'),
    ("x offset 1h > bool 2", 'x{t="1"} offset 1h > bool 2'),
    ("x[1h:5m] and y", 'x{t="1"}[1h:5m] and y{t="1"}'),
    ("histogram_quantile(0.95, x) # comment y{z}\nor z", 'histogram_quantile(0.95, x{t="1"}) # comment y{z}\nor z{t="1"}'),
    ("time() - x > 1e3", 'time() - x{t="1"} > 1e3'),
    ('count_values("v", x)', 'count_values("v", x{t="1"})'),
    ('x{a="}", b=~"{"}', 'x{a="}", b=~"{", t="1"}'),
])
def test_scope_expr(expr, expected):
    assert _promql.Scope('t="1"').apply(expr) == expected


def test_scope_dict_selector_escapes_and_group_by_extends():
    scope = _promql.Scope({"tenant_id": 'a"b'}, group_by=["env"])
    assert scope.apply("sum by (job) (x)") == 'sum by (job, env, tenant_id) (x{tenant_id="a\\"b"})'


def test_scope_empty_is_identity():
    assert _promql.Scope().apply("sum by (job) (x)") == "sum by (job) (x)"


@pytest.mark.parametrize("selector", ['tenant_id"t1"', "tenant_id=t1", 42])
def test_bad_selector(selector):
    with pytest.raises(SpecError, match="selector"):
        _promql.Scope(selector)


def test_unbalanced_expression():
    with pytest.raises(SpecError, match="unbalanced"):
        _promql.Scope('t="1"').apply('sum(x{a="1")')


def test_build_alert_full():
    group, rule = r.build_alert(alert(expr="a or b", comparison="<=", threshold=0.5, group="g", labels={"team": "ops"},
                                      annotations={"dashboard": "d"}, runbook="infra/x", description="d ${threshold}",
                                      **{"for": "5m", "keep_firing_for": "1m"}),
                                ctx(runbook_base_url="https://rb.example.com/"))
    assert group == "g"
    assert rule == {
        "alert": "HighThing", "expr": "(a or b) <= 0.5", "for": "5m", "keep_firing_for": "1m",
        "labels": {"team": "ops", "severity": "warning"},
        "annotations": {"summary": "s", "description": "d 0.5", "runbook_url": "https://rb.example.com/infra/x", "dashboard": "d"},
    }


def test_build_alert_metric_and_derived_runbook():
    _group, rule = r.build_alert({"name": "PgDown", "metric": "pg_up", "comparison": "==", "threshold": 0,
                                  "severity": "critical", "summary": "s"}, ctx(runbook_base_url="https://rb"))
    assert rule["expr"] == "pg_up == 0"
    assert rule["annotations"]["runbook_url"] == "https://rb/pg-down"


def test_alert_without_base_url_has_no_runbook_unless_full_url():
    assert "runbook_url" not in r.build_alert(alert(), ctx())[1]["annotations"]
    assert r.build_alert(alert(runbook="https://x/y"), ctx())[1]["annotations"]["runbook_url"] == "https://x/y"


def test_alert_expr_without_threshold_kept_as_is():
    assert r.build_alert(alert(expr="a > 1", threshold=None), ctx())[1]["expr"] == "a > 1"


def test_context_labels_and_params():
    rule = r.build_alert(alert(expr='up{job="${job}"}', labels={"team": "db"}), ctx(labels={"env": "prod", "team": "x"}, params={"job": "n"}))[1]
    assert rule["expr"] == 'up{job="n"} > 1'
    assert rule["labels"] == {"env": "prod", "team": "db", "severity": "warning"}


@pytest.mark.parametrize("changes, field", [
    ({"severity": "page"}, "severity"),
    ({"severity": None}, "severity"),
    ({"for": "5 minutes"}, "for"),
    ({"for": 300}, "for"),
    ({"keep_firing_for": "1x"}, "keep_firing_for"),
    ({"bogus": 1}, "bogus"),
    ({"metric": "x"}, "expr"),
    ({"expr": None}, "expr"),
    ({"threshold": "high"}, "threshold"),
    ({"comparison": "=>"}, "comparison"),
    ({"summary": ""}, "summary"),
    ({"labels": {"severity": "critical"}}, "labels"),
    ({"labels": {"bad-name": "x"}}, "labels"),
    ({"labels": ["x"]}, "labels"),
    ({"expr": "up{job=\"${nope}\"}"}, "expr"),
    ({"enabled": "yes"}, "enabled"),
])
def test_bad_alert_names_rule_and_field(changes, field):
    spec = alert(**changes)
    with pytest.raises(SpecError) as err:
        r.alert_rule_groups([spec], ctx())
    assert err.value.item == "HighThing"
    assert err.value.field == field
    assert "'HighThing'" in str(err.value) and repr(field) in str(err.value)


@pytest.mark.parametrize("name", [None, "bad name", 3])
def test_alert_name_required(name):
    with pytest.raises(SpecError, match="'name'"):
        r.build_alert(alert(name=name), ctx())


def test_comparison_without_threshold():
    with pytest.raises(SpecError, match="'threshold'"):
        r.build_alert(alert(threshold=None, comparison="<"), ctx())


def test_records_and_groups():
    groups = r.alert_rule_groups([
        {"record": "job:x:rate5m", "expr": "sum by (job) (rate(x[5m]))", "labels": {"a": 1}},
        alert(group="other"),
        alert(name="Off", enabled=False),
        alert(name="Second"),
    ], ctx(selector='t="1"'))
    assert [g["name"] for g in groups] == ["alerts", "other"]
    assert groups[0]["rules"][0] == {"record": "job:x:rate5m", "expr": 'sum by (job, t) (rate(x{t="1"}[5m]))', "labels": {"a": "1"}}
    assert [rule.get("alert") for rule in groups[0]["rules"]] == [None, "Second"]


@pytest.mark.parametrize("spec, field", [
    ({"record": "bad name", "expr": "x"}, "record"),
    ({"record": "a:b:c", "expr": ""}, "expr"),
    ({"record": "a:b:c", "expr": "x", "for": "5m"}, "for"),
])
def test_bad_record(spec, field):
    with pytest.raises(SpecError) as err:
        r.build_record(spec, ctx())
    assert err.value.field == field


def test_bad_render_options():
    with pytest.raises(SpecError, match="runbook_base_url"):
        ctx(runbook_base_url="wiki/runbooks")
    with pytest.raises(SpecError, match="rules"):
        r.alert_rule_groups({"name": "x"}, ctx())


# ----------------------------------------------------------------------------- SLOs

SLO = {"name": "api-read", "objective": 99.9,
       "sli": {"type": "availability", "metric": "http_requests_total", "selector": 'endpoint="read"', "error_selector": 'status=~"5.."'}}


def slo_rules(spec, **kwargs):
    """``(recording rules, alert rules)`` of one SLO, checking it renders to one group."""
    (group,) = _slo.slo_rule_groups([spec], ctx(**kwargs))
    assert group["name"] == "slo-%s" % spec["name"]
    return ([rule for rule in group["rules"] if "record" in rule],
            [rule for rule in group["rules"] if "alert" in rule])


def test_slo_recordings_and_alerts():
    recordings, rules = slo_rules(SLO)
    records = [rule["record"] for rule in recordings]
    assert records[:7] == ["slo:sli_error:ratio_rate%s" % w for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]
    assert "slo:sli_error:ratio_rate30d" in records and "slo:period_error_budget_remaining:ratio" in records
    first = recordings[0]
    assert first["expr"] == ('(sum(rate(http_requests_total{endpoint="read", status=~"5.."}[5m])) or sum(rate(http_requests_total{endpoint="read"}[5m])) * 0)'
                             ' / sum(rate(http_requests_total{endpoint="read"}[5m]))')
    assert first["labels"] == {"slo": "api-read"}
    assert [(a["labels"]["long_window"], a["labels"]["short_window"], a["labels"]["severity"], a["for"]) for a in rules] == [
        ("1h", "5m", "critical", "2m"), ("6h", "30m", "critical", "15m"), ("1d", "2h", "warning", "1h"), ("3d", "6h", "warning", "3h")]
    assert rules[0]["alert"] == "ApiReadErrorBudgetBurn"
    assert rules[0]["expr"] == ('slo:sli_error:ratio_rate1h{slo="api-read"} > (14.4 * 0.001) and '
                                'slo:sli_error:ratio_rate5m{slo="api-read"} > (14.4 * 0.001)')


def test_slo_latency_and_scaled_period_and_tenant_scope():
    spec = {"name": "lat", "objective": 95, "period": "28d", "group_by": ["endpoint"],
            "sli": {"type": "latency", "metric": "h_seconds", "threshold": 1}}
    recordings, alerts = slo_rules(spec, selector='tenant_id="t1"')
    assert recordings[0]["expr"] == (
        '(sum by (endpoint, tenant_id) (rate(h_seconds_count{tenant_id="t1"}[5m])) - sum by (endpoint, tenant_id) '
        '(rate(h_seconds_bucket{le="1.0", tenant_id="t1"}[5m]))) / sum by (endpoint, tenant_id) (rate(h_seconds_count{tenant_id="t1"}[5m]))')
    assert "(13.44 * 0.05)" in alerts[0]["expr"]
    assert 'slo="lat", tenant_id="t1"' in alerts[0]["expr"]


def test_slo_latency_le_formatting():
    spec = dict(SLO, sli={"type": "latency", "metric": "h", "threshold": 0.25})
    assert 'le="0.25"' in slo_rules(spec)[0][0]["expr"]


def test_slo_custom_windows_and_raw_queries():
    spec = {"name": "raw", "objective": 99, "alert_name": "RawBurn",
            "windows": [{"long": "1h", "short": "5m", "burn_rate": 10, "severity": "info"}],
            "sli": {"error_query": "sum(rate(e[${window}]))", "total_query": "sum(rate(t[${window}]))"}}
    recordings, alerts = slo_rules(spec)
    assert recordings[0]["expr"] == "sum(rate(e[5m])) / sum(rate(t[5m]))"
    assert [rule["record"] for rule in recordings][:2] == ["slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate1h"]
    assert len(alerts) == 1 and alerts[0]["alert"] == "RawBurn" and "for" not in alerts[0]


@pytest.mark.parametrize("changes, field", [
    ({"objective": 100}, "objective"),
    ({"objective": "99.9"}, "objective"),
    ({"period": "month"}, "period"),
    ({"sli": {"type": "ratio", "metric": "x"}}, "sli.type"),
    ({"sli": {"type": "availability", "metric": "x"}}, "sli.error_selector"),
    ({"sli": {"type": "latency", "metric": "x"}}, "sli.threshold"),
    ({"sli": {"metric": "x", "extra": 1}}, "extra"),
    ({"sli": {"error_query": "x"}}, "sli.total_query"),
    ({"windows": [{"long": "1h", "short": "5m", "burn_rate": 1, "severity": "page"}]}, "windows.severity"),
    ({"windows": [{"long": "1 h", "short": "5m", "burn_rate": 1, "severity": "info"}]}, "windows.long"),
    ({"windows": []}, "windows"),
    ({"group_by": "tenant_id"}, "group_by"),
    ({"target": 1}, "target"),
])
def test_bad_slo(changes, field):
    spec = dict(SLO, **changes)
    with pytest.raises(SpecError) as err:
        _slo.slo_rule_groups([spec], ctx())
    assert err.value.item == "api-read" and err.value.field == field


def test_slo_name_required():
    with pytest.raises(SpecError, match="'name'"):
        _slo.slo_rule_groups([dict(SLO, name="Bad Name")], ctx())


# ----------------------------------------------------------------------------- packs

PACK_A = {"pack": "a", "params": {"job": "a"},
          "recording_rules": [{"record": "job:a:sum", "expr": 'sum by (job) (a{job="${job}"})'}],
          "alerts": [alert(name="ADown", expr='up{job="${job}"}', comparison="==", threshold=0, severity="critical"),
                     alert(name="AHigh", expr="job:a:sum", threshold=10)]}
PACK_B = {"pack": "b", "alerts": [alert(name="BHigh", expr="b", threshold=1, labels={"x": "1"})]}


def packs(**kwargs):
    return _rule_packs.rule_pack_groups([PACK_A, PACK_B], ctx(runbook_base_url="https://rb"), **kwargs)


def test_packs_default_all_groups():
    groups = packs()
    assert [g["name"] for g in groups] == ["a", "b"]
    assert [rule.get("record", rule.get("alert")) for rule in groups[0]["rules"]] == ["job:a:sum", "ADown", "AHigh"]
    assert groups[0]["rules"][1]["expr"] == 'up{job="a"} == 0'


def test_packs_enabled_overrides_params_extra_slos():
    groups = packs(enabled=["b", "a"], params={"a": {"job": "other"}},
                   overrides={"AHigh": {"threshold": 20, "for": "30m", "severity": "critical"}, "ADown": {"enabled": False},
                              "BHigh": {"labels": {"y": "2"}, "expr": "bb"}, "job:a:sum": {"expr": "sum(a)"}},
                   extra_rules=[alert(name="Mine"), alert(name="Joined", group="b")], slos=[SLO])
    names = [g["name"] for g in groups]
    assert names == ["b", "a", "custom.alerts", "slo-api-read"]
    b_rules = groups[0]["rules"]
    assert [rule["alert"] for rule in b_rules] == ["BHigh", "Joined"]
    assert b_rules[0]["expr"] == "bb > 1" and b_rules[0]["labels"] == {"x": "1", "y": "2", "severity": "warning"}
    assert groups[1]["rules"][0] == {"record": "job:a:sum", "expr": "sum(a)"}
    a_alerts = groups[1]["rules"][1:]
    assert len(a_alerts) == 1
    assert a_alerts[0]["expr"] == "job:a:sum > 20" and a_alerts[0]["for"] == "30m" and a_alerts[0]["labels"]["severity"] == "critical"


def test_packs_params_substitution():
    groups = packs(enabled=["a"], params={"a": {"job": "node2"}}, overrides={"AHigh": {"enabled": False}})
    assert groups[0]["rules"][1]["expr"] == 'up{job="node2"} == 0'


def test_packs_accept_mapping_and_interval():
    groups = _rule_packs.rule_pack_groups({"a": dict(PACK_A, interval="30s")}, ctx())
    assert groups[0]["interval"] == "30s"


@pytest.mark.parametrize("kwargs, rule, field", [
    ({"enabled": ["c"]}, "c", "enabled"),
    ({"overrides": {"Nope": {"threshold": 1}}}, "Nope", "overrides"),
    ({"overrides": {"AHigh": {"severity": "urgent"}}}, "AHigh", "severity"),
    ({"overrides": {"AHigh": {"for": "forever"}}}, "AHigh", "for"),
    ({"overrides": {"AHigh": {"treshold": 1}}}, "AHigh", "treshold"),
    ({"overrides": {"job:a:sum": {"threshold": 1}}}, "job:a:sum", "threshold"),
    ({"params": {"a": {"jbo": "x"}}}, "a", "params"),
    ({"params": {"zz": {}}}, "zz", "params"),
    ({"extra_rules": [alert(severity="high")]}, "HighThing", "severity"),
])
def test_bad_pack_usage(kwargs, rule, field):
    with pytest.raises(SpecError) as err:
        packs(**kwargs)
    assert (err.value.item, err.value.field) == (rule, field)


@pytest.mark.parametrize("pack_list, field", [
    ([{"pack": "a"}, {"pack": "a"}], "pack"),
    ([{"name": "a"}], "pack"),
    ([{"pack": "a", "rules": []}], "rules"),
    ([{"pack": "a", "alerts": {"a": 1}}], "alerts"),
    ([PACK_A, {"pack": "c", "alerts": [alert(name="ADown")]}], "name"),
    ("node", "packs"),
])
def test_bad_packs(pack_list, field):
    with pytest.raises(SpecError) as err:
        _rule_packs.rule_pack_groups(pack_list, ctx())
    assert err.value.field == field
