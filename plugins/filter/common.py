# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring.stack engine; the documentation of each is in its sidecar <filter>.yml, the logic in module_utils/_common.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._common import (
    collector_flags,
    flag_args,
    go_arch,
    systemd_directives,
    web_config,
    web_config_for_check,
)
from ansible_collections.monitoring.stack.plugins.module_utils._endpoints import local_api
from ansible_collections.monitoring.stack.plugins.module_utils._tls import site_tls_problems
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """monitoring.stack engine filters."""

    def filters(self):
        return filter_map({
            "collector_flags": collector_flags,
            "flag_args": flag_args,
            "systemd_directives": systemd_directives,
            "web_config": web_config,
            "go_arch": go_arch,
            "web_config_for_check": web_config_for_check,
            "local_api": local_api,
            "site_tls_problems": site_tls_problems,
        })
