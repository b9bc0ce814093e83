# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana dashboard, provisioning and datasource check filters; the documentation of each is in its sidecar
<filter>.yml, the logic in module_utils/_dashboards.py, module_utils/_grafana_provisioning.py,
module_utils/_grafana_datasource_checks.py and module_utils/_dashboard_selection.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_selection import library_dashboards
from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import build_dashboard, dashboard_queries
from ansible_collections.monitoring.stack.plugins.module_utils._grafana_datasource_checks import (
    dashboard_datasource_uids,
    datasources_check,
    health_failures,
    health_requests,
)
from ansible_collections.monitoring.stack.plugins.module_utils._grafana_provisioning import dashboard_providers, datasources_from_groups
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Grafana dashboard filters."""

    def filters(self):
        return filter_map({
            "grafana_dashboard": build_dashboard,
            "dashboard_queries": dashboard_queries,
            "grafana_datasources": datasources_from_groups,
            "grafana_dashboard_providers": dashboard_providers,
            "grafana_dashboard_datasource_uids": dashboard_datasource_uids,
            "grafana_library_dashboards": library_dashboards,
            "grafana_datasources_check": datasources_check,
            "grafana_datasource_health_requests": health_requests,
            "grafana_datasource_health_failures": health_failures,
        })
