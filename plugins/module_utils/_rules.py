# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus rules from compact alert and recording specs.

Everything here returns plain dicts and lists, ready for ``to_nice_yaml`` into a Prometheus rule file
``{groups: [...]}``. SLOs are in ``_slo.py``, rule packs in ``_rule_packs.py``, PromQL scoping in
``_promql.py``. Bad input raises :class:`SpecError` whose message names the rule and the field.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._promql import Scope, has_top_level_set_operator
from ansible_collections.monitoring.stack.plugins.module_utils._spec import (
    SEVERITIES,
    SpecError,
    check_duration as _check_duration,
    check_keys as _check_keys,
    check_label_names as _check_label_names,
    check_labels as _check_labels,
    format_number,
    scalar_text,
)

KIND = "rule"
COMPARISONS = (">", "<", ">=", "<=", "==", "!=")
RENDER_OPTIONS = ("runbook_base_url", "selector", "group_by", "labels", "params")

_ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_PARAM = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL = re.compile(r"^https?://")
# Names of SLOs and rule packs (they name rule groups and files).
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

ALERT_KEYS = ("name", "expr", "metric", "comparison", "threshold", "for", "keep_firing_for", "severity",
              "summary", "description", "runbook", "labels", "annotations", "group", "enabled")
RECORD_KEYS = ("record", "expr", "labels", "group", "enabled")


def rule_error(rule, field, message):
    """The SpecError of a rule: ``rule <name>, field <field>: <message>``."""
    return SpecError(rule, field, message, kind=KIND)


# --------------------------------------------------------------------------- small helpers


