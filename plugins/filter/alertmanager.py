# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager filters; the documentation of each is in its sidecar <filter>.yml, the logic in module_utils/_alertmanager.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._alertmanager import alertmanager_config, cluster_peers
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Alertmanager configuration filters."""

    def filters(self):
        return filter_map({
            "alertmanager_config": alertmanager_config,
            "alertmanager_cluster_peers": cluster_peers,
        })
