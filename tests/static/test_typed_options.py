"""Every dict option and every list-of-dicts option of a role spec declares its keys (``options``).

Ansible's role argument validation then refuses an unknown or misspelt key inside such an option
and names its path (``node_exporter_tls.min_versoin``). Dicts whose keys are free names (user
names, flag names, label names, ...) cannot be typed by an argument spec: they are listed in
FREE_KEYS with the reason and with what checks their values instead.
"""

import fnmatch
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))
TYPES = ("str", "path", "int", "bool", "float", "dict", "list", "raw")

# Option path (fnmatch pattern; nested options joined with ".") -> why it has no ``options``.
FREE_KEYS = {
    # Top-level dicts keyed by free names.
    "*_basic_auth_users": "user name -> password; monitoring.stack.web_config checks and hashes them",
    "*_extra_flags": "daemon flag name -> value; monitoring.stack.flag_args checks and renders them",
    "*_unit_hardening": "systemd directive -> value; monitoring.stack.systemd_directives checks and renders them",
    "alertmanager_channels": "channel name -> channel; monitoring.stack.alertmanager_config checks each channel's keys per type",
    "alertmanager_severity_policy": "severity -> policy; monitoring.stack.alertmanager_config checks each entry's keys",
    "blackbox_exporter_modules": "module name -> blackbox module; blackbox_exporter --config.check and the preflight",
    "blackbox_exporter_extra_modules": "module name -> module changes, deep-merged over blackbox_exporter_modules",
    "postgres_exporter_extra_queries": "query name -> queries.yaml entry; the preflight and postgres_exporter",
    "prometheus_external_labels": "label name -> value; promtool check config",
    "prometheus_scrape_job_overrides": "job name -> changes; monitoring.stack.scrape_plan checks names and keys",
    "prometheus_rule_pack_params": "pack name -> parameters; monitoring.stack.rule_pack_groups",
    "prometheus_rule_overrides": "rule name -> changes; monitoring.stack.rule_pack_groups checks names and keys",
    "loki_rule_pack_params": "pack name -> parameters; monitoring.stack.loki_rule_groups",
    "loki_rule_overrides": "rule name -> changes; monitoring.stack.loki_rule_groups checks names and keys",
    "grafana_ini": "section -> settings, deep-merged grafana.ini; monitoring.stack.grafana_ini and the preflight",
    "loki_config_extra": "any Loki config, deep-merged; monitoring.stack.loki_config and loki -verify-config",
    "otel_collector_config_extra": "any collector config, deep-merged; otelcol-contrib validate checks it",
    "otel_collector_resource_attributes": "resource attribute -> value; monitoring.stack.otel_collector_config checks the values",
    # Nested maps keyed by free names (labels, headers, environment, settings of a type).
    "*.labels": "label name -> value",
    "*.external_labels": "label name -> value (prometheus_global; prometheus_external_labels is merged over it)",
    "*.annotations": "annotation name -> value",
    "*.environment": "environment variable -> value",
    "*.hardening": "systemd directive -> value; monitoring.stack.systemd_directives",
    "*.params": "URL parameter -> value(s)",
    "*.headers": "HTTP header -> value",
    "*.proxy_connect_header": "HTTP header -> values",
    "*.json_fields": "field name -> JSON key",
    "*.json_data": "Grafana jsonData, keys depend on the datasource type",
    "grafana_datasources.jsonData": "Grafana jsonData, keys depend on the datasource type",
    "grafana_datasources.secureJsonData": "Grafana secureJsonData, keys depend on the datasource type",
    "grafana_alerting_contact_points.receivers.settings": "integration settings, keys depend on the integration type",
    "grafana_dashboards.spec": "compact dashboard spec, checked by monitoring.stack.grafana_dashboard",
    "loki_schema_periods.index.tags": "tag name -> value",
    # Upstream blocks passed through unchanged and checked by the daemon's own checker.
    "alertmanager_extra_receivers.*_configs": "Alertmanager integration configs; amtool check-config",
    "alertmanager_extra_routes.routes": "child routes, recursive; amtool check-config",
    "alertmanager_global.http_config": "Alertmanager http_config; amtool check-config",
    "alertmanager_global.smtp_tls_config": "Alertmanager tls_config; amtool check-config",
    "grafana_alerting_policies.routes": "child policies, recursive; checked by Grafana",
    "grafana_datasources.correlations": "Grafana correlations; checked by Grafana",
    "loki_s3.http_config": "Loki block; loki -verify-config",
    "loki_s3.sse": "Loki block; loki -verify-config",
    "loki_s3.backoff_config": "Loki block; loki -verify-config",
    "loki_schema_periods.chunks": "Loki chunks table block; loki -verify-config",
    "prometheus_remote_write.oauth2": "Prometheus oauth2 block; promtool check config",
    "prometheus_remote_write.http_headers": "Prometheus http_headers block (header -> values/secrets/files); promtool",
    "prometheus_remote_write.sigv4": "Prometheus sigv4 block; promtool check config",
    "prometheus_remote_write.azuread": "Prometheus azuread block; promtool check config",
    "prometheus_remote_write.google_iam": "Prometheus google_iam block; promtool check config",
}


