# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compact dashboard specs to Grafana dashboard JSON models, and the queries of a rendered dashboard.

Used by the ``monitoring.stack.grafana_dashboard`` and ``monitoring.stack.dashboard_queries`` filters and by
``tests/dashboards/check_dashboards.py``. Panels are built in ``_dashboard_panels.py``, template variables in
``_dashboard_variables.py``. Pure Python, no Ansible imports.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_panels import (
    DATASOURCE_TYPES,
    Layout,
    build_panel,
    check_spec_keys,
    fail,
    require_str,
)
from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_variables import (
    build_variable,
    datasource_template_variables,
    substitute_variables,
    substitutions,
)
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

SCHEMA_VERSION = 39
DASHBOARD_KEYS = frozenset((
    "title", "uid", "description", "tags", "refresh", "time", "timezone", "datasource",
    "variables", "rows", "panels", "links", "editable", "graph_tooltip", "version",
))
ROW_KEYS = frozenset(("title", "panels", "collapsed"))

UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# Grafana's refresh picker takes one number and one unit of s, m, h or d (not a Prometheus duration).
REFRESH_RE = re.compile(r"^[0-9]+[smhd]$")


def slugify(text):
    """Lower-case slug made of [a-z0-9-], used to derive a uid from a title."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].rstrip("-") or "dashboard"


def build_dashboard(spec, datasource_uids=None, datasource_variables=True):
    """Render a compact dashboard spec (dict) into a Grafana dashboard JSON model (dict).

    ``datasource_uids`` maps a datasource type (prometheus, loki) to the uid of a provisioned
    datasource. With ``datasource_variables`` (the default) panels reference ``${DS_<TYPE>}``
    dashboard variables whose default value is that uid; without, panels reference the uid itself.
    """
    if not isinstance(spec, dict):
        raise SpecError("dashboard spec must be a mapping, got %s" % type(spec).__name__)
    name = spec.get("title") if isinstance(spec.get("title"), str) else "<untitled>"
    require_str(spec, "title", name)
    check_spec_keys(spec, DASHBOARD_KEYS, name, what="dashboard spec")
    datasource_uids = dict(datasource_uids or {})
    for key, value in datasource_uids.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value:
            fail("datasource_uids must map datasource types to non-empty uid strings, got %r: %r" % (key, value), name)
    uid = spec.get("uid", slugify(name))
    if not isinstance(uid, str) or not UID_RE.match(uid):
        fail("must be 1-40 characters of [A-Za-z0-9_-], got %r" % (uid,), name, field="uid")
    tags = spec.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        fail("must be a list of strings, got %r" % (tags,), name, field="tags")
    refresh = spec.get("refresh", "1m")
    if refresh not in ("", False) and (not isinstance(refresh, str) or not REFRESH_RE.match(refresh)):
        fail("must be a duration such as 30s, 1m or 5m, got %r" % (refresh,), name, field="refresh")
    time_range = spec.get("time", {"from": "now-6h", "to": "now"})
    if not isinstance(time_range, dict) or set(time_range) != {"from", "to"}:
        fail("must be a mapping with exactly the keys 'from' and 'to', got %r" % (time_range,), name, field="time")
    default_ds = spec.get("datasource", "prometheus")
    if default_ds not in DATASOURCE_TYPES:
        fail("must be one of %s, got %r" % (", ".join(DATASOURCE_TYPES), default_ds), name, field="datasource")
    use_variables = bool(datasource_variables)
    used_types = set()

    raw_variables = spec.get("variables", [])
    if not isinstance(raw_variables, list):
        fail("must be a list, got %r" % (raw_variables,), name, field="variables")
    variables = [build_variable(v, name, default_ds, datasource_uids, use_variables, used_types) for v in raw_variables]
    names = [v["name"] for v in variables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        fail("duplicate variable name(s) %s" % ", ".join(duplicates), name, field="variables")

    if "rows" in spec and "panels" in spec:
        fail("use either 'rows' or 'panels', not both", name, field="rows")
    rows = spec.get("rows")
    if rows is None:
        panels_only = spec.get("panels")
        if not isinstance(panels_only, list) or not panels_only:
            fail("a dashboard needs a non-empty 'rows' or 'panels' list", name, field="panels")
        rows = [{"panels": panels_only}]
    if not isinstance(rows, list) or not rows:
        fail("must be a non-empty list of {title, panels}", name, field="rows")

    layout = Layout()
    panels = []
    next_id = 1
    titles = set()
    for row_index, row in enumerate(rows):
        if not isinstance(row, dict):
            fail("row %d must be a mapping, got %r" % (row_index, row), name, field="rows")
        check_spec_keys(row, ROW_KEYS, name, what="row %d" % row_index)
        row_panels = row.get("panels")
        if not isinstance(row_panels, list) or not row_panels:
            fail("row %d (%r) needs a non-empty 'panels' list" % (row_index, row.get("title")), name, field="rows")
        collapsed = bool(row.get("collapsed", False))
        row_panel = None
        if row.get("title") is not None:
            row_title = require_str(row, "title", name)
            row_panel = {"id": next_id, "type": "row", "title": row_title, "collapsed": collapsed,
                         "gridPos": layout.full_row(), "panels": []}
            next_id += 1
            panels.append(row_panel)
        elif row_index > 0:
            layout.newline()
        for panel_spec in row_panels:
            panel = build_panel(panel_spec, name, default_ds, datasource_uids, use_variables, used_types, layout, next_id)
            if panel["title"] in titles:
                fail("duplicate panel title (titles must be unique within a dashboard)", name, panel["title"], "title")
            titles.add(panel["title"])
            next_id += 1
            if collapsed and row_panel is not None:
                row_panel["panels"].append(panel)
            else:
                panels.append(panel)
        layout.newline()

    variables = datasource_template_variables(used_types, datasource_uids, set(names)) + variables
    links = spec.get("links", [])
    if not isinstance(links, list):
        fail("must be a list, got %r" % (links,), name, field="links")
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


def dashboard_queries(dashboard, detailed=False, datasource_type="prometheus"):
    """Every query of ``datasource_type`` in a rendered dashboard, template variables substituted."""
    if not isinstance(dashboard, dict) or "panels" not in dashboard:
        raise SpecError("dashboard_queries expects a rendered dashboard (a mapping with 'panels'), got %r"
                        % (type(dashboard).__name__,))
    values = substitutions(dashboard)
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
