# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file of Grafana's configuration as one plan: what to write, and what to keep when pruning.

:func:`grafana_plan` turns the grafana role's settings into grafana.ini, the provisioning files
(datasources, dashboard providers, alerting) and the dashboards, each with its content, grouped by how
they are written (secret or not, restart or not), plus the prune sets: the role writes the groups with
the engine's files.yml and prunes with its prune.yml, and computes nothing in Jinja.
Controller side only: the monitoring.stack.grafana_plan filter wraps it.
"""

from __future__ import annotations

import json
import posixpath

from ansible.module_utils.common.yaml import HAS_YAML, yaml_dump, yaml_load

from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import build_dashboard
from ansible_collections.monitoring.stack.plugins.module_utils._grafana_alerting import alerting_content
from ansible_collections.monitoring.stack.plugins.module_utils._grafana_provisioning import dashboard_providers, grafana_ini
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

# First line of grafana.ini and of every provisioning file the plan writes.
HEADER = "# Managed by monitoring.stack (role grafana): changes made here are overwritten.\n"
# Name of each provisioning file of this collection (one per provisioning directory).
PROVISIONING_FILE = "monitoring-stack.yml"
PROVISIONING_DIRS = ("datasources", "dashboards", "alerting")
_DASHBOARD_KEYS = frozenset(("spec", "file", "folder"))


def _yaml(data):
    if not HAS_YAML:
        raise SpecError("PyYAML is needed on the controller to render Grafana's provisioning files")
    return HEADER + yaml_dump(data, indent=2, allow_unicode=True, default_flow_style=False, sort_keys=False, width=1000)


def _load_spec(path, sources):
    if path not in sources:
        raise SpecError("dashboard file %r was not loaded: pass its content in sources" % (path,))
    spec = sources[path]
    if isinstance(spec, str):
        if not HAS_YAML:
            raise SpecError("PyYAML is needed on the controller to read the dashboard file %r" % (path,))
        try:
            spec = yaml_load(spec)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # any YAML error is the user's file
            raise SpecError("dashboard file %r is not valid YAML: %s" % (path, exc)) from None
    if not isinstance(spec, dict):
        raise SpecError("dashboard file %r must hold one dashboard spec (a mapping)" % (path,))
    return spec


def dashboard_specs(builtin, builtin_folder, dashboards, sources):
    """``[(folder, spec, origin)]``: the library's dashboards (spec files), then the user's ``{spec|file, folder}``."""
    items = [{"file": path, "folder": builtin_folder} for path in builtin or []]
    for index, item in enumerate(dashboards or []):
        if not isinstance(item, dict) or set(item) - _DASHBOARD_KEYS or ("spec" in item) == ("file" in item):
            raise SpecError("grafana_dashboards item %d must be {spec, folder} or {file, folder}, got %r" % (index, item))
        items.append(item)
    specs = []
    for item in items:
        folder = item.get("folder") or builtin_folder
        if "spec" in item:
            if not isinstance(item["spec"], dict):
                raise SpecError("a dashboard spec must be a mapping, got %r" % (item["spec"],))
            specs.append((folder, item["spec"], "spec %r" % item["spec"].get("title", "?")))
        else:
            specs.append((folder, _load_spec(item["file"], sources or {}), "file %r" % item["file"]))
    return specs


def _dashboards(specs, folders, dashboards_dir, datasource_uids):
    known = [folder["uid"] for folder in folders]
    files = []
    seen = {}
    for folder, spec, origin in specs:
        if folder not in known:
            raise SpecError("dashboard %s: folder %r is not one of grafana_dashboard_folders (%s)"
                            % (origin, folder, ", ".join(known)))
        dashboard = build_dashboard(spec, datasource_uids)
        uid = dashboard["uid"]
        if uid in seen:
            raise SpecError("dashboard uid %r is used twice (%s and %s): dashboard uids must be unique"
                            % (uid, seen[uid], origin))
        seen[uid] = origin
        files.append({"dest": "%s/%s/%s.json" % (dashboards_dir, folder, uid),
                      "content": json.dumps(dashboard, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"})
    return files


def grafana_plan(ini, config_dir, dashboards_dir, datasources=None, datasources_prune=True, folders=None,
                 allow_ui_updates=False, builtin=None, builtin_folder="", dashboards=None, sources=None,
                 datasource_uids=None, contact_points=None, policies=None, alerting_previous=None):
    """The plan of Grafana's files: ``{directories, writes, prunes}``.

    ``ini`` is the merged grafana.ini settings; ``builtin`` the paths of the library's dashboard spec files
    (shown in ``builtin_folder``), ``dashboards`` the user's ``{spec|file, folder}`` items and ``sources`` the
    content of every spec file by path (read on the controller by the role).

    ``writes`` is a list of ``{name, secret, restart, files: [{dest, content}]}``: grafana.ini, the datasources
    and the alerting file hold secrets; the dashboard providers do not; none of them is picked up without a
    restart, while dashboards are (Grafana rescans their directories). ``prunes`` is a list of ``{name, paths,
    patterns, keep, restart}``: this collection's provisioning files that are no longer planned (the alerting
    file once nothing is provisioned or taken back) and dashboard files that are no longer planned. ``directories`` are the
    dashboard directories of the folders. ``alerting_previous`` is the alerting file the role wrote last time
    (its text, read from the host): what it provisioned and is no longer wanted is taken back with Grafana's
    ``deleteContactPoints`` / ``resetPolicies`` instead of leaving it in Grafana's database.
    """
    if not isinstance(ini, dict):
        raise SpecError("the grafana.ini settings must be a mapping, got %s" % type(ini).__name__)
    for name, value in (("config_dir", config_dir), ("dashboards_dir", dashboards_dir)):
        if not isinstance(value, str) or not value.startswith("/"):
            raise SpecError("%s must be an absolute path, got %r" % (name, value))
    config_dir = config_dir.rstrip("/")
    dashboards_dir = dashboards_dir.rstrip("/")
    folders = folders or []
    datasources = datasources or []
    if not isinstance(datasources, list):
        raise SpecError("datasources must be a list, got %s" % type(datasources).__name__)
    providers = dashboard_providers(folders, dashboards_dir, allow_ui_updates=allow_ui_updates)
    provisioning = "%s/provisioning" % config_dir

    secrets = [
        {"dest": "%s/grafana.ini" % config_dir, "content": HEADER + grafana_ini(ini)},
        {"dest": "%s/datasources/%s" % (provisioning, PROVISIONING_FILE),
         "content": _yaml({"apiVersion": 1, "prune": bool(datasources_prune), "datasources": datasources})},
    ]
    alerting = alerting_content(contact_points, policies, alerting_previous)
    if alerting is not None:
        secrets.append({"dest": "%s/alerting/%s" % (provisioning, PROVISIONING_FILE), "content": _yaml(alerting)})
    plain = [{"dest": "%s/dashboards/%s" % (provisioning, PROVISIONING_FILE),
              "content": _yaml({"apiVersion": 1, "providers": providers})}]
    dashboard_files = _dashboards(dashboard_specs(builtin, builtin_folder, dashboards, sources),
                                  folders, dashboards_dir, datasource_uids)
    folder_dirs = [provider["options"]["path"] for provider in providers]
    kept = [item["dest"] for item in secrets + plain if posixpath.basename(item["dest"]) == PROVISIONING_FILE]
    return {
        "directories": folder_dirs,
        "writes": [
            {"name": "grafana.ini, datasources and alerting", "secret": True, "restart": True, "files": secrets},
            {"name": "dashboard providers", "secret": False, "restart": True, "files": plain},
            {"name": "dashboards", "secret": False, "restart": False, "files": dashboard_files},
        ],
        "prunes": [
            {"name": "provisioning files", "paths": ["%s/%s" % (provisioning, d) for d in PROVISIONING_DIRS],
             "patterns": [PROVISIONING_FILE], "keep": sorted(kept), "restart": True},
            {"name": "dashboards", "paths": folder_dirs, "patterns": ["*.json"],
             "keep": sorted(item["dest"] for item in dashboard_files), "restart": False},
        ],
    }
