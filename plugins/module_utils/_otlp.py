# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OTLP into Prometheus: the ``otlp`` and ``storage`` sections of prometheus.yml for the native receiver.

Keys from the Prometheus 3.5 configuration reference (docs/configuration/configuration.md of
prometheus/prometheus, section ``otlp``): promote_resource_attributes, translation_strategy,
keep_identifying_resource_attributes, convert_histograms_to_nhcb; and ``storage.tsdb.out_of_order_time_window``.
"""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, check_duration, check_keys

KIND = "prometheus_otlp"
OTLP_KEYS = ("enabled", "promote_resource_attributes", "translation_strategy", "keep_identifying_resource_attributes",
             "convert_histograms_to_nhcb", "out_of_order_time_window")
TRANSLATION_STRATEGIES = ("UnderscoreEscapingWithSuffixes", "NoUTF8EscapingWithSuffixes", "NoTranslation")


def _bool(field, value):
    if not isinstance(value, bool):
        raise SpecError("otlp", field, "expected true or false, got %r" % (value,), kind=KIND)
    return value


def prometheus_otlp_sections(spec):
    """``{enabled, promote_resource_attributes, ...}`` -> ``{otlp: {...}, storage: {tsdb: {...}}}``, or ``{}`` when off."""
    check_keys("otlp", spec, OTLP_KEYS, field="prometheus_otlp", kind=KIND)
    if not _bool("enabled", spec.get("enabled", False)):
        return {}
    attributes = spec.get("promote_resource_attributes") or []
    if not isinstance(attributes, list) or not all(isinstance(item, str) and item.strip() for item in attributes):
        raise SpecError("otlp", "promote_resource_attributes", "expected a list of resource attribute names", kind=KIND)
    if len(set(attributes)) != len(attributes):
        raise SpecError("otlp", "promote_resource_attributes", "an attribute is listed twice: %s" % ", ".join(attributes), kind=KIND)
    otlp = {"promote_resource_attributes": list(attributes)}
    strategy = spec.get("translation_strategy") or TRANSLATION_STRATEGIES[0]
    if strategy not in TRANSLATION_STRATEGIES:
        raise SpecError("otlp", "translation_strategy", "expected one of %s, got %r" % (", ".join(TRANSLATION_STRATEGIES), strategy),
                        kind=KIND)
    otlp["translation_strategy"] = strategy
    for key in ("keep_identifying_resource_attributes", "convert_histograms_to_nhcb"):
        if spec.get(key) is not None:
            otlp[key] = _bool(key, spec[key])
    result = {"otlp": otlp}
    window = check_duration("otlp", "out_of_order_time_window", spec.get("out_of_order_time_window") or None, kind=KIND)
    if window:
        result["storage"] = {"tsdb": {"out_of_order_time_window": window}}
    return result
