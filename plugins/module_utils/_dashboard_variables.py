# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Template variables of a compact dashboard spec, and their substitution into queries."""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_panels import DATASOURCE_TYPES, fail, resolve_datasource
from ansible_collections.monitoring.stack.plugins.module_utils._spec import is_duration, unknown_keys_text

VARIABLE_TYPES = ("query", "custom", "datasource", "interval", "textbox", "constant")
VARIABLE_KEYS = frozenset((
    "name", "type", "label", "query", "datasource", "multi", "include_all", "all_value",
    "regex", "sort", "hide", "refresh", "current", "options", "description", "auto",
))
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Grafana built-in variables and the value used for them when a query is validated.
BUILTIN_VARIABLES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__auto": "1m",
    "__interval_ms": "60000",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
MATCH_ANYTHING = ".*"

# Grafana's Loki datasource (public/app/plugins/datasource/loki: LokiVariableQueryType, migrateVariableQuery,
# metricFindQuery) reads a variable query object only through its type, label and stream: LabelNames = 0,
# LabelValues = 1. An object without them ({"query": "label_values(job)"}) yields no values at all.
LOKI_LABEL_NAMES = 0
LOKI_LABEL_VALUES = 1
LOKI_VARIABLE_REF_ID = "LokiVariableQueryEditor-VariableQuery"
# The two query strings Grafana's Loki datasource parses (its labelNamesRegex and labelValuesRegex).
LOKI_LABEL_NAMES_RE = re.compile(r"^label_names\(\)\s*$")
LOKI_LABEL_VALUES_RE = re.compile(r"^label_values\((?:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*$")

# $var, ${var}, ${var:format}, [[var]], [[var:format]]
# Names start with a letter or "_": "${1}" and "$1" are regex group references (label_replace), not variables.
VARIABLE_REF_RE = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}"
    r"|\[\[(?P<bracket>[A-Za-z_][A-Za-z0-9_]*)(?::[^\]]*)?\]\]"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
)


def loki_variable_query(query):
    """The structured Loki variable query of ``label_names()`` or ``label_values([stream,] label)``; None otherwise."""
    query = query.strip()
    if LOKI_LABEL_NAMES_RE.match(query):
        return {"type": LOKI_LABEL_NAMES, "refId": LOKI_VARIABLE_REF_ID}
    match = LOKI_LABEL_VALUES_RE.match(query)
    if match:
        return {"type": LOKI_LABEL_VALUES, "label": match.group(2), "stream": (match.group(1) or "").strip(),
                "refId": LOKI_VARIABLE_REF_ID}
    return None


