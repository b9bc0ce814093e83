# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers: compact dashboard specs to Grafana dashboard JSON models.

Used by the ``monitoring.stack.grafana_dashboard`` and ``monitoring.stack.dashboard_queries``
filters and by ``tests/dashboards/check_dashboards.py``. Pure Python, no Ansible imports,
so the same code runs in the filter, in unit tests and in the stand-alone checker.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import copy
import re

SCHEMA_VERSION = 39
GRID_COLUMNS = 24

PANEL_TYPES = ("stat", "timeseries", "table", "logs", "bargauge", "gauge")
VARIABLE_TYPES = ("query", "custom", "datasource", "interval", "textbox", "constant")
DATASOURCE_TYPES = ("prometheus", "loki")

# Default size (width, height) of each panel type on the 24-column grid.
DEFAULT_SIZES = {
    "stat": (4, 4),
    "gauge": (6, 6),
    "bargauge": (12, 8),
    "timeseries": (12, 8),
    "table": (24, 8),
    "logs": (24, 12),
}

DASHBOARD_KEYS = frozenset((
    "title", "uid", "description", "tags", "refresh", "time", "timezone", "datasource",
    "variables", "rows", "panels", "links", "editable", "graph_tooltip", "version",
))
ROW_KEYS = frozenset(("title", "panels", "collapsed"))
PANEL_KEYS = frozenset((
    "title", "type", "description", "datasource", "targets", "unit", "decimals", "min", "max",
    "thresholds", "thresholds_mode", "width", "height", "stack", "options", "field_config",
    "overrides", "transformations", "interval", "repeat", "color_mode", "graph_mode",
    "legend", "instant", "links",
))
TARGET_KEYS = frozenset(("expr", "legend", "ref_id", "instant", "format", "interval", "hide"))
VARIABLE_KEYS = frozenset((
    "name", "type", "label", "query", "datasource", "multi", "include_all", "all_value",
    "regex", "sort", "hide", "refresh", "current", "options", "description", "auto",
))

UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REFRESH_RE = re.compile(r"^[0-9]+[smhd]$")
DURATION_RE = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")

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

# $var, ${var}, ${var:format}, [[var]], [[var:format]]
# Names start with a letter or "_": "${1}" and "$1" are regex group references (label_replace), not variables.
VARIABLE_REF_RE = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}"
    r"|\[\[(?P<bracket>[A-Za-z_][A-Za-z0-9_]*)(?::[^\]]*)?\]\]"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
)


class DashboardSpecError(ValueError):
    """A dashboard spec cannot be rendered; the message names dashboard, panel and field."""


def _where(dashboard, panel=None, field=None):
    parts = ["dashboard %r" % (dashboard,)]
    if panel is not None:
        parts.append("panel %r" % (panel,))
    if field is not None:
        parts.append("field %r" % (field,))
    return ", ".join(parts)


def _fail(message, dashboard, panel=None, field=None):
    raise DashboardSpecError("%s: %s" % (_where(dashboard, panel, field), message))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(data, allowed, dashboard, panel=None, what="spec"):
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        _fail("unknown key(s) %s in %s; allowed: %s" % (", ".join(unknown), what, ", ".join(sorted(allowed))),
              dashboard, panel)


def _require_str(data, key, dashboard, panel=None, required=True):
    value = data.get(key)
    if value is None:
        if required:
            _fail("is required", dashboard, panel, key)
        return None
    if not isinstance(value, str) or not value.strip():
        _fail("must be a non-empty string, got %r" % (value,), dashboard, panel, key)
    return value


