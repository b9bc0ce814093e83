# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Centralised-logs filters; the documentation of each is in its sidecar <filter>.yml, the logic in
module_utils/_loki.py, _loki_rules.py, _log_sources.py, _log_host.py, _log_agents.py, _log_rotation.py and _alloy_syntax.py, and
plugin_utils/_log_handover.py (controller side: it reads YAML)."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._log_agents import alloy_config, promtail_config
from ansible_collections.monitoring.stack.plugins.plugin_utils._log_handover import promtail_positions
from ansible_collections.monitoring.stack.plugins.module_utils._log_host import host_timezone
from ansible_collections.monitoring.stack.plugins.module_utils._log_rotation import logrotate_configs
from ansible_collections.monitoring.stack.plugins.module_utils._log_sources import log_source_overlaps, log_sources
from ansible_collections.monitoring.stack.plugins.module_utils._loki import check_loki_config, loki_config, loki_config_extra_problems
from ansible_collections.monitoring.stack.plugins.module_utils._loki_rules import loki_rule_groups, loki_ruler_alertmanager
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
            "log_source_overlaps": log_source_overlaps,
            "host_timezone": host_timezone,
            "promtail_positions": promtail_positions,
            "loki_config_extra_problems": loki_config_extra_problems,
            "loki_rule_groups": loki_rule_groups,
            "loki_ruler_alertmanager": loki_ruler_alertmanager,
            "logrotate_configs": logrotate_configs,
        })
