# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alert_digest_plan filter; its documentation is in the sidecar, the logic in module_utils/_digest.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._digest import alert_digest_plan
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """The daily alert digest of the alertmanager role."""

    def filters(self):
        return filter_map({"alert_digest_plan": alert_digest_plan})
