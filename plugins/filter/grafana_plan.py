# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grafana_plan filter; its documentation is in the sidecar grafana_plan.yml, the logic in module_utils/_grafana_plan.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._grafana_plan import grafana_plan
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """The plan of Grafana's files."""

    def filters(self):
        return filter_map({"grafana_plan": grafana_plan})