def _options(role):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return spec["argument_specs"]["main"].get("options", {})


def _walk(options, prefix=""):
    """(path, option) of every option and sub-option."""
    for name, option in options.items():
        path = prefix + name
        yield path, option
        yield from _walk(option.get("options") or {}, path + ".")


def _is_mapping_option(option):
    return option.get("type") == "dict" or (option.get("type") == "list" and option.get("elements") == "dict")


def _free(path):
    return [pattern for pattern in FREE_KEYS if fnmatch.fnmatchcase(path, pattern)]


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_mapping_options_declare_their_keys(role):
    untyped = [path for path, option in _walk(_options(role))
               if _is_mapping_option(option) and not option.get("options") and not _free(path)]
    assert not untyped, (
        "%s: dict / list-of-dict options without `options:` (declare the keys, or add the path to FREE_KEYS "
        "in %s with the reason): %s" % (role.name, pathlib.Path(__file__).name, ", ".join(untyped)))


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_free_key_options_have_no_options(role):
    both = [path for path, option in _walk(_options(role)) if option.get("options") and _free(path)]
    assert not both, "%s: typed options listed in FREE_KEYS (remove them there): %s" % (role.name, ", ".join(both))


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_top_level_free_key_dicts_say_what_checks_them(role):
    for name, option in _options(role).items():
        if _is_mapping_option(option) and not option.get("options"):
            description = option.get("description", "")
            description = " ".join(description) if isinstance(description, list) else description
            assert "free keys" in description, (
                "%s: the description of %s should say that its keys are free and what checks the values" % (role.name, name))


def test_every_free_key_entry_is_used():
    paths = [path for role in ROLES for path, option in _walk(_options(role)) if _is_mapping_option(option)]
    unused = [pattern for pattern in FREE_KEYS if not any(fnmatch.fnmatchcase(path, pattern) for path in paths)]
    assert not unused, "FREE_KEYS entries matching no option (remove them): %s" % ", ".join(unused)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_sub_options_are_typed_and_described(role):
    for path, option in _walk(_options(role)):
        if "." not in path:
            continue  # top-level options: see test_argument_specs.py
        assert option.get("type") in TYPES, "%s: %s has no valid type" % (role.name, path)
        assert option.get("description"), "%s: %s has no description" % (role.name, path)
        if option["type"] == "list":
            assert option.get("elements"), "%s: list %s needs elements" % (role.name, path)
        assert not (option.get("required") and "default" in option), "%s: %s is required and has a default" % (role.name, path)
        if "default" in option and option.get("choices") and option["type"] != "list":
            assert option["default"] in option["choices"], "%s: default of %s is not one of its choices" % (role.name, path)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_sub_option_constraints_name_real_sub_options(role):
    keys = ("mutually_exclusive", "required_one_of", "required_together")
    for path, option in _walk(_options(role)):
        names = set(option.get("options") or {})
        for key in keys:
            for group in option.get(key) or []:
                assert set(group) <= names, "%s: %s of %s names unknown sub-options %s" % (role.name, key, path, group)
        for name, needed in (option.get("required_by") or {}).items():
            assert {name, *needed} <= names, "%s: required_by of %s names unknown sub-options" % (role.name, path)


# The same value shape under several names: their sub-options must not drift apart.
SAME_SHAPE = {
    "exporter-toolkit TLS": ["alertmanager_tls", "blackbox_exporter_tls", "nginx_exporter_tls", "node_exporter_tls",
                             "postgres_exporter_tls", "prometheus_tls", "pushgateway_tls"],
    "TLS files": ["*_tls_files"],
    "per-architecture checksums": ["*_checksums"],
    "log source catalogue": ["alloy_sources", "log_shipper_sources", "promtail_sources"],
    "scrape job": ["prometheus_scrape_jobs", "prometheus_extra_scrape_jobs"],
}


@pytest.mark.parametrize("shape", sorted(SAME_SHAPE))
def test_shared_shapes_have_the_same_sub_options(shape):
    found = {name: option.get("options") for role in ROLES for name, option in _options(role).items()
             if any(fnmatch.fnmatchcase(name, pattern) for pattern in SAME_SHAPE[shape])}
    assert len(found) > 1, "%s: fewer than two options match %s" % (shape, SAME_SHAPE[shape])
    first = sorted(found)[0]
    differ = sorted(name for name, options in found.items() if options != found[first])
    assert not differ, "%s: sub-options of %s differ from those of %s" % (shape, ", ".join(differ), first)
