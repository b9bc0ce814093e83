# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: rule_pack_groups
short_description: Build Prometheus rule groups from rule packs, compact alert specs and SLOs
version_added: 0.1.0
author: monitoring.stack contributors
description:
  - Turns the rule packs shipped in C(roles/prometheus/files/rule_packs/*.yml) (and your own packs) into
    Prometheus rule groups, ready for C(to_nice_yaml) into a rule file (as the value of its C(groups) key).
  - Packs can be switched off (O(enabled)), single rules changed or switched off (O(overrides)),
    pack parameters such as scrape job names changed (O(params)), and own alerts, recording rules and SLOs
    added (O(extra_rules), O(slos)).
  - Every alert gets C(labels.severity) (exactly V(critical), V(warning) or V(info); Alertmanager routes on it)
    and, when a runbook base URL is given, a C(runbook_url) annotation (base URL + V(/) + the rule's
    C(runbook) path or the kebab-case alert name).
  - O(selector) is injected into every vector selector of every expression and its label names (plus O(group_by))
    into every C(by)/C(on) clause, for tenant- or environment-scoped rules.
  - Bad specs raise an error naming the rule and the field.
  - The same file provides C(monitoring.stack.alert_rule_groups) (a list of compact alert/recording specs to groups;
    options O(runbook_base_url), O(selector), O(group_by), O(labels), O(params) and C(group), the default group name),
    C(monitoring.stack.slo_rule_groups) (SLO specs to Sloth-style recording rules plus multi-window multi-burn-rate
    alerts; options O(runbook_base_url), O(selector), O(group_by), O(labels)) and C(monitoring.stack.promql_scope)
    (one PromQL expression scoped with O(selector) and O(group_by)).
  - The spec formats are described in C(docs/rules.md) of the collection.
options:
  _input:
    description:
      - A list of rule packs (each the parsed YAML of one pack file), or a mapping of pack name to pack.
      - "A pack has V(pack) (name), V(description), V(params) (defaults of C(${name}) placeholders), V(interval),
        V(recording_rules) (list of V(record)/V(expr)/V(labels)/V(group)/V(enabled)) and V(alerts)
        (list of compact alert specs)."
      - "A compact alert spec has V(name), V(expr) or V(metric), V(comparison) (default V(>)), V(threshold),
        V(for), V(keep_firing_for), V(severity), V(summary), V(description), V(runbook), V(labels),
        V(annotations), V(group), V(enabled)."
    type: raw
    required: true
  enabled:
    description: Names of the packs to render; default all.
    type: list
    elements: str
  overrides:
    description:
      - "Maps an alert name (or a recording rule name) to changes, for example
        C({HostHighCpuUtilisation: {threshold: 90, for: 30m}}) or C({HostDown: {enabled: false}})."
      - C(labels) and C(annotations) are merged; every other key replaces the pack value.
    type: dict
    default: {}
  extra_rules:
    description: Own compact alert and recording specs; their default group is C(custom.alerts).
    type: list
    elements: dict
    default: []
  slos:
    description: SLO specs, rendered as with C(monitoring.stack.slo_rule_groups).
    type: list
    elements: dict
    default: []
  params:
    description: "Maps a pack name to values for its parameters, for example C({node: {job: node_exporter}})."
    type: dict
    default: {}
  runbook_base_url:
    description: Base URL of the runbooks; without it only full-URL C(runbook) values give a C(runbook_url).
    type: str
    default: ""
  selector:
    description: Label matchers injected into every selector, as a string (C(tenant_id="t1")) or a mapping.
    type: raw
  group_by:
    description: Labels added to every C(by) and C(on) clause (for example C([tenant_id]) for per-tenant alerts).
    type: list
    elements: str
  labels:
    description: Static labels added to every alert (a rule's own labels win).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Render the enabled rule packs into a rule file.
  ansible.builtin.copy:
    dest: /etc/prometheus/rules/monitoring-stack.yml
    content: "{{ {'groups': _packs | monitoring.stack.rule_pack_groups(enabled=['node', 'postgresql'],
                 overrides={'HostHighCpuUtilisation': {'threshold': 90}},
                 runbook_base_url='https://wiki.example.com/runbooks')} | ansible.builtin.to_nice_yaml(indent=2, sort_keys=false) }}"
    mode: "0644"
    validate: promtool check rules %s
  vars:
    _packs: "{{ query('ansible.builtin.file', *query('ansible.builtin.fileglob', role_path ~ '/files/rule_packs/*.yml'))
                | map('ansible.builtin.from_yaml') | list }}"

- name: Build alert groups from compact specs.
  ansible.builtin.set_fact:
    _groups: "{{ specs | monitoring.stack.alert_rule_groups(runbook_base_url='https://wiki.example.com/runbooks') }}"
  vars:
    specs:
      - name: PaymentFailures
        expr: sum by (tenant_id) (increase(dps_payment_failures_total[10m]))
        threshold: 5
        severity: critical
        summary: More than 5 failed payments in 10 minutes.
        runbook: business/payment-failure

- name: Build SLO recording rules and burn-rate alerts.
  ansible.builtin.set_fact:
    _slo_groups: "{{ slos | monitoring.stack.slo_rule_groups }}"
  vars:
    slos:
      - name: api-read-availability
        objective: 99.9
        sli: {type: availability, metric: nginx_http_requests_total, selector: 'endpoint="read"', error_selector: 'status=~"5.."'}
"""

RETURN = r"""
_value:
  description:
    - Prometheus rule groups (C(name), optional C(interval), C(rules)) in pack order, then extra rules, then SLOs.
    - A pack renders to one group named after the pack, recording rules first, so alerts read fresh recording rules.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._rules import (
    Context,
    RuleSpecError,
    alert_rule_groups as _alert_rule_groups,
    rule_pack_groups as _rule_pack_groups,
    slo_rule_groups as _slo_rule_groups,
)


def _context(kwargs):
    """Split the shared render options off ``kwargs`` into a Context."""
    keys = ("runbook_base_url", "selector", "group_by", "labels", "params")
    unknown = sorted(set(kwargs) - set(keys))
    if unknown:
        raise RuleSpecError("<render>", unknown[0], "unknown option; allowed: %s" % ", ".join(keys))
    return Context(**kwargs)


def _guard(func):
    """Turn a RuleSpecError into an AnsibleFilterError with the same message."""
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RuleSpecError as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc)) from exc
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@_guard
def alert_rule_groups(specs, group="alerts", **kwargs):
    """Compact alert and recording rule specs -> Prometheus rule groups."""
    return _alert_rule_groups(specs, _context(kwargs), default_group=group)


@_guard
def slo_rule_groups(slos, runbook_base_url="", selector=None, group_by=None, labels=None):
    """SLO specs -> SLI recording rules and multi-window multi-burn-rate alerts."""
    return _slo_rule_groups(slos, Context(runbook_base_url, selector, group_by, labels))


@_guard
def rule_pack_groups(packs, enabled=None, overrides=None, extra_rules=None, slos=None, params=None, **kwargs):
    """Rule packs, overrides, extra rules and SLOs -> Prometheus rule groups."""
    return _rule_pack_groups(packs, _context(kwargs), enabled=enabled, overrides=overrides,
                             extra_rules=extra_rules, slos=slos, params=params)


@_guard
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
