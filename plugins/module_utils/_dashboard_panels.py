# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Panels of a compact dashboard spec: datasource references, field config, targets and the grid layout.

Also the small checks the dashboard, panel and variable builders share (errors name dashboard, panel, field).
"""

from __future__ import annotations

import copy

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, deep_merge, unknown_keys_text

GRID_COLUMNS = 24
PANEL_TYPES = ("stat", "timeseries", "table", "logs", "bargauge", "gauge")
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

PANEL_KEYS = frozenset((
    "title", "type", "description", "datasource", "targets", "unit", "decimals", "min", "max",
    "thresholds", "thresholds_mode", "width", "height", "stack", "options", "field_config",
    "overrides", "transformations", "interval", "repeat", "color_mode", "graph_mode",
    "legend", "instant", "links",
))
TARGET_KEYS = frozenset(("expr", "legend", "ref_id", "instant", "format", "interval", "hide"))


def _where(dashboard, panel=None, field=None):
    parts = ["dashboard %r" % (dashboard,)]
    if panel is not None:
        parts.append("panel %r" % (panel,))
    if field is not None:
        parts.append("field %r" % (field,))
    return ", ".join(parts)


def fail(message, dashboard, panel=None, field=None):
    """Raise the SpecError of a dashboard spec: ``dashboard 'x', panel 'y', field 'z': message``."""
    raise SpecError("%s: %s" % (_where(dashboard, panel, field), message))


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_spec_keys(data, allowed, dashboard, panel=None, what="spec"):
    unknown = unknown_keys_text(data, allowed)
    if unknown:
        fail("%s in %s; allowed: %s" % (unknown, what, ", ".join(sorted(allowed))), dashboard, panel)


def require_str(data, key, dashboard, panel=None, required=True):
    value = data.get(key)
    if value is None:
        if required:
            fail("is required", dashboard, panel, key)
        return None
    if not isinstance(value, str) or not value.strip():
        fail("must be a non-empty string, got %r" % (value,), dashboard, panel, key)
    return value


def _datasource_ref(ds_type, datasource_uids, use_variables):
    if use_variables:
        return {"type": ds_type, "uid": "${DS_%s}" % ds_type.upper()}
    return {"type": ds_type, "uid": datasource_uids[ds_type]}


def resolve_datasource(value, default_type, dashboard, panel, datasource_uids, use_variables, used_types):
    """Return a Grafana datasource reference for a panel or variable."""
    if value is None:
        value = default_type
    if isinstance(value, dict):
        ds_type = value.get("type")
        ds_uid = value.get("uid")
        if not isinstance(ds_type, str) or not isinstance(ds_uid, str) or not ds_type or not ds_uid:
            fail("a datasource mapping needs non-empty string keys 'type' and 'uid', got %r" % (value,),
                 dashboard, panel, "datasource")
        if ds_type in DATASOURCE_TYPES and ds_uid.startswith("$"):
            used_types.add(ds_type)
        return {"type": ds_type, "uid": ds_uid}
    if value not in DATASOURCE_TYPES:
        fail("must be one of %s or a mapping {type, uid}, got %r" % (", ".join(DATASOURCE_TYPES), value),
             dashboard, panel, "datasource")
    if not use_variables and value not in datasource_uids:
        fail("no uid for datasource type %r in datasource_uids %r (needed when datasource_variables=false)"
             % (value, sorted(datasource_uids)), dashboard, panel, "datasource")
    if use_variables:
        used_types.add(value)
    return _datasource_ref(value, datasource_uids, use_variables)


def _thresholds(panel_spec, dashboard, title):
    raw = panel_spec.get("thresholds")
    mode = panel_spec.get("thresholds_mode", "absolute")
    if mode not in ("absolute", "percentage"):
        fail("must be 'absolute' or 'percentage', got %r" % (mode,), dashboard, title, "thresholds_mode")
    steps = [{"color": "green", "value": None}]
    if raw is None:
        return {"mode": mode, "steps": steps}
    if not isinstance(raw, list):
        fail("must be a list of {value, color} mappings, got %r" % (raw,), dashboard, title, "thresholds")
    previous = None
    for index, step in enumerate(raw):
        if not isinstance(step, dict) or "color" not in step or not isinstance(step["color"], str):
            fail("step %d must be a mapping with a string 'color' (and a numeric 'value'), got %r" % (index, step),
                 dashboard, title, "thresholds")
        unknown = set(step) - {"color", "value"}
        if unknown:
            fail("step %d has unknown key(s) %s" % (index, ", ".join(sorted(unknown))), dashboard, title, "thresholds")
        value = step.get("value")
        if value is None:
            if index != 0:
                fail("only the first step may omit 'value' (it is the base colour)", dashboard, title, "thresholds")
            steps = [{"color": step["color"], "value": None}]
            continue
        if not is_number(value):
            fail("step %d value must be a number, got %r" % (index, value), dashboard, title, "thresholds")
        if previous is not None and value <= previous:
            fail("step values must increase, %r follows %r" % (value, previous), dashboard, title, "thresholds")
        previous = value
        steps.append({"color": step["color"], "value": value})
    return {"mode": mode, "steps": steps}


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
            fail("must be a non-empty string (a Grafana unit id such as percent, bytes, s, reqps), got %r" % (unit,),
                 dashboard, title, "unit")
        defaults["unit"] = unit
    for key in ("min", "max", "decimals"):
        if key in spec and spec[key] is not None:
            if not is_number(spec[key]):
                fail("must be a number, got %r" % (spec[key],), dashboard, title, key)
            defaults[key] = spec[key]
    if "min" in defaults and "max" in defaults and defaults["min"] >= defaults["max"]:
        fail("min %r must be lower than max %r" % (defaults["min"], defaults["max"]), dashboard, title, "min")
    if panel_type == "timeseries":
        stack = spec.get("stack", False)
        if stack not in (False, True, "normal", "percent"):
            fail("must be false, true, 'normal' or 'percent', got %r" % (stack,), dashboard, title, "stack")
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
        fail("must be a non-empty list of {expr, legend} mappings", dashboard, title, "targets")
    targets = []
    ref_ids = set()
    for index, target in enumerate(raw):
        if isinstance(target, str):
            target = {"expr": target}
        if not isinstance(target, dict):
            fail("target %d must be a mapping or a string, got %r" % (index, target), dashboard, title, "targets")
        unknown = sorted(set(target) - TARGET_KEYS)
        if unknown:
            fail("target %d has unknown key(s) %s; allowed: %s" % (index, ", ".join(unknown), ", ".join(sorted(TARGET_KEYS))),
                 dashboard, title, "targets")
        expr = target.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            fail("target %d needs a non-empty string 'expr'" % index, dashboard, title, "targets")
        ref_id = target.get("ref_id") or _ref_id(index)
        if ref_id in ref_ids:
            fail("target %d reuses ref_id %r" % (index, ref_id), dashboard, title, "targets")
        ref_ids.add(ref_id)
        out = {"refId": ref_id, "datasource": dict(ds_ref), "expr": expr.strip()}
        legend = target.get("legend")
        if legend is not None:
            if not isinstance(legend, str):
                fail("target %d legend must be a string, got %r" % (index, legend), dashboard, title, "targets")
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
                fail("target %d format must be time_series, table or heatmap, got %r" % (index, out["format"]),
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
        fail("must be an integer between 1 and %d, got %r" % (GRID_COLUMNS, width), dashboard, title, "width")
    if not isinstance(height, int) or isinstance(height, bool) or not 1 <= height <= 100:
        fail("must be an integer between 1 and 100, got %r" % (height,), dashboard, title, "height")
    return width, height


class Layout:
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


def build_panel(spec, dashboard, default_ds, datasource_uids, use_variables, used_types, layout, next_id):
    if not isinstance(spec, dict):
        fail("every panel must be a mapping, got %r" % (spec,), dashboard)
    title = require_str(spec, "title", dashboard, panel="<untitled>")
    check_spec_keys(spec, PANEL_KEYS, dashboard, title, what="panel")
    panel_type = spec.get("type", "timeseries")
    if panel_type not in PANEL_TYPES:
        fail("must be one of %s, got %r" % (", ".join(PANEL_TYPES), panel_type), dashboard, title, "type")
    ds_default = "loki" if panel_type == "logs" else default_ds
    ds_ref = resolve_datasource(spec.get("datasource"), ds_default, dashboard, title, datasource_uids,
                                use_variables, used_types)
    if panel_type == "logs" and ds_ref["type"] != "loki":
        fail("logs panels need a loki datasource, got %r" % (ds_ref["type"],), dashboard, title, "datasource")
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
            fail("must be a %s, got %r" % ("mapping" if kind is dict else "list", spec[key]), dashboard, title, key)
        if key == "options":
            panel["options"] = deep_merge(panel["options"], spec[key])
        elif key == "field_config":
            panel["fieldConfig"]["defaults"] = deep_merge(panel["fieldConfig"]["defaults"], spec[key])
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