def _query_variable_query(name, query, ds_type, dashboard):
    if ds_type != "loki":
        return {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"}
    structured = loki_variable_query(query)
    if structured is None:
        fail("variable %r: a Loki query variable must be label_names() or label_values([stream selector,] label), "
             "got %r" % (name, query), dashboard, field="variables")
    return structured


def build_variable(spec, dashboard, default_ds, datasource_uids, use_variables, used_types):
    if not isinstance(spec, dict):
        fail("every variable must be a mapping, got %r" % (spec,), dashboard, field="variables")
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        fail("variable name must match %s, got %r" % (NAME_RE.pattern, name), dashboard, field="variables")
    unknown = unknown_keys_text(spec, VARIABLE_KEYS)
    if unknown:
        fail("variable %r has %s; allowed: %s" % (name, unknown, ", ".join(sorted(VARIABLE_KEYS))), dashboard, field="variables")
    var_type = spec.get("type", "query")
    if var_type not in VARIABLE_TYPES:
        fail("variable %r type must be one of %s, got %r" % (name, ", ".join(VARIABLE_TYPES), var_type),
             dashboard, field="variables")
    out = {
        "name": name,
        "type": var_type,
        "label": spec.get("label", name),
        "description": spec.get("description", ""),
        "hide": spec.get("hide", 0),
        "skipUrlSync": False,
    }
    query = spec.get("query")
    if var_type in ("query", "custom", "interval", "constant"):
        if not isinstance(query, str) or not query.strip():
            fail("variable %r of type %s needs a non-empty string 'query'" % (name, var_type), dashboard, field="variables")
    if var_type == "query":
        ds_ref = resolve_datasource(spec.get("datasource"), default_ds, dashboard, None, datasource_uids,
                                    use_variables, used_types)
        multi = bool(spec.get("multi", True))
        include_all = bool(spec.get("include_all", True))
        out.update({
            "datasource": ds_ref,
            "query": _query_variable_query(name, query, ds_ref["type"], dashboard),
            "definition": query,
            "refresh": spec.get("refresh", 2),
            "regex": spec.get("regex", ""),
            "sort": spec.get("sort", 1),
            "multi": multi,
            "includeAll": include_all,
            "current": spec.get("current", {"selected": True, "text": ["All"], "value": ["$__all"]}
                                if include_all else {}),
            "options": [],
        })
        if include_all:
            out["allValue"] = spec.get("all_value", MATCH_ANYTHING)
    elif var_type == "custom":
        values = [v.strip() for v in query.split(",") if v.strip()]
        multi = bool(spec.get("multi", False))
        include_all = bool(spec.get("include_all", False))
        current = spec.get("current", values[0] if values else "")
        out.update({
            "query": query,
            "multi": multi,
            "includeAll": include_all,
            "options": [{"selected": v == current, "text": v, "value": v} for v in values],
            "current": {"selected": True, "text": current, "value": current},
        })
        if include_all:
            out["allValue"] = spec.get("all_value", MATCH_ANYTHING)
    elif var_type == "interval":
        values = [v.strip() for v in query.split(",") if v.strip()]
        for value in values:
            if not is_duration(value):
                fail("variable %r: %r is not a Prometheus duration" % (name, value), dashboard, field="variables")
        current = spec.get("current", values[0])
        out.update({
            "query": query,
            "auto": bool(spec.get("auto", False)),
            "auto_count": 30,
            "auto_min": "10s",
            "refresh": 2,
            "options": [{"selected": v == current, "text": v, "value": v} for v in values],
            "current": {"selected": True, "text": current, "value": current},
        })
    elif var_type == "datasource":
        ds_type = query or default_ds
        out.update({
            "query": ds_type,
            "regex": spec.get("regex", ""),
            "refresh": 1,
            "multi": False,
            "includeAll": False,
            "current": spec.get("current", {}),
            "options": [],
        })
    else:  # textbox, constant
        out.update({"query": query or "", "current": {"text": query or "", "value": query or ""}})
        if var_type == "constant":
            out["hide"] = 2
    return out


def datasource_template_variables(used_types, datasource_uids, existing_names):
    variables = []
    for ds_type in DATASOURCE_TYPES:
        name = "DS_%s" % ds_type.upper()
        if ds_type not in used_types or name in existing_names:
            continue
        current = {}
        if ds_type in datasource_uids:
            current = {"selected": True, "text": datasource_uids[ds_type], "value": datasource_uids[ds_type]}
        variables.append({
            "name": name,
            "type": "datasource",
            "label": "%s datasource" % ("Prometheus" if ds_type == "prometheus" else "Loki"),
            "description": "",
            "hide": 0,
            "skipUrlSync": False,
            "query": ds_type,
            "regex": "",
            "refresh": 1,
            "multi": False,
            "includeAll": False,
            "current": current,
            "options": [],
        })
    return variables


def substitutions(dashboard):
    """The value each template variable of a rendered dashboard stands for when its queries are checked."""
    values = dict(BUILTIN_VARIABLES)
    for var in dashboard.get("templating", {}).get("list", []):
        var_type = var.get("type")
        current = var.get("current") or {}
        value = current.get("value") if isinstance(current, dict) else None
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        if var_type == "interval":
            values[var["name"]] = value or "5m"
        elif var_type in ("custom", "constant", "textbox") and not var.get("multi") and not var.get("includeAll") \
                and isinstance(value, str) and value:
            values[var["name"]] = value
        elif var_type == "datasource":
            values[var["name"]] = value or "datasource"
        elif var.get("includeAll") and isinstance(var.get("allValue"), str) and var["allValue"]:
            values[var["name"]] = var["allValue"]
        else:
            values[var["name"]] = MATCH_ANYTHING
    return values


def substitute_variables(expr, values):
    """Replace Grafana variable references in ``expr`` with the values from ``values``.

    Unknown names are left as they are, as Grafana does (tests/dashboards/check_dashboards.py reports them).
    """
    def repl(match):
        name = match.group("braced") or match.group("bracket") or match.group("plain")
        return values.get(name, match.group(0))
    return VARIABLE_REF_RE.sub(repl, expr)
