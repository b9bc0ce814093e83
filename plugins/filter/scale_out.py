# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prometheus_scale_out and prometheus_shard_jobs filters; their documentation is in the sidecars
prometheus_scale_out.yml and prometheus_shard_jobs.yml, the logic in module_utils/_scale_out.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._scale_out import scale_out_plan, shard_scrape_configs
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Prometheus HA, sharding, long-term store and retention tier filters."""

    def filters(self):
        return filter_map({"prometheus_scale_out": scale_out_plan, "prometheus_shard_jobs": shard_scrape_configs})
