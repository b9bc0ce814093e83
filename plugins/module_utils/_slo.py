# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service level objectives: Sloth-style SLI recording rules and multi-window, multi-burn-rate alerts."""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._promql import parse_selector
from ansible_collections.monitoring.stack.plugins.module_utils._rules import (
    build_alert,
    check_duration,
    check_keys,
    check_label_names,
    check_labels,
    check_number,
    check_severity,
    check_str,
    is_enabled,
    named_spec,
    rule_error,
    spec_name,
    SLUG,
    substitute,
)
from ansible_collections.monitoring.stack.plugins.module_utils._spec import format_number, parse_duration

DEFAULT_PERIOD = "30d"
SLO_KEYS = ("name", "objective", "period", "sli", "description", "service", "labels", "group_by",
            "alert_name", "runbook", "windows", "enabled")
SLI_KEYS = ("type", "metric", "selector", "error_selector", "threshold", "le", "error_query", "total_query")
WINDOW_KEYS = ("long", "short", "burn_rate", "severity", "for")

# Multi-window, multi-burn-rate alerts of the Google SRE workbook, for a 30 day period.
# For another period the burn rates are scaled so each pair still spends the same budget share.
DEFAULT_WINDOWS = (
    {"long": "1h", "short": "5m", "burn_rate": 14.4, "severity": "critical", "for": "2m"},
    {"long": "6h", "short": "30m", "burn_rate": 6, "severity": "critical", "for": "15m"},
    {"long": "1d", "short": "2h", "burn_rate": 3, "severity": "warning", "for": "1h"},
    {"long": "3d", "short": "6h", "burn_rate": 1, "severity": "warning", "for": "3h"},
)