def kebab_case(name):
    """``HostHighCpuLoad`` -> ``host-high-cpu-load``; ``PostgresqlWALFull`` -> ``postgresql-wal-full``; ``FillIn24h`` -> ``fill-in-24h``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    text = re.sub(r"([A-Za-z])([0-9])", r"\1-\2", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def runbook_url(name, runbook, base_url):
    """The runbook URL of an alert, or None when there is neither a full URL nor a base URL."""
    if runbook and _URL.match(runbook):
        return runbook
    if not base_url:
        return None
    return "%s/%s" % (base_url.rstrip("/"), (runbook or kebab_case(name)).lstrip("/"))


def check_keys(rule, spec, allowed, what="key"):
    """Refuse a non-dict spec or one with keys outside ``allowed`` (with a "did you mean" hint)."""
    _check_keys(rule, spec, allowed, field=what, what=what, kind=KIND)


def check_duration(rule, field, value, required=False):
    """Validate an optional Prometheus duration and return it (or None)."""
    return _check_duration(rule, field, value, required, kind=KIND)


def check_severity(rule, value, field="severity"):
    if value not in SEVERITIES:
        raise rule_error(rule, field, "%r is not one of %s" % (value, "|".join(SEVERITIES)))
    return value


def check_str(rule, field, value, required=False):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise rule_error(rule, field, "expected a non-empty string, got %r" % (value,))
    return value


def check_number(rule, field, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise rule_error(rule, field, "expected a number, got %r" % (value,))
    return value


def check_labels(rule, field, labels):
    """Validate a label dict and return it with string values."""
    return _check_labels(rule, field, labels, kind=KIND)


def check_label_names(rule, field, names):
    return _check_label_names(rule, field, names, kind=KIND)


def substitute(rule, field, text, params):
    """Replace ``${name}`` placeholders from ``params``; unknown names are an error."""
    def repl(match):
        key = match.group(1)
        if key not in params:
            raise rule_error(rule, field, "unknown parameter ${%s}; known: %s" % (key, ", ".join(sorted(params)) or "none"))
        return scalar_text(params[key])
    return _PARAM.sub(repl, text)


# --------------------------------------------------------------------------- rule builders


class Context:
    """Settings shared by every rule of one render: runbook base URL, scope, extra labels, parameters."""

    def __init__(self, runbook_base_url="", selector=None, group_by=None, labels=None, params=None):
        if runbook_base_url and not (isinstance(runbook_base_url, str) and _URL.match(runbook_base_url)):
            raise rule_error("<render>", "runbook_base_url", "%r is not an http(s) URL" % (runbook_base_url,))
        self.runbook_base_url = runbook_base_url or ""
        self.scope = Scope(selector, group_by)
        self.labels = check_labels("<render>", "labels", labels)
        self.params = dict(params or {})

    @classmethod
    def from_options(cls, options):
        """A Context from filter keyword options; an unknown option is an error naming the allowed ones."""
        check_keys("<render>", options, RENDER_OPTIONS, "option")
        return cls(**options)

    def with_params(self, params):
        clone = Context.__new__(Context)
        clone.__dict__.update(self.__dict__)
        clone.params = dict(params)
        return clone


def _alert_expr(name, spec, params):
    """The alert expression: ``expr`` as is, or ``expr``/``metric`` compared with ``threshold``."""
    if ("expr" in spec) == ("metric" in spec):
        raise rule_error(name, "expr", "give exactly one of 'expr' or 'metric'")
    field = "expr" if "expr" in spec else "metric"
    base = substitute(name, field, check_str(name, field, spec[field], True).strip(), params)
    threshold = spec.get("threshold")
    comparison = spec.get("comparison", ">")
    if comparison not in COMPARISONS:
        raise rule_error(name, "comparison", "%r is not one of %s" % (comparison, " ".join(COMPARISONS)))
    if threshold is None:
        if field == "metric" or "comparison" in spec:
            raise rule_error(name, "threshold", "required with 'metric' or 'comparison'")
        return base
    check_number(name, "threshold", threshold)
    if has_top_level_set_operator(base):
        base = "(%s)" % base
    return "%s %s %s" % (base, comparison, format_number(threshold))


def named_spec(spec, key, pattern, requirement, allowed):
    """The name of ``spec`` (its ``key``), which must match ``pattern``; the keys of ``spec`` must be in ``allowed``."""
    name = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(name, str) or not pattern.match(name):
        raise rule_error(name if isinstance(name, str) else "<unnamed>", key, requirement)
    check_keys(name, spec, allowed)
    return name


def build_alert(spec, ctx):
    """One compact alert spec -> ``(group, rule)``; ``group`` is None when the spec gives none."""
    name = named_spec(spec, "name", _ALERT_NAME, "an alert needs a name matching [A-Za-z_][A-Za-z0-9_]*", ALERT_KEYS)
    params = dict(ctx.params, threshold=spec.get("threshold", ""))
    rule = {"alert": name, "expr": ctx.scope.apply(_alert_expr(name, spec, params))}
    for field in ("for", "keep_firing_for"):
        if check_duration(name, field, spec.get(field)):
            rule[field] = spec[field]
    labels = dict(ctx.labels, **check_labels(name, "labels", spec.get("labels")))
    if "severity" in labels:
        raise rule_error(name, "labels", "set the severity with the 'severity' field, not as a label")
    labels["severity"] = check_severity(name, spec.get("severity"))
    rule["labels"] = labels
    rule["annotations"] = _annotations(name, spec, ctx, params)
    return check_str(name, "group", spec.get("group")), rule


def _annotations(name, spec, ctx, params):
    annotations = {"summary": substitute(name, "summary", check_str(name, "summary", spec.get("summary"), True), params)}
    if spec.get("description") is not None:
        annotations["description"] = substitute(name, "description", check_str(name, "description", spec["description"]), params)
    url = runbook_url(name, check_str(name, "runbook", spec.get("runbook")), ctx.runbook_base_url)
    if url:
        annotations["runbook_url"] = url
    extra = check_labels(name, "annotations", spec.get("annotations"))
    annotations.update({key: substitute(name, "annotations", value, params) for key, value in extra.items()})
    return annotations


def build_record(spec, ctx):
    """One recording rule spec -> ``(group, rule)``."""
    record = named_spec(spec, "record", _RECORD_NAME, "a recording rule needs a metric name as 'record'", RECORD_KEYS)
    expr = substitute(record, "expr", check_str(record, "expr", spec.get("expr"), True).strip(), ctx.params)
    rule = {"record": record, "expr": ctx.scope.apply(expr)}
    labels = check_labels(record, "labels", spec.get("labels"))
    if labels:
        rule["labels"] = labels
    return check_str(record, "group", spec.get("group")), rule


def build_rule(spec, ctx):
    """Dispatch on ``record`` vs ``name``."""
    return build_record(spec, ctx) if isinstance(spec, dict) and "record" in spec else build_alert(spec, ctx)


def is_enabled(name, spec):
    enabled = spec.get("enabled", True) if isinstance(spec, dict) else True
    if not isinstance(enabled, bool):
        raise rule_error(name, "enabled", "expected true or false, got %r" % (enabled,))
    return enabled


def spec_name(spec):
    if isinstance(spec, dict):
        return spec.get("record") or spec.get("name") or "<unnamed>"
    return "<unnamed>"


class GroupSet:
    """Ordered rule groups; rules added under an existing group name join that group."""

    def __init__(self):
        self._groups = {}

    def add(self, name, rule, interval=None):
        group = self._groups.setdefault(name, {"name": name, "rules": []})
        if interval and "interval" not in group:
            group["interval"] = interval
        group["rules"].append(rule)

    def extend(self, groups):
        for group in groups:
            for rule in group["rules"]:
                self.add(group["name"], rule, group.get("interval"))

    def as_list(self):
        return [group for group in self._groups.values() if group["rules"]]


def alert_rule_groups(specs, ctx, default_group="alerts"):
    """Compact alert and recording specs -> rule groups (disabled specs are skipped)."""
    if not isinstance(specs, list):
        raise rule_error("<rules>", "rules", "expected a list of rule specs, got %s" % type(specs).__name__)
    groups = GroupSet()
    for spec in specs:
        if is_enabled(spec_name(spec), spec):
            group, rule = build_rule(spec, ctx)
            groups.add(group or default_group, rule)
    return groups.as_list()