def slugify(text):
    """Lower-case slug made of [a-z0-9-], used to derive a uid from a title."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].rstrip("-") or "dashboard"


def _datasource_ref(ds_type, datasource_uids, use_variables):
    if use_variables:
        return {"type": ds_type, "uid": "${DS_%s}" % ds_type.upper()}
    return {"type": ds_type, "uid": datasource_uids[ds_type]}


def _resolve_datasource(value, default_type, dashboard, panel, datasource_uids, use_variables, used_types):
    """Return a Grafana datasource reference for a panel or variable."""
    if value is None:
        value = default_type
    if isinstance(value, dict):
        ds_type = value.get("type")
        ds_uid = value.get("uid")
        if not isinstance(ds_type, str) or not isinstance(ds_uid, str) or not ds_type or not ds_uid:
            _fail("a datasource mapping needs non-empty string keys 'type' and 'uid', got %r" % (value,),
                  dashboard, panel, "datasource")
        if ds_type in DATASOURCE_TYPES and ds_uid.startswith("$"):
            used_types.add(ds_type)
        return {"type": ds_type, "uid": ds_uid}
    if value not in DATASOURCE_TYPES:
        _fail("must be one of %s or a mapping {type, uid}, got %r" % (", ".join(DATASOURCE_TYPES), value),
              dashboard, panel, "datasource")
    if not use_variables and value not in datasource_uids:
        _fail("no uid for datasource type %r in datasource_uids %r (needed when datasource_variables=false)"
              % (value, sorted(datasource_uids)), dashboard, panel, "datasource")
    if use_variables:
        used_types.add(value)
    return _datasource_ref(value, datasource_uids, use_variables)


def _thresholds(panel_spec, dashboard, title):
    raw = panel_spec.get("thresholds")
    mode = panel_spec.get("thresholds_mode", "absolute")
    if mode not in ("absolute", "percentage"):
        _fail("must be 'absolute' or 'percentage', got %r" % (mode,), dashboard, title, "thresholds_mode")
    steps = [{"color": "green", "value": None}]
    if raw is None:
        return {"mode": mode, "steps": steps}
    if not isinstance(raw, list):
        _fail("must be a list of {value, color} mappings, got %r" % (raw,), dashboard, title, "thresholds")
    previous = None
    for index, step in enumerate(raw):
        if not isinstance(step, dict) or "color" not in step or not isinstance(step["color"], str):
            _fail("step %d must be a mapping with a string 'color' (and a numeric 'value'), got %r" % (index, step),
                  dashboard, title, "thresholds")
        unknown = set(step) - {"color", "value"}
        if unknown:
            _fail("step %d has unknown key(s) %s" % (index, ", ".join(sorted(unknown))), dashboard, title, "thresholds")
        value = step.get("value")
        if value is None:
            if index != 0:
                _fail("only the first step may omit 'value' (it is the base colour)", dashboard, title, "thresholds")
            steps = [{"color": step["color"], "value": None}]
            continue
        if not _is_number(value):
            _fail("step %d value must be a number, got %r" % (index, value), dashboard, title, "thresholds")
        if previous is not None and value <= previous:
            _fail("step values must increase, %r follows %r" % (value, previous), dashboard, title, "thresholds")
        previous = value
        steps.append({"color": step["color"], "value": value})
    return {"mode": mode, "steps": steps}


def _deep_merge(base, override):
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _panel_options(panel_type, spec):
    reduce_options = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    if panel_type == "stat":
        return {
            "reduceOptions": reduce_options,
            "colorMode": spec.get("color_mode", "value"),
            "graphMode": spec.get("graph_mode", "area"),
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
            "wideLayout": True,
            "showPercentChange": False,
        }
    if panel_type == "gauge":
        return {
            "reduceOptions": reduce_options,
            "orientation": "auto",
            "showThresholdLabels": False,
            "showThresholdMarkers": True,
            "minVizHeight": 75,
            "minVizWidth": 75,
            "sizing": "auto",
        }
    if panel_type == "bargauge":
        return {
            "reduceOptions": reduce_options,
            "displayMode": "gradient",
            "orientation": "horizontal",
            "showUnfilled": True,
            "valueMode": "color",
            "namePlacement": "auto",
            "sizing": "auto",
            "minVizHeight": 16,
            "minVizWidth": 8,
            "maxVizHeight": 300,
        }
    if panel_type == "timeseries":
        legend = spec.get("legend", {})
        return {
            "legend": {
                "displayMode": legend.get("mode", "list") if isinstance(legend, dict) else "list",
                "placement": legend.get("placement", "bottom") if isinstance(legend, dict) else "bottom",
                "showLegend": True,
                "calcs": legend.get("calcs", []) if isinstance(legend, dict) else [],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    if panel_type == "table":
        return {
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": ""},
        }
    # logs
    return {
        "showTime": True,
        "showLabels": False,
        "showCommonLabels": False,
        "wrapLogMessage": True,
        "prettifyLogMessage": False,
        "enableLogDetails": True,
        "dedupStrategy": "none",
        "sortOrder": "Descending",
    }


def _field_defaults(panel_type, spec, dashboard, title):
    defaults = {}
    if panel_type == "logs":
        return defaults
    defaults["color"] = {"mode": "palette-classic" if panel_type == "timeseries" else "thresholds"}
    defaults["thresholds"] = _thresholds(spec, dashboard, title)
    defaults["mappings"] = []
    unit = spec.get("unit")
    if unit is not None:
        if not isinstance(unit, str) or not unit:
            _fail("must be a non-empty string (a Grafana unit id such as percent, bytes, s, reqps), got %r" % (unit,),
                  dashboard, title, "unit")
        defaults["unit"] = unit
    for key in ("min", "max", "decimals"):
        if key in spec and spec[key] is not None:
            if not _is_number(spec[key]):
                _fail("must be a number, got %r" % (spec[key],), dashboard, title, key)
            defaults[key] = spec[key]
    if "min" in defaults and "max" in defaults and defaults["min"] >= defaults["max"]:
        _fail("min %r must be lower than max %r" % (defaults["min"], defaults["max"]), dashboard, title, "min")
    if panel_type == "timeseries":
        stack = spec.get("stack", False)
        if stack not in (False, True, "normal", "percent"):
            _fail("must be false, true, 'normal' or 'percent', got %r" % (stack,), dashboard, title, "stack")
        defaults["custom"] = {
            "drawStyle": "line",
            "lineInterpolation": "smooth",
            "lineWidth": 1,
            "fillOpacity": 10,
            "gradientMode": "none",
            "showPoints": "never",
            "spanNulls": False,
            "axisPlacement": "auto",
            "axisSoftMin": 0,
            "stacking": {"mode": "none" if not stack else ("percent" if stack == "percent" else "normal"),
                         "group": "A"},
            "thresholdsStyle": {"mode": "off"},
        }
    elif panel_type == "table":
        defaults["custom"] = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False, "filterable": True}
    return defaults


def _targets(spec, panel_type, ds_ref, dashboard, title):
    raw = spec.get("targets")
    if not isinstance(raw, list) or not raw:
        _fail("must be a non-empty list of {expr, legend} mappings", dashboard, title, "targets")
    targets = []
    ref_ids = set()
    for index, target in enumerate(raw):
        if isinstance(target, str):
            target = {"expr": target}
        if not isinstance(target, dict):
            _fail("target %d must be a mapping or a string, got %r" % (index, target), dashboard, title, "targets")
        unknown = sorted(set(target) - TARGET_KEYS)
        if unknown:
            _fail("target %d has unknown key(s) %s; allowed: %s" % (index, ", ".join(unknown), ", ".join(sorted(TARGET_KEYS))),
                  dashboard, title, "targets")
        expr = target.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            _fail("target %d needs a non-empty string 'expr'" % index, dashboard, title, "targets")
        ref_id = target.get("ref_id") or _ref_id(index)
        if ref_id in ref_ids:
            _fail("target %d reuses ref_id %r" % (index, ref_id), dashboard, title, "targets")
        ref_ids.add(ref_id)
        out = {"refId": ref_id, "datasource": dict(ds_ref), "expr": expr.strip()}
        legend = target.get("legend")
        if legend is not None:
            if not isinstance(legend, str):
                _fail("target %d legend must be a string, got %r" % (index, legend), dashboard, title, "targets")
            out["legendFormat"] = legend
        if ds_ref["type"] == "loki":
            out["queryType"] = "range"
        else:
            default_instant = panel_type == "table" or spec.get("instant", False)
            instant = bool(target.get("instant", default_instant))
            out["instant"] = instant
            out["range"] = not instant
            out["format"] = target.get("format", "table" if panel_type == "table" else "time_series")
            out["editorMode"] = "code"
            if out["format"] not in ("time_series", "table", "heatmap"):
                _fail("target %d format must be time_series, table or heatmap, got %r" % (index, out["format"]),
                      dashboard, title, "targets")
        if target.get("interval") is not None:
            out["interval"] = target["interval"]
        if target.get("hide"):
            out["hide"] = True
        targets.append(out)
    return targets


def _ref_id(index):
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _size(spec, panel_type, dashboard, title):
    default_w, default_h = DEFAULT_SIZES[panel_type]
    width = spec.get("width", default_w)
    height = spec.get("height", default_h)
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= GRID_COLUMNS:
        _fail("must be an integer between 1 and %d, got %r" % (GRID_COLUMNS, width), dashboard, title, "width")
    if not isinstance(height, int) or isinstance(height, bool) or not 1 <= height <= 100:
        _fail("must be an integer between 1 and 100, got %r" % (height,), dashboard, title, "height")
    return width, height


class _Layout:
    """Shelf packing on the 24-column grid: panels flow left to right, a full line wraps."""

    def __init__(self):
        self.x = 0
        self.y = 0
        self.line_height = 0

    def place(self, width, height):
        if self.x + width > GRID_COLUMNS:
            self.newline()
        pos = {"h": height, "w": width, "x": self.x, "y": self.y}
        self.x += width
        self.line_height = max(self.line_height, height)
        return pos

    def newline(self):
        self.y += self.line_height
        self.x = 0
        self.line_height = 0

    def full_row(self, height=1):
        self.newline()
        pos = {"h": height, "w": GRID_COLUMNS, "x": 0, "y": self.y}
        self.y += height
        return pos


def _panel(spec, dashboard, default_ds, datasource_uids, use_variables, used_types, layout, next_id):
    if not isinstance(spec, dict):
        _fail("every panel must be a mapping, got %r" % (spec,), dashboard)
    title = _require_str(spec, "title", dashboard, panel="<untitled>")
    _check_keys(spec, PANEL_KEYS, dashboard, title, what="panel")
    panel_type = spec.get("type", "timeseries")
    if panel_type not in PANEL_TYPES:
        _fail("must be one of %s, got %r" % (", ".join(PANEL_TYPES), panel_type), dashboard, title, "type")
    ds_default = "loki" if panel_type == "logs" else default_ds
    ds_ref = _resolve_datasource(spec.get("datasource"), ds_default, dashboard, title, datasource_uids,
                                 use_variables, used_types)
    if panel_type == "logs" and ds_ref["type"] != "loki":
        _fail("logs panels need a loki datasource, got %r" % (ds_ref["type"],), dashboard, title, "datasource")
    width, height = _size(spec, panel_type, dashboard, title)
    panel = {
        "id": next_id,
        "type": panel_type,
        "title": title,
        "description": spec.get("description", ""),
        "datasource": ds_ref,
        "gridPos": layout.place(width, height),
        "targets": _targets(spec, panel_type, ds_ref, dashboard, title),
        "fieldConfig": {"defaults": _field_defaults(panel_type, spec, dashboard, title), "overrides": []},
        "options": _panel_options(panel_type, spec),
    }
    if panel_type == "logs":
        panel.pop("fieldConfig")
        panel["fieldConfig"] = {"defaults": {}, "overrides": []}
    for key, target_key, kind in (("options", "options", dict), ("field_config", None, dict),
                                  ("overrides", None, list), ("transformations", "transformations", list),
                                  ("links", "links", list)):
        if key not in spec:
            continue
        if not isinstance(spec[key], kind):
            _fail("must be a %s, got %r" % ("mapping" if kind is dict else "list", spec[key]), dashboard, title, key)
        if key == "options":
            panel["options"] = _deep_merge(panel["options"], spec[key])
        elif key == "field_config":
            panel["fieldConfig"]["defaults"] = _deep_merge(panel["fieldConfig"]["defaults"], spec[key])
        elif key == "overrides":
            panel["fieldConfig"]["overrides"] = copy.deepcopy(spec[key])
        else:
            panel[target_key] = copy.deepcopy(spec[key])
    if spec.get("interval") is not None:
        panel["interval"] = spec["interval"]
    if spec.get("repeat") is not None:
        panel["repeat"] = spec["repeat"]
        panel["repeatDirection"] = "h"
    if panel_type == "table" and "transformations" not in spec and len(panel["targets"]) > 1:
        panel["transformations"] = [{"id": "merge", "options": {}}]
    return panel


def _variable(spec, dashboard, default_ds, datasource_uids, use_variables, used_types):
    if not isinstance(spec, dict):
        _fail("every variable must be a mapping, got %r" % (spec,), dashboard, field="variables")
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        _fail("variable name must match %s, got %r" % (NAME_RE.pattern, name), dashboard, field="variables")
    unknown = sorted(set(spec) - VARIABLE_KEYS)
    if unknown:
        _fail("variable %r has unknown key(s) %s; allowed: %s" % (name, ", ".join(unknown), ", ".join(sorted(VARIABLE_KEYS))),
              dashboard, field="variables")
    var_type = spec.get("type", "query")
    if var_type not in VARIABLE_TYPES:
        _fail("variable %r type must be one of %s, got %r" % (name, ", ".join(VARIABLE_TYPES), var_type),
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
            _fail("variable %r of type %s needs a non-empty string 'query'" % (name, var_type), dashboard, field="variables")
    if var_type == "query":
        ds_ref = _resolve_datasource(spec.get("datasource"), default_ds, dashboard, None, datasource_uids,
                                     use_variables, used_types)
        multi = bool(spec.get("multi", True))
        include_all = bool(spec.get("include_all", True))
        out.update({
            "datasource": ds_ref,
            "query": {"query": query, "refId": "%sVariableQueryEditor-VariableQuery"
                      % ("Loki" if ds_ref["type"] == "loki" else "Prometheus")},
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
            if not DURATION_RE.match(value):
                _fail("variable %r: %r is not a Prometheus duration" % (name, value), dashboard, field="variables")
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


def _datasource_variables(used_types, datasource_uids, existing_names):
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


def build_dashboard(spec, datasource_uids=None, datasource_variables=True):
    """Render a compact dashboard spec (dict) into a Grafana dashboard JSON model (dict).

    ``datasource_uids`` maps a datasource type (prometheus, loki) to the uid of a provisioned
    datasource. With ``datasource_variables`` (the default) panels reference ``${DS_<TYPE>}``
    dashboard variables whose default value is that uid; without, panels reference the uid itself.
    """
    if not isinstance(spec, dict):
        raise DashboardSpecError("dashboard spec must be a mapping, got %s" % type(spec).__name__)
    name = spec.get("title") if isinstance(spec.get("title"), str) else "<untitled>"
    _require_str(spec, "title", name)
    _check_keys(spec, DASHBOARD_KEYS, name, what="dashboard spec")
    datasource_uids = dict(datasource_uids or {})
    for key, value in datasource_uids.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value:
            _fail("datasource_uids must map datasource types to non-empty uid strings, got %r: %r" % (key, value), name)
    uid = spec.get("uid", slugify(name))
    if not isinstance(uid, str) or not UID_RE.match(uid):
        _fail("must be 1-40 characters of [A-Za-z0-9_-], got %r" % (uid,), name, field="uid")
    tags = spec.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        _fail("must be a list of strings, got %r" % (tags,), name, field="tags")
    refresh = spec.get("refresh", "1m")
    if refresh not in ("", False) and (not isinstance(refresh, str) or not REFRESH_RE.match(refresh)):
        _fail("must be a duration such as 30s, 1m or 5m, got %r" % (refresh,), name, field="refresh")
    time_range = spec.get("time", {"from": "now-6h", "to": "now"})
    if not isinstance(time_range, dict) or set(time_range) != {"from", "to"}:
        _fail("must be a mapping with exactly the keys 'from' and 'to', got %r" % (time_range,), name, field="time")
    default_ds = spec.get("datasource", "prometheus")
    if default_ds not in DATASOURCE_TYPES:
        _fail("must be one of %s, got %r" % (", ".join(DATASOURCE_TYPES), default_ds), name, field="datasource")
    use_variables = bool(datasource_variables)
    used_types = set()

    raw_variables = spec.get("variables", [])
    if not isinstance(raw_variables, list):
        _fail("must be a list, got %r" % (raw_variables,), name, field="variables")
    variables = [_variable(v, name, default_ds, datasource_uids, use_variables, used_types) for v in raw_variables]
    names = [v["name"] for v in variables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        _fail("duplicate variable name(s) %s" % ", ".join(duplicates), name, field="variables")

    if "rows" in spec and "panels" in spec:
        _fail("use either 'rows' or 'panels', not both", name, field="rows")
    rows = spec.get("rows")
    if rows is None:
        panels_only = spec.get("panels")
        if not isinstance(panels_only, list) or not panels_only:
            _fail("a dashboard needs a non-empty 'rows' or 'panels' list", name, field="panels")
        rows = [{"panels": panels_only}]
    if not isinstance(rows, list) or not rows:
        _fail("must be a non-empty list of {title, panels}", name, field="rows")

    layout = _Layout()
    panels = []
    next_id = 1
    titles = set()
    for row_index, row in enumerate(rows):
        if not isinstance(row, dict):
            _fail("row %d must be a mapping, got %r" % (row_index, row), name, field="rows")
        _check_keys(row, ROW_KEYS, name, what="row %d" % row_index)
        row_panels = row.get("panels")
        if not isinstance(row_panels, list) or not row_panels:
            _fail("row %d (%r) needs a non-empty 'panels' list" % (row_index, row.get("title")), name, field="rows")
        collapsed = bool(row.get("collapsed", False))
        row_panel = None
        if row.get("title") is not None:
            row_title = _require_str(row, "title", name)
            row_panel = {"id": next_id, "type": "row", "title": row_title, "collapsed": collapsed,
                         "gridPos": layout.full_row(), "panels": []}
            next_id += 1
            panels.append(row_panel)
        elif row_index > 0:
            layout.newline()
        for panel_spec in row_panels:
            panel = _panel(panel_spec, name, default_ds, datasource_uids, use_variables, used_types, layout, next_id)
            if panel["title"] in titles:
                _fail("duplicate panel title (titles must be unique within a dashboard)", name, panel["title"], "title")
            titles.add(panel["title"])
            next_id += 1
            if collapsed and row_panel is not None:
                row_panel["panels"].append(panel)
            else:
                panels.append(panel)
        layout.newline()

    variables = _datasource_variables(used_types, datasource_uids, set(names)) + variables
    links = spec.get("links", [])
    if not isinstance(links, list):
        _fail("must be a list, got %r" % (links,), name, field="links")
    return {
        "uid": uid,
        "title": name,
        "description": spec.get("description", ""),
        "tags": list(tags),
        "timezone": spec.get("timezone", "browser"),
        "editable": bool(spec.get("editable", False)),
        "graphTooltip": int(spec.get("graph_tooltip", 1)),
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "refresh": refresh or "",
        "time": dict(time_range),
        "timepicker": {},
        "schemaVersion": SCHEMA_VERSION,
        "version": int(spec.get("version", 1)),
        "id": None,
        "links": copy.deepcopy(links),
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "templating": {"list": variables},
        "panels": panels,
    }


def iter_panels(dashboard):
    """Yield every non-row panel, including panels nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def _substitutions(dashboard):
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

    Unknown names are left as they are, as Grafana does (``lint_dashboard`` reports them).
    """
    def repl(match):
        name = match.group("braced") or match.group("bracket") or match.group("plain")
        return values.get(name, match.group(0))
    return VARIABLE_REF_RE.sub(repl, expr)


def dashboard_queries(dashboard, detailed=False, datasource_type="prometheus"):
    """Every query of ``datasource_type`` in a rendered dashboard, template variables substituted."""
    if not isinstance(dashboard, dict) or "panels" not in dashboard:
        raise DashboardSpecError("dashboard_queries expects a rendered dashboard (a mapping with 'panels'), got %r"
                                 % (type(dashboard).__name__,))
    values = _substitutions(dashboard)
    result = []
    for panel in iter_panels(dashboard):
        for target in panel.get("targets", []):
            ds_type = (target.get("datasource") or panel.get("datasource") or {}).get("type")
            if ds_type != datasource_type or not target.get("expr"):
                continue
            expr = substitute_variables(target["expr"], values)
            if detailed:
                result.append({
                    "dashboard": dashboard.get("title"),
                    "uid": dashboard.get("uid"),
                    "panel": panel.get("title"),
                    "ref_id": target.get("refId"),
                    "raw_expr": target["expr"],
                    "expr": expr,
                })
            else:
                result.append(expr)
    return result


def _overlaps(first, second):
    return (first["x"] < second["x"] + second["w"] and second["x"] < first["x"] + first["w"]
            and first["y"] < second["y"] + second["h"] and second["y"] < first["y"] + first["h"])


def lint_dashboard(dashboard):
    """Structural problems of a rendered dashboard, as a list of strings (empty when fine)."""
    problems = []
    title = dashboard.get("title")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < SCHEMA_VERSION:
        problems.append("%s: schemaVersion must be >= %d" % (title, SCHEMA_VERSION))
    if not UID_RE.match(str(dashboard.get("uid", ""))):
        problems.append("%s: bad uid %r" % (title, dashboard.get("uid")))
    top = dashboard.get("panels", [])
    ids = []
    placed = []
    for panel in top:
        ids.append(panel.get("id"))
        placed.append(panel)
        if panel.get("type") == "row":
            ids.extend(p.get("id") for p in panel.get("panels", []))
    if len(ids) != len(set(ids)) or None in ids:
        problems.append("%s: panel ids are not unique: %r" % (title, ids))
    for index, panel in enumerate(placed):
        pos = panel.get("gridPos") or {}
        if set(pos) != {"x", "y", "w", "h"}:
            problems.append("%s: panel %r has no complete gridPos" % (title, panel.get("title")))
            continue
        if pos["x"] < 0 or pos["w"] < 1 or pos["x"] + pos["w"] > GRID_COLUMNS:
            problems.append("%s: panel %r is outside the %d-column grid" % (title, panel.get("title"), GRID_COLUMNS))
        for other in placed[index + 1:]:
            if set(other.get("gridPos") or {}) == {"x", "y", "w", "h"} and _overlaps(pos, other["gridPos"]):
                problems.append("%s: panels %r and %r overlap" % (title, panel.get("title"), other.get("title")))
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    for panel in iter_panels(dashboard):
        ptitle = panel.get("title")
        ds_ref = panel.get("datasource")
        if not isinstance(ds_ref, dict) or not ds_ref.get("type") or not ds_ref.get("uid"):
            problems.append("%s: panel %r has no datasource" % (title, ptitle))
        elif ds_ref["uid"].startswith("${"):
            var_name = ds_ref["uid"][2:-1]
            if var_name not in variables:
                problems.append("%s: panel %r uses undefined datasource variable %s" % (title, ptitle, var_name))
        if not panel.get("targets"):
            problems.append("%s: panel %r has no targets" % (title, ptitle))
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            for match in VARIABLE_REF_RE.finditer(expr):
                name = match.group("braced") or match.group("bracket") or match.group("plain")
                if name not in variables and name not in BUILTIN_VARIABLES:
                    problems.append("%s: panel %r uses undefined variable $%s" % (title, ptitle, name))
                    continue
                var = variables.get(name)
                if var and (var.get("multi") or var.get("includeAll")):
                    before = expr[:match.start()].rstrip()
                    if before.endswith('"'):
                        before = before[:-1].rstrip()
                    if before.endswith("=") and not before.endswith("=~") and not before.endswith("!~"):
                        problems.append("%s: panel %r matches multi-value variable $%s with '=' or '!=' instead of '=~'"
                                        % (title, ptitle, name))
    return problems


DATASOURCE_SOURCE_KEYS = frozenset(("name", "type", "uid", "group", "port", "scheme", "path", "is_default", "json_data"))


def datasources_from_groups(sources, groups, hostvars=None):
    """Grafana datasource entries for every source whose inventory group exists and has hosts.

    ``sources`` is a list of ``{name, type, uid, group, port, scheme, path, is_default, json_data}``.
    The URL points at the first host of the group (its ``ansible_host`` when ``hostvars`` has one).
    """
    if not isinstance(sources, list):
        raise DashboardSpecError("datasource sources must be a list, got %s" % type(sources).__name__)
    result = []
    for index, source in enumerate(sources):
        if not isinstance(source, dict):
            raise DashboardSpecError("datasource source %d must be a mapping, got %r" % (index, source))
        unknown = sorted(set(source) - DATASOURCE_SOURCE_KEYS)
        if unknown:
            raise DashboardSpecError("datasource source %d has unknown key(s) %s" % (index, ", ".join(unknown)))
        for key in ("name", "type", "uid", "group"):
            if not isinstance(source.get(key), str) or not source[key]:
                raise DashboardSpecError("datasource source %d needs a non-empty string %r" % (index, key))
        if not UID_RE.match(source["uid"]):
            raise DashboardSpecError("datasource source %r: uid %r must be 1-40 characters of [A-Za-z0-9_-]"
                                     % (source["name"], source["uid"]))
        hosts = list((groups or {}).get(source["group"]) or [])
        if not hosts:
            continue
        host = hosts[0]
        address = host
        if hostvars is not None:
            try:
                address = hostvars[host].get("ansible_host", host)
            except (KeyError, AttributeError, TypeError):
                address = host
        url = "%s://%s:%s%s" % (source.get("scheme", "http"), address, source.get("port", 80), source.get("path", ""))
        entry = {
            "name": source["name"],
            "type": source["type"],
            "uid": source["uid"],
            "access": "proxy",
            "url": url,
            "isDefault": bool(source.get("is_default", False)),
            "editable": False,
        }
        if source.get("json_data"):
            entry["jsonData"] = copy.deepcopy(source["json_data"])
        result.append(entry)
    return result


def dashboard_providers(folders, path, allow_ui_updates=False, org_id=1):
    """Grafana dashboard provisioning ``providers``: one file provider per folder ``{uid, title}``."""
    if not isinstance(folders, list) or not folders:
        raise DashboardSpecError("dashboard folders must be a non-empty list of {uid, title}, got %r" % (folders,))
    providers = []
    seen = set()
    for index, folder in enumerate(folders):
        if not isinstance(folder, dict) or set(folder) - {"uid", "title"}:
            raise DashboardSpecError("dashboard folder %d must be a mapping with the keys uid and title, got %r"
                                     % (index, folder))
        uid = folder.get("uid")
        title = folder.get("title")
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise DashboardSpecError("dashboard folder %d: uid %r must be 1-40 characters of [A-Za-z0-9_-]" % (index, uid))
        if not isinstance(title, str) or not title.strip():
            raise DashboardSpecError("dashboard folder %r needs a non-empty title" % (uid,))
        if uid in seen:
            raise DashboardSpecError("dashboard folder uid %r is used twice" % (uid,))
        seen.add(uid)
        providers.append({
            "name": uid,
            "orgId": org_id,
            "folder": title,
            "folderUid": uid,
            "type": "file",
            "disableDeletion": False,
            "allowUiUpdates": bool(allow_ui_updates),
            "updateIntervalSeconds": 30,
            "options": {"path": "%s/%s" % (path.rstrip("/"), uid), "foldersFromFilesStructure": False},
        })
    return providers
