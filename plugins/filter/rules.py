# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus rule filters; the documentation of each is in its sidecar <filter>.yml, the logic in
module_utils/_rules.py, _slo.py, _rule_packs.py and _promql.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._rule_packs import rule_pack_groups as _rule_pack_groups
from ansible_collections.monitoring.stack.plugins.module_utils._rules import Context
from ansible_collections.monitoring.stack.plugins.module_utils._rules import alert_rule_groups as _alert_rule_groups
from ansible_collections.monitoring.stack.plugins.module_utils._slo import slo_rule_groups as _slo_rule_groups
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import ansible_filter


@ansible_filter("alert_rule_groups")
def alert_rule_groups(specs, group="alerts", **options):
    """Compact alert and recording rule specs -> Prometheus rule groups."""
    return _alert_rule_groups(specs, Context.from_options(options), default_group=group)


@ansible_filter("slo_rule_groups")
def slo_rule_groups(slos, runbook_base_url="", selector=None, group_by=None, labels=None):
    """SLO specs -> SLI recording rules and multi-window multi-burn-rate alerts."""
    return _slo_rule_groups(slos, Context(runbook_base_url, selector, group_by, labels))


@ansible_filter("rule_pack_groups")
def rule_pack_groups(packs, enabled=None, overrides=None, extra_rules=None, slos=None, params=None, **options):
    """Rule packs, overrides, extra rules and SLOs -> Prometheus rule groups."""
    return _rule_pack_groups(packs, Context.from_options(options), enabled=enabled, overrides=overrides,
                             extra_rules=extra_rules, slos=slos, params=params)


@ansible_filter("promql_scope")
def promql_scope(expr, selector=None, group_by=None):
    """One PromQL expression with ``selector`` injected into every selector and ``group_by`` into by/on clauses."""
    return Context(selector=selector, group_by=group_by).scope.apply(expr)


class FilterModule:
    """Prometheus rule generation filters."""

    def filters(self):
        return {
            "alert_rule_groups": alert_rule_groups,
            "slo_rule_groups": slo_rule_groups,
            "rule_pack_groups": rule_pack_groups,
            "promql_scope": promql_scope,
        }
