# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scrape_plan and application_scrape_jobs filters; their documentation is in the sidecars scrape_plan.yml and
application_scrape_jobs.yml, the logic in module_utils/_scrape.py and _applications.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._applications import application_scrape_jobs
from ansible_collections.monitoring.stack.plugins.module_utils._scrape import scrape_plan
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Prometheus scrape configuration filters."""

    def filters(self):
        return filter_map({"scrape_plan": scrape_plan, "application_scrape_jobs": application_scrape_jobs})
