# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenTelemetry filters: the Collector's config and Prometheus' OTLP sections; docs in the sidecars
otel_collector_config.yml and prometheus_otlp_sections.yml, logic in module_utils/_otel_collector.py and _otlp.py."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._otel_collector import otel_collector_config
from ansible_collections.monitoring.stack.plugins.module_utils._otlp import prometheus_otlp_sections
from ansible_collections.monitoring.stack.plugins.plugin_utils._filter import filter_map


class FilterModule:
    """OpenTelemetry Collector and OTLP receiver filters."""

    def filters(self):
        return filter_map({"otel_collector_config": otel_collector_config,
                           "prometheus_otlp_sections": prometheus_otlp_sections})
