# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pg_preload_libraries filter; its documentation is in the sidecar, the logic in module_utils/_postgres.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._postgres import pg_preload_libraries
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """PostgreSQL settings filters."""

    def filters(self):
        return filter_map({"pg_preload_libraries": pg_preload_libraries})
