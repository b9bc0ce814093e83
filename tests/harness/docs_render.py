# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placeholders for Jinja values and the collection builders examples are rendered through, for docs_examples.py."""

from __future__ import annotations

from docs_extract import Unsafe
from ansible_collections.monitoring.stack.plugins.module_utils import (
    _alertmanager, _daemon, _dashboards, _grafana_provisioning, _log_sources, _rule_packs, _rules, _scrape, _slo,
)


def is_template(text):
    """True when Ansible would template the string."""
    return "{{" in text or "{%" in text


def placeholders(value, spec=None, key=""):
    """A plain copy of ``value`` with Jinja strings replaced by a value of the spec's type (module docstring)."""
    spec = spec if isinstance(spec, dict) else {}
    kind = spec.get("type")
    if isinstance(value, Unsafe):
        return str(value)
    if isinstance(value, str) and is_template(value):
        if spec.get("choices") and kind not in ("list", "dict"):
            return spec["choices"][0]
        typed = {"int": 1, "float": 1.0, "bool": True, "list": [], "dict": {}}
        if kind in typed:
            return typed[kind]
        return "https://placeholder.example.org" if str(key).lower().endswith("url") else "placeholder"
    if isinstance(value, dict):
        options = spec.get("options") if kind == "dict" else None
        return {k: placeholders(v, (options or {}).get(k), k) for k, v in value.items()}
    if isinstance(value, list):
        element = None
        if kind == "list":
            element = {"type": spec.get("elements"), "options": spec.get("options"), "choices": spec.get("choices")}
        return [placeholders(v, element, key) for v in value]
    return value


# --------------------------------------------------------------------------- renderers


def _render_rules(checker, values):
    ctx = _rules.Context(runbook_base_url=checker.value(values, "prometheus_runbook_base_url"))
    if values.get("prometheus_alert_rules"):
        _rules.alert_rule_groups(values["prometheus_alert_rules"], ctx, default_group="custom.alerts")
    if values.get("prometheus_slos"):
        _slo.slo_rule_groups(values["prometheus_slos"], ctx)
    packs = checker.rule_packs()
    enabled = checker.value(values, "prometheus_rule_packs")
    _rule_packs.rule_pack_groups(packs, ctx, enabled=enabled if isinstance(enabled, list) else [p["pack"] for p in packs],
                                 overrides=checker.value(values, "prometheus_rule_overrides"),
                                 params=checker.value(values, "prometheus_rule_pack_params"))


def _render_alertmanager(checker, values):
    def get(name):
        return checker.value(values, "alertmanager_" + name)
    _alertmanager.alertmanager_config(
        get("severity_policy"), channels=get("channels"), default_severity=get("default_severity"),
        group_by=get("group_by"), group_wait=get("group_wait"), group_interval=get("group_interval"),
        repeat_interval=get("repeat_interval"), inhibit_equal=get("inhibit_equal"), extra_routes=get("extra_routes"),
        extra_receivers=get("extra_receivers"), extra_inhibit_rules=get("extra_inhibit_rules"),
        time_intervals=get("time_intervals"), global_config=get("global"), smtp=get("smtp"),
        templates=["/etc/alertmanager/templates/*.tmpl"], secrets_dir="/etc/alertmanager/secrets")


def _render_dashboards(checker, values):
    uids = checker.value(values, "grafana_dashboard_datasource_uids")
    folders = {f.get("uid") for f in checker.value(values, "grafana_dashboard_folders") or [] if isinstance(f, dict)}
    for entry in checker.value(values, "grafana_dashboards") or []:
        if entry.get("folder") and entry["folder"] not in folders:
            raise ValueError("folder %r is not in grafana_dashboard_folders (%s)" % (entry["folder"], ", ".join(sorted(folders))))
        if "spec" in entry:
            _dashboards.build_dashboard(entry["spec"], uids)


def _render_datasources(checker, values):
    sources = checker.value(values, "grafana_datasource_sources")
    groups = {s["group"]: ["host1.example.org"] for s in sources or [] if isinstance(s, dict) and isinstance(s.get("group"), str)}
    _grafana_provisioning.datasources_from_groups(sources, groups, {})


def _render_scrape(checker, values):
    _scrape.scrape_plan(checker.value(values, "prometheus_scrape_jobs"), {}, {},
                        defaults=checker.value(values, "prometheus_scrape_defaults"),
                        overrides=checker.value(values, "prometheus_scrape_job_overrides"),
                        extra=checker.value(values, "prometheus_extra_scrape_jobs"),
                        alertmanagers=checker.value(values, "prometheus_alertmanagers"),
                        remote_write=checker.value(values, "prometheus_remote_write"), keep_empty=True)


def _render_log_sources(_checker, values):
    for name in LOG_SOURCE_VARS:
        if name in values:
            _log_sources.log_sources(values[name])


def _render_grafana_ini(_checker, values):
    _grafana_provisioning.grafana_ini(values["grafana_ini"])


def _render_site_tls(_checker, values):
    _daemon.site_tls(values["monitoring_stack_tls"], "/etc/example")


LOG_SOURCE_VARS = ("log_sources", "log_shipper_sources", "promtail_sources", "alloy_sources")
# (what, variables that trigger it, builder): the variables an example sets select the builders it runs through.
RENDERERS = (
    ("Prometheus rules (alert_rule_groups, slo_rule_groups, rule_pack_groups)",
     ("prometheus_alert_rules", "prometheus_slos", "prometheus_rule_overrides", "prometheus_rule_pack_params",
      "prometheus_rule_packs", "prometheus_runbook_base_url"), _render_rules),
    ("the Alertmanager config (alertmanager_config)",
     tuple("alertmanager_" + n for n in ("channels", "severity_policy", "smtp", "global", "extra_routes", "extra_receivers",
                                         "extra_inhibit_rules", "time_intervals", "default_severity")), _render_alertmanager),
    ("dashboards (grafana_dashboard)", ("grafana_dashboards", "grafana_dashboard_folders"), _render_dashboards),
    ("datasources (grafana_datasources)", ("grafana_datasource_sources",), _render_datasources),
    ("scrape jobs (scrape_plan)", ("prometheus_scrape_jobs", "prometheus_scrape_defaults", "prometheus_scrape_job_overrides",
                                   "prometheus_extra_scrape_jobs", "prometheus_alertmanagers", "prometheus_remote_write"),
     _render_scrape),
    ("log sources (log_sources)", LOG_SOURCE_VARS, _render_log_sources),
    ("grafana.ini (grafana_ini)", ("grafana_ini",), _render_grafana_ini),
    ("the site TLS (monitoring_stack_tls)", ("monitoring_stack_tls",), _render_site_tls),
)
