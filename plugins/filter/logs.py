# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Centralised-logs filters: Loki config, append-only schema periods, one catalogue for Promtail and Alloy."""

from __future__ import annotations

DOCUMENTATION = r"""
name: logs
short_description: Build Loki, Promtail and Alloy configurations from one log source catalogue
version_added: 1.0.0
author: monitoring.stack maintainers
description:
  - This file provides six filters. The logic lives in C(plugins/module_utils/_logs.py).
  - C(monitoring.stack.loki_config(settings)) returns the Loki 3.x single-binary configuration
    (auth, server, common with an in-memory ring and filesystem or S3 storage, tsdb/v13 schema periods,
    tsdb shipper, compactor with retention, limits, optional ruler, analytics off). It refuses
    configurations that Loki 3.5 itself would refuse (retention without C(delete_request_store),
    schema v13 without tsdb, tsdb with an index period other than 24h, structured metadata on a
    pre-v13 active period).
  - C(monitoring.stack.loki_schema_periods(desired, existing)) returns the periods to deploy.
    Periods are append-only; a new period must start strictly after today (UTC); a deployed period
    may never be rewritten or removed. I(existing) is the config read from the host, its
    C(schema_config) or a period list; empty on a first deployment.
  - C(monitoring.stack.log_sources(catalogue, enabled, host, environment)) normalises a catalogue
    of sources (types C(nginx_access), C(nginx_error), C(postgresql), C(journal), C(odoo), C(django),
    C(fastapi), C(audit), C(custom)) into the list the two agent filters render. Unbounded values
    (C(correlation_id), C(path), C(filename), ...) are refused as labels and kept as structured metadata.
  - C(monitoring.stack.promtail_config(sources, settings)) returns the Promtail configuration dict.
  - C(monitoring.stack.alloy_config(sources, settings)) returns the Alloy configuration text.
  - C(monitoring.stack.loki_check(config)) re-runs the structural checks on any Loki config dict.
options:
  _input:
    description:
      - For C(loki_config), the settings dict (keys of C(LOKI_DEFAULTS) in C(_logs.py)).
      - For C(loki_schema_periods), the desired list of periods (C(from), C(store), C(object_store), C(schema), C(index)).
      - For C(log_sources), the catalogue (a list of sources, or a dict name -> source).
      - For C(promtail_config) and C(alloy_config), the list returned by C(log_sources).
    type: raw
    required: true
  existing:
    description: C(loki_schema_periods) only. The deployed Loki config, its C(schema_config) or its period list.
    type: raw
  default_object_store:
    description: C(loki_schema_periods) only. C(object_store) of periods that do not name one (the Loki storage type).
    type: str
    default: filesystem
  enabled:
    description: C(log_sources) only. Names of the sources to keep; omitted keeps every source not C(enabled=false).
    type: list
    elements: str
  host:
    description: C(log_sources) only. Value of the static C(host) label.
    type: str
  environment:
    description: C(log_sources) only. Value of the static C(environment) label.
    type: str
  settings:
    description:
      - C(promtail_config) and C(alloy_config) only. C(loki_url), C(tenant_id), C(basic_auth_username),
        C(basic_auth_password) or C(basic_auth_password_file), C(http_listen_address), C(http_listen_port),
        C(positions_file) (Promtail), C(log_level), C(external_labels).
    type: dict
"""

EXAMPLES = r"""
- name: Build the Loki configuration with 30 days of retention on the filesystem.
  ansible.builtin.set_fact:
    loki_cfg: "{{ {'retention_period': '30d', 'schema_periods': periods} | monitoring.stack.loki_config }}"

- name: Refuse a schema change that would rewrite a deployed period.
  ansible.builtin.set_fact:
    periods: "{{ loki_schema_periods | monitoring.stack.loki_schema_periods(deployed_config) }}"

- name: Render the same catalogue for Promtail and for Alloy.
  ansible.builtin.set_fact:
    sources: "{{ log_sources | monitoring.stack.log_sources(none, inventory_hostname, 'production') }}"
    promtail_cfg: "{{ sources | monitoring.stack.promtail_config({'loki_url': 'http://loki:3100/loki/api/v1/push'}) }}"
    alloy_text: "{{ sources | monitoring.stack.alloy_config({'loki_url': 'http://loki:3100/loki/api/v1/push'}) }}"
"""

RETURN = r"""
_value:
  description:
    - C(loki_config), C(promtail_config) return a dict ready for C(to_nice_yaml).
    - C(loki_schema_periods) and C(log_sources) return lists of dicts.
    - C(alloy_config) returns a string in Alloy configuration syntax.
    - C(loki_check) returns C(true) or fails.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._logs import (
    LogsError,
    alloy_config as _alloy_config,
    check_loki_config as _check_loki_config,
    log_sources as _log_sources,
    loki_config as _loki_config,
    loki_schema_periods as _loki_schema_periods,
    promtail_config as _promtail_config,
)


def _wrap(func):
    def filter_(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LogsError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    filter_.__name__ = func.__name__
    filter_.__doc__ = func.__doc__
    return filter_


def _plain(value):
    """Turn Ansible's tagged/lazy containers into plain dicts and lists."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def loki_config(settings=None):
    """Build the Loki 3.x single-binary configuration dict."""
    return _loki_config(_plain(settings or {}))


def loki_schema_periods(desired, existing=None, default_object_store="filesystem"):
    """Return the schema periods to deploy; append-only, new periods dated after today (UTC)."""
    return _loki_schema_periods(_plain(desired), _plain(existing), default_object_store=default_object_store or "filesystem")


def loki_check(config):
    """Structural checks of a Loki config dict."""
    return _check_loki_config(_plain(config))


def log_sources(catalogue, enabled=None, host="", environment=""):
    """Normalise a log source catalogue for monitoring.stack.promtail_config and alloy_config."""
    return _log_sources(_plain(catalogue), _plain(enabled), host or "", environment or "")


def promtail_config(sources, settings=None):
    """Build the Promtail configuration dict."""
    return _promtail_config(_plain(sources), _plain(settings or {}))


def alloy_config(sources, settings=None):
    """Build the Alloy configuration text."""
    return _alloy_config(_plain(sources), _plain(settings or {}))


class FilterModule:
    """monitoring.stack centralised-logs filters."""

    def filters(self):
        """Return the filters of this file."""
        return {
            "loki_config": _wrap(loki_config),
            "loki_schema_periods": _wrap(loki_schema_periods),
            "loki_check": _wrap(loki_check),
            "log_sources": _wrap(log_sources),
            "promtail_config": _wrap(promtail_config),
            "alloy_config": _wrap(alloy_config),
        }
