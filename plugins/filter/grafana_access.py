# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grafana_access_plan filter; its documentation is in the sidecar grafana_access_plan.yml, the logic in
module_utils/_grafana_access.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._grafana_access import access_plan
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Grafana teams, users and folder permissions as module calls."""

    def filters(self):
        return filter_map({"grafana_access_plan": access_plan})
