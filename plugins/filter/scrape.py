# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scrape_plan filter; its documentation is in the sidecar scrape_plan.yml, the logic in module_utils/_scrape.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._scrape import scrape_plan
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Prometheus scrape configuration filters."""

    def filters(self):
        return filter_map({"scrape_plan": scrape_plan})
