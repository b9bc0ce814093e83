# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Centralised-logs filters; the documentation of each is in its sidecar <filter>.yml, the logic in
module_utils/_loki.py, _log_sources.py and _log_agents.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._log_agents import alloy_config, promtail_config
from ansible_collections.monitoring.stack.plugins.module_utils._log_sources import log_sources
from ansible_collections.monitoring.stack.plugins.module_utils._loki import check_loki_config, loki_config
from ansible_collections.monitoring.stack.plugins.module_utils._loki import loki_schema_periods as _loki_schema_periods
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


def loki_schema_periods(desired, existing=None, default_object_store="filesystem"):
    """The schema periods to deploy; append-only, new periods dated after today (UTC)."""
    return _loki_schema_periods(desired, existing, default_object_store=default_object_store or "filesystem")


def loki_check(config):
    """True when a Loki config passes the checks Loki 3.5 makes at start-up."""
    return check_loki_config(config)


class FilterModule:
    """monitoring.stack centralised-logs filters."""

    def filters(self):
        return filter_map({
            "loki_config": loki_config,
            "loki_schema_periods": loki_schema_periods,
            "loki_check": loki_check,
            "log_sources": log_sources,
            "promtail_config": promtail_config,
            "alloy_config": alloy_config,
        })
