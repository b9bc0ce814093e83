# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grafana_ini filter; its documentation is in the sidecar grafana_ini.yml, the logic in module_utils/_grafana_provisioning.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._grafana_provisioning import grafana_ini
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """grafana.ini rendering."""

    def filters(self):
        return filter_map({"grafana_ini": grafana_ini})
