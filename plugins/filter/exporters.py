# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for exporters without the exporter toolkit; docs in the sidecars, logic in module_utils/_exporters.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._exporters import (
    env_file,
    kafka_exporter_tls_flags,
    redis_exporter_environment,
    redis_password_file,
)
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """Environment files of exporters configured through environment variables."""

    def filters(self):
        return filter_map({"redis_exporter_environment": redis_exporter_environment,
                           "redis_password_file": redis_password_file,
                           "env_file": env_file,
                           "kafka_exporter_tls_flags": kafka_exporter_tls_flags})