def camel_case(name):
    """``api-read_availability`` -> ``ApiReadAvailability``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _windows(name, spec, period):
    """The burn-rate window pairs of an SLO, validated; default burn rates scaled to the SLO period."""
    windows = spec.get("windows")
    if windows is None:
        scale = parse_duration(period) / parse_duration(DEFAULT_PERIOD)
        return [dict(w, burn_rate=round(w["burn_rate"] * scale, 4)) for w in DEFAULT_WINDOWS]
    if not isinstance(windows, list) or not windows:
        raise rule_error(name, "windows", "expected a non-empty list of {long, short, burn_rate, severity, for}")
    for window in windows:
        check_keys(name, window, WINDOW_KEYS, "windows key")
        for field in ("long", "short"):
            check_duration(name, "windows.%s" % field, window.get(field), True)
        check_duration(name, "windows.for", window.get("for"))
        check_number(name, "windows.burn_rate", window.get("burn_rate"))
        check_severity(name, window.get("severity"), "windows.severity")
    return windows


def _sli_queries(name, sli, by):
    """``(error_query, total_query)`` templates with a ``${window}`` placeholder."""
    check_keys(name, sli, SLI_KEYS, "sli key")
    if "error_query" in sli or "total_query" in sli:
        return (check_str(name, "sli.error_query", sli.get("error_query"), True),
                check_str(name, "sli.total_query", sli.get("total_query"), True))
    kind = sli.get("type")
    metric = check_str(name, "sli.metric", sli.get("metric"), True)
    matchers = [m for _n, m in parse_selector(check_str(name, "sli.selector", sli.get("selector")))]
    agg = "sum by (%s) " % ", ".join(by) if by else "sum"

    def rate(series, extra=()):
        selector = ", ".join(matchers + list(extra))
        return "%s(rate(%s%s[${window}]))" % (agg, series, "{%s}" % selector if selector else "")

    if kind == "availability":
        errors = [m for _n, m in parse_selector(check_str(name, "sli.error_selector", sli.get("error_selector"), True))]
        return "(%s or %s * 0)" % (rate(metric, errors), rate(metric)), rate(metric)
    if kind == "latency":
        le = sli.get("le")
        if le is None:
            threshold = check_number(name, "sli.threshold", sli.get("threshold"))
            le = "%s.0" % int(threshold) if float(threshold).is_integer() else repr(float(threshold))
        good = rate(metric + "_bucket", ['le="%s"' % check_str(name, "sli.le", le)])
        total = rate(metric + "_count")
        return "(%s - %s)" % (total, good), total
    raise rule_error(name, "sli.type", "%r is not availability or latency (or give error_query and total_query)" % (kind,))


def _slo_recordings(name, selector, error_q, total_q, windows, objective, period):
    """Sloth-style recording rules: SLI error ratios per window plus objective/budget metadata."""
    budget = format_number(1 - objective / 100.0)
    rules = [{"record": "slo:sli_error:ratio_rate%s" % w,
              "expr": "%s / %s" % (substitute(name, "sli", error_q, {"window": w}), substitute(name, "sli", total_q, {"window": w}))}
             for w in windows]
    rules += [
        {"record": "slo:sli_error:ratio_rate%s" % period,
         "expr": "avg_over_time(slo:sli_error:ratio_rate%s{%s}[%s])" % (windows[0], selector, period)},
        {"record": "slo:objective:ratio", "expr": "vector(%s)" % format_number(objective / 100.0)},
        {"record": "slo:error_budget:ratio", "expr": "vector(%s)" % budget},
        {"record": "slo:time_period:days", "expr": "vector(%s)" % format_number(parse_duration(period) / 86400.0)},
        {"record": "slo:current_burn_rate:ratio", "expr": "slo:sli_error:ratio_rate%s{%s} / %s" % (windows[0], selector, budget)},
        {"record": "slo:period_burn_rate:ratio", "expr": "slo:sli_error:ratio_rate%s{%s} / %s" % (period, selector, budget)},
        {"record": "slo:period_error_budget_remaining:ratio", "expr": "1 - slo:period_burn_rate:ratio{%s}" % selector},
    ]
    return rules


def _slo_alerts(name, spec, ctx, selector, windows, objective):
    budget = format_number(1 - objective / 100.0)
    alert_name = check_str(name, "alert_name", spec.get("alert_name")) or "%sErrorBudgetBurn" % camel_case(name)
    rules = []
    for window in windows:
        threshold = "(%s * %s)" % (format_number(window["burn_rate"]), budget)
        alert = {
            "name": alert_name,
            "expr": "slo:sli_error:ratio_rate%s{%s} > %s and slo:sli_error:ratio_rate%s{%s} > %s"
                    % (window["long"], selector, threshold, window["short"], selector, threshold),
            "severity": window["severity"],
            "labels": {"long_window": window["long"], "short_window": window["short"]},
            "summary": "SLO %s is burning its error budget %sx too fast." % (name, format_number(window["burn_rate"])),
            "description": ("Error ratio over the last %s is {{ $value | humanizePercentage }} (and over %s too); "
                            "the objective is %s%% over %s." % (
                                window["long"], window["short"], format_number(objective), spec.get("period", DEFAULT_PERIOD))),
            "runbook": spec.get("runbook"),
        }
        if window.get("for"):
            alert["for"] = window["for"]
        rules.append(build_alert(alert, ctx)[1])
    return rules


def _slo_rules(spec, ctx):
    """One SLO spec -> one group: recording rules first, then the alerts that read them (same evaluation cycle)."""
    name = named_spec(spec, "name", SLUG, "an SLO needs a name matching [a-z0-9][a-z0-9_-]*", SLO_KEYS)
    objective = check_number(name, "objective", spec.get("objective"))
    if not 0 < objective < 100:
        raise rule_error(name, "objective", "a percentage between 0 and 100 (exclusive), such as 99.9, got %r" % (objective,))
    period = check_duration(name, "period", spec.get("period", DEFAULT_PERIOD), True)
    windows = _windows(name, spec, period)
    by = check_label_names(name, "group_by", spec.get("group_by"))
    error_q, total_q = _sli_queries(name, spec.get("sli"), by)
    slo_labels = dict(check_labels(name, "labels", spec.get("labels")), slo=name)
    if spec.get("service") is not None:
        slo_labels["service"] = check_str(name, "service", spec["service"])
    selector = 'slo="%s"' % name
    durations = sorted({w[key] for w in windows for key in ("long", "short")}, key=parse_duration)
    recordings = [dict(rule, expr=ctx.scope.apply(rule["expr"]), labels=dict(slo_labels))
                  for rule in _slo_recordings(name, selector, error_q, total_q, durations, objective, period)]
    alert_ctx = ctx.with_params(ctx.params)
    alert_ctx.labels = dict(ctx.labels, **slo_labels)
    alerts = _slo_alerts(name, spec, alert_ctx, selector, windows, objective)
    return [{"name": "slo-%s" % name, "rules": recordings + alerts}]


def slo_rule_groups(slos, ctx):
    """SLO specs -> one group per SLO with SLI recording rules and multi-window multi-burn-rate alerts."""
    if not isinstance(slos, list):
        raise rule_error("<slos>", "slos", "expected a list of SLO specs, got %s" % type(slos).__name__)
    groups = []
    for spec in slos:
        if is_enabled(spec_name(spec), spec):
            groups.extend(_slo_rules(spec, ctx))
    return groups
