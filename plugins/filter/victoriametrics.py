# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the victoriametrics role; docs in the sidecars, logic in module_utils/_victoriametrics.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._victoriametrics import (
    retention_period,
    victoriametrics_environment,
    victoriametrics_flags,
)
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Flags, environment and retention check of single-node VictoriaMetrics."""

    def filters(self):
        return filter_map({"victoriametrics_flags": victoriametrics_flags,
                           "victoriametrics_environment": victoriametrics_environment,
                           "victoriametrics_retention": retention_period})
