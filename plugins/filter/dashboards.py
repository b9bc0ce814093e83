# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
name: grafana_dashboard
short_description: Render a compact dashboard spec into a Grafana dashboard JSON model
version_added: 0.1.0
author: monitoring.stack contributors
description:
  - Turns a short YAML spec (title, uid, tags, variables, rows of panels with PromQL or LogQL
    targets) into a complete Grafana dashboard JSON model with C(schemaVersion) 39.
  - Panels get unique ids and C(gridPos) values from an automatic layout on the 24-column grid.
    Panels flow left to right, a line that is full wraps, every row starts on a new line, nothing overlaps.
  - Every panel and target gets a datasource reference. By default the reference is a dashboard
    variable C(${DS_PROMETHEUS}) or C(${DS_LOKI}), added to the dashboard automatically, whose default value
    is the uid given in O(datasource_uids); with O(datasource_variables=false) the uid is used directly.
  - Bad specs raise an error naming the dashboard, the panel and the field.
  - The same file provides C(monitoring.stack.dashboard_queries), which returns every PromQL expression of a
    rendered dashboard with template variables replaced (multi-value variables by the regex C(.*), interval
    variables and Grafana built-ins such as C($__rate_interval) by durations), ready for C(promtool) or a live
    Prometheus; C(monitoring.stack.grafana_datasources), which builds Grafana datasource entries for the
    inventory groups that exist; and C(monitoring.stack.grafana_dashboard_providers), which builds one file
    dashboard provider per folder C({uid, title}).
options:
  _input:
    description:
      - The dashboard spec.
      - "Keys: V(title) (required), V(uid) (default: slug of the title, at most 40 characters), V(description),
        V(tags), V(refresh) (default V(1m)), V(time) (V(from)/V(to), default last 6 hours), V(datasource)
        (default datasource type of the panels, V(prometheus) or V(loki)), V(variables), V(rows) or V(panels), V(links)."
      - "A variable has V(name), V(type) (V(query), V(custom), V(datasource), V(interval), V(textbox), V(constant)),
        V(query), V(label), V(multi), V(include_all), V(all_value), V(current), V(regex), V(sort)."
      - "A row has V(title), V(collapsed) and V(panels)."
      - "A panel has V(title) (unique in the dashboard), V(type) (V(stat), V(timeseries), V(table), V(logs),
        V(bargauge), V(gauge); default V(timeseries)), V(targets) (list of V(expr) and V(legend)), V(unit),
        V(decimals), V(min), V(max), V(thresholds) (list of V(value)/V(color); the first step may omit V(value)),
        V(thresholds_mode), V(width) (1-24), V(height), V(stack), V(datasource), V(description), V(instant),
        V(interval), V(repeat), V(legend), and the raw Grafana pass-throughs V(options), V(field_config),
        V(overrides), V(transformations), V(links)."
    type: dict
    required: true
  datasource_uids:
    description:
      - Maps a datasource type (V(prometheus), V(loki)) to the uid of a provisioned datasource.
      - With O(datasource_variables=true) the uid becomes the default of the C(DS_<TYPE>) variable.
    type: dict
    default: {}
  datasource_variables:
    description:
      - Reference datasources through C(${DS_PROMETHEUS})/C(${DS_LOKI}) dashboard variables.
      - When V(false), every used datasource type must be in O(datasource_uids).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Render a dashboard spec to a JSON file.
  ansible.builtin.copy:
    dest: /var/lib/grafana/dashboards/business/contracts.json
    content: "{{ spec | monitoring.stack.grafana_dashboard(datasource_uids={'prometheus': 'prometheus'}) | ansible.builtin.to_nice_json }}"
    mode: "0644"
  vars:
    spec:
      title: Contracts
      uid: dps-contracts
      tags: [business]
      variables:
        - {name: tenant_id, query: 'label_values(dps_contracts_active_total, tenant_id)'}
      rows:
        - title: Portfolio
          panels:
            - title: Active contracts
              type: stat
              targets:
                - expr: sum(dps_contracts_active_total{tenant_id=~"$tenant_id"})
            - title: Active contracts by tenant
              targets:
                - expr: sum by (tenant_id) (dps_contracts_active_total{tenant_id=~"$tenant_id"})
                  legend: "{{ '{{' }}tenant_id{{ '}}' }}"

- name: List the PromQL of a rendered dashboard with variables replaced.
  ansible.builtin.debug:
    msg: "{{ spec | monitoring.stack.grafana_dashboard | monitoring.stack.dashboard_queries }}"

- name: Build datasources for the inventory groups that exist.
  ansible.builtin.set_fact:
    datasources: >-
      {{ [{'name': 'Prometheus', 'type': 'prometheus', 'uid': 'prometheus', 'group': 'prometheus', 'port': 9090}]
         | monitoring.stack.grafana_datasources(groups, hostvars) }}
"""

RETURN = r"""
_value:
  description:
    - The Grafana dashboard JSON model (C(uid), C(title), C(schemaVersion), C(templating), C(panels), ...),
      to be written with C(to_nice_json) into a directory read by a dashboard provider.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import (
    DashboardSpecError,
    build_dashboard,
    dashboard_providers,
    dashboard_queries,
    datasources_from_groups,
)


def _plain(value):
    """Convert Ansible lazy/tagged containers to plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def grafana_dashboard(spec, datasource_uids=None, datasource_variables=True):
    """Render a compact dashboard spec into a Grafana dashboard JSON model."""
    try:
        return build_dashboard(_plain(spec), datasource_uids=_plain(datasource_uids or {}),
                               datasource_variables=datasource_variables)
    except DashboardSpecError as exc:
        raise AnsibleFilterError("monitoring.stack.grafana_dashboard: %s" % exc) from exc


def dashboard_queries_filter(dashboard, detailed=False, datasource_type="prometheus"):
    """Every query of one datasource type in a rendered dashboard, with template variables replaced."""
    try:
        return dashboard_queries(_plain(dashboard), detailed=detailed, datasource_type=datasource_type)
    except DashboardSpecError as exc:
        raise AnsibleFilterError("monitoring.stack.dashboard_queries: %s" % exc) from exc


def grafana_datasources(sources, groups, hostvars=None):
    """Grafana datasource entries for the sources whose inventory group has hosts."""
    try:
        return datasources_from_groups(_plain(sources), _plain(dict(groups or {})), hostvars)
    except DashboardSpecError as exc:
        raise AnsibleFilterError("monitoring.stack.grafana_datasources: %s" % exc) from exc


def grafana_dashboard_providers(folders, path, allow_ui_updates=False, org_id=1):
    """Grafana dashboard providers, one file provider per folder {uid, title} under path/<uid>."""
    try:
        return dashboard_providers(_plain(folders), path, allow_ui_updates=allow_ui_updates, org_id=org_id)
    except DashboardSpecError as exc:
        raise AnsibleFilterError("monitoring.stack.grafana_dashboard_providers: %s" % exc) from exc


class FilterModule:
    """Grafana dashboard filters."""

    def filters(self):
        return {
            "grafana_dashboard": grafana_dashboard,
            "dashboard_queries": dashboard_queries_filter,
            "grafana_datasources": grafana_datasources,
            "grafana_dashboard_providers": grafana_dashboard_providers,
        }
