# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager configuration from a severity policy.

:func:`alertmanager_config` builds a complete Alertmanager 0.28+ configuration:
one receiver per severity that combines all its notification channels (a
receiver may hold several integrations; each keeps its own retries and
notification log), one route per severity with ``matchers`` (never the
deprecated ``match``/``match_re``), inhibition of lower severities by higher
ones on equal labels (``source_matchers``/``target_matchers``), and every secret
moved to a file referenced by a ``*_file`` option.

Bad input raises :class:`AlertmanagerSpecError` whose message names the item and the field.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import DURATION, LABEL_NAME, SpecError, check_keys

CHANNEL_TYPES = {
    # type: (config list key, {secret field: file field}, allowed keys)
    "slack": ("slack_configs", {"api_url": "api_url_file"},
              ("channel", "username", "title", "text", "title_link", "color", "icon_emoji", "icon_url", "send_resolved",
               "fields", "actions", "short_fields", "link_names", "mrkdwn_in", "pretext", "footer", "fallback", "callback_id")),
    "email": ("email_configs", {"auth_password": "auth_password_file"},
              ("to", "from", "smarthost", "hello", "auth_username", "auth_identity", "require_tls", "tls_config",
               "headers", "html", "text", "send_resolved")),
    "pagerduty": ("pagerduty_configs", {"routing_key": "routing_key_file", "service_key": "service_key_file"},
                  ("url", "client", "client_url", "description", "details", "images", "links", "source", "severity",
                   "class", "component", "group", "send_resolved")),
    "webhook": ("webhook_configs", {"url": "url_file"}, ("max_alerts", "timeout", "send_resolved")),
}
COMMON_CHANNEL_KEYS = ("type", "http_config", "extra")
POLICY_KEYS = ("channels", "group_by", "group_wait", "group_interval", "repeat_interval",
               "active_time_intervals", "mute_time_intervals")
SMTP_KEYS = ("smarthost", "from", "hello", "auth_username", "auth_password", "auth_password_file", "auth_identity", "require_tls")

# Default notification text (see roles/alertmanager/files/templates/monitoring-stack.tmpl).
TITLE = '{{ template "monitoring_stack.title" . }}'
TEXT = '{{ template "monitoring_stack.text" . }}'
DEFAULTS = {
    "slack": {"title": TITLE, "text": TEXT, "send_resolved": True},
    "email": {"headers": {"Subject": TITLE}, "text": TEXT, "send_resolved": True},
    "pagerduty": {"description": TITLE,
                  "severity": '{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}error{{ end }}',
                  "send_resolved": True},
    "webhook": {"send_resolved": True},
}

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_LABEL_VALUE = re.compile(r"^[a-zA-Z0-9_.-]+$")


class AlertmanagerSpecError(SpecError):
    """Raised for input a user must correct; the message names the item and the field."""


def _check_keys(item, spec, allowed, field="keys"):
    check_keys(AlertmanagerSpecError, item, spec, allowed, field)


def _check_duration(item, field, value):
    if value is None:
        return None
    if not isinstance(value, str) or not DURATION.match(value):
        raise AlertmanagerSpecError(item, field, "%r is not a duration such as 30s, 5m or 4h" % (value,))
    return value


def _check_label_names(item, field, names):
    if not isinstance(names, list) or not all(isinstance(n, str) and (n == "..." or LABEL_NAME.match(n)) for n in names):
        raise AlertmanagerSpecError(item, field, "expected a list of label names, got %r" % (names,))
    return list(names)


class _Secrets:
    def __init__(self, directory):
        self.directory = directory.rstrip("/")
        self.files = []

    def add(self, name, content):
        if not isinstance(content, str) or not content:
            raise AlertmanagerSpecError(name, "secret", "expected a non-empty string")
        path = "%s/%s" % (self.directory, name)
        self.files.append({"path": path, "content": content})
        return path

    def http_config(self, item, http_config):
        """A copy of an http_config with basic_auth.password and authorization.credentials moved to files."""
        if not isinstance(http_config, dict):
            raise AlertmanagerSpecError(item, "http_config", "expected a mapping")
        result = dict(http_config)
        basic = result.get("basic_auth")
        if isinstance(basic, dict) and basic.get("password"):
            basic = dict(basic)
            basic["password_file"] = self.add("%s.basic_auth" % item, basic.pop("password"))
            result["basic_auth"] = basic
        authz = result.get("authorization")
        if isinstance(authz, dict) and authz.get("credentials"):
            authz = dict(authz)
            authz["credentials_file"] = self.add("%s.credentials" % item, authz.pop("credentials"))
            result["authorization"] = authz
        return result


def _integration(name, spec, secrets):
    """One channel spec -> (config list key, integration config)."""
    item = "channel %r" % name
    if not isinstance(spec, dict) or spec.get("type") not in CHANNEL_TYPES:
        raise AlertmanagerSpecError(item, "type", "expected one of %s" % ", ".join(sorted(CHANNEL_TYPES)))
    key, secret_fields, allowed = CHANNEL_TYPES[spec["type"]]
    _check_keys(item, spec, COMMON_CHANNEL_KEYS + allowed + tuple(secret_fields) + tuple(secret_fields.values()))
    config = dict(DEFAULTS[spec["type"]])
    for field in allowed:
        if field in spec:
            config[field] = spec[field]
    for field, file_field in secret_fields.items():
        if spec.get(field) and spec.get(file_field):
            raise AlertmanagerSpecError(item, field, "give %s or %s, not both" % (field, file_field))
        if spec.get(field):
            config[file_field] = secrets.add("%s.%s" % (name, field), spec[field])
        elif spec.get(file_field):
            config[file_field] = spec[file_field]
    if spec["type"] == "webhook" and "url_file" not in config:
        raise AlertmanagerSpecError(item, "url", "a webhook channel needs url (kept in a file) or url_file")
    if spec["type"] == "slack" and "api_url_file" not in config:
        raise AlertmanagerSpecError(item, "api_url", "a slack channel needs api_url (kept in a file) or api_url_file")
    if spec["type"] == "email" and not spec.get("to"):
        raise AlertmanagerSpecError(item, "to", "an email channel needs a recipient")
    if spec["type"] == "pagerduty" and not (set(config) & {"routing_key_file", "service_key_file"}):
        raise AlertmanagerSpecError(item, "routing_key", "a pagerduty channel needs routing_key or service_key (kept in files)")
    if spec.get("http_config"):
        config["http_config"] = secrets.http_config(name, spec["http_config"])
    if spec.get("extra"):
        if not isinstance(spec["extra"], dict):
            raise AlertmanagerSpecError(item, "extra", "expected a mapping of raw integration options")
        config.update(spec["extra"])
    return key, config


def _global(global_config, smtp, secrets):
    result = dict(global_config or {})
    if smtp:
        _check_keys("smtp", smtp, SMTP_KEYS)
        for field in SMTP_KEYS:
            if smtp.get(field) in (None, ""):
                continue
            if field == "auth_password":
                result["smtp_auth_password_file"] = secrets.add("smtp.auth_password", smtp[field])
            else:
                result["smtp_" + field] = smtp[field]
    for field in ("smtp_auth_password", "slack_api_url", "pagerduty_url_secret", "opsgenie_api_key", "victorops_api_key"):
        if field in result:
            raise AlertmanagerSpecError("global", field, "secrets go through the *_file options (the role writes the files)")
    return result


def _policy(policy, default_severity):
    if not isinstance(policy, dict) or not policy:
        raise AlertmanagerSpecError("severity policy", "policy", "expected a mapping of severity to {channels, repeat_interval, ...}")
    for severity, entry in policy.items():
        if not isinstance(severity, str) or not _LABEL_VALUE.match(severity):
            raise AlertmanagerSpecError("severity %r" % (severity,), "severity", "expected a simple label value such as critical")
        _check_keys("severity %r" % severity, entry, POLICY_KEYS)
        channels = entry.get("channels") or []
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise AlertmanagerSpecError("severity %r" % severity, "channels", "expected a list of channel names")
    if default_severity not in policy:
        raise AlertmanagerSpecError("default_severity", "default_severity",
                                    "%r is not in the severity policy (%s)" % (default_severity, ", ".join(policy)))
    return policy


def _inhibit_rules(order, equal):
    rules = []
    for index, severity in enumerate(order[:-1]):
        lower = order[index + 1:]
        target = 'severity="%s"' % lower[0] if len(lower) == 1 else 'severity=~"%s"' % "|".join(lower)
        rules.append({"source_matchers": ['severity="%s"' % severity], "target_matchers": [target], "equal": list(equal)})
    return rules


def alertmanager_config(policy, channels=None, default_severity="warning", group_by=None, group_wait="30s",
                        group_interval="5m", repeat_interval="4h", inhibit_order=None, inhibit_equal=None,
                        extra_routes=None, extra_inhibit_rules=None, extra_receivers=None, time_intervals=None,
                        global_config=None, smtp=None, templates=None, secrets_dir="/etc/alertmanager/secrets"):
    """A complete Alertmanager configuration and its secret files from a severity policy.

    Returns ``{config, secrets, unconfigured}``: ``unconfigured`` lists the channel names
    the policy refers to that ``channels`` does not define (they are left out).
    """
    channels = channels or {}
    if not isinstance(channels, dict):
        raise AlertmanagerSpecError("channels", "channels", "expected a mapping of channel name to channel settings")
    for name in channels:
        if not isinstance(name, str) or not _NAME.match(name):
            raise AlertmanagerSpecError("channel %r" % (name,), "name", "expected a name matching [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    policy = _policy(policy, default_severity)
    secrets = _Secrets(secrets_dir)
    integrations = {name: _integration(name, spec, secrets) for name, spec in sorted(channels.items())}

    receivers = []
    routes = []
    unconfigured = []
    root_receiver = "severity-%s" % default_severity
    for severity, entry in policy.items():
        receiver = {"name": "severity-%s" % severity}
        for channel in entry.get("channels") or []:
            if channel not in integrations:
                if channel not in unconfigured:
                    unconfigured.append(channel)
                continue
            key, config = integrations[channel]
            receiver.setdefault(key, []).append(config)
        receivers.append(receiver)
        route = {"receiver": receiver["name"], "matchers": ['severity="%s"' % severity]}
        for field in ("group_wait", "group_interval", "repeat_interval"):
            if entry.get(field):
                route[field] = _check_duration("severity %r" % severity, field, entry[field])
        if entry.get("group_by"):
            route["group_by"] = _check_label_names("severity %r" % severity, "group_by", entry["group_by"])
        for field in ("active_time_intervals", "mute_time_intervals"):
            if entry.get(field):
                route[field] = list(entry[field])
        routes.append(route)

    extra_routes = list(extra_routes or [])
    for index, route in enumerate(extra_routes):
        if not isinstance(route, dict):
            raise AlertmanagerSpecError("extra route %d" % index, "route", "expected a mapping")
        for field in ("match", "match_re"):
            if field in route:
                raise AlertmanagerSpecError("extra route %d" % index, field, "deprecated; use matchers: ['label=\"value\"']")
    receivers += list(extra_receivers or [])

    route = {
        "receiver": root_receiver,
        "group_by": _check_label_names("route", "group_by", group_by if group_by is not None else ["alertname", "severity", "job"]),
        "group_wait": _check_duration("route", "group_wait", group_wait),
        "group_interval": _check_duration("route", "group_interval", group_interval),
        "repeat_interval": _check_duration("route", "repeat_interval", repeat_interval),
        "routes": extra_routes + routes,
    }
    order = list(inhibit_order) if inhibit_order is not None else [s for s in ("critical", "warning", "info") if s in policy]
    equal = _check_label_names("inhibit", "inhibit_equal", inhibit_equal if inhibit_equal is not None else ["alertname", "instance"])
    inhibit = _inhibit_rules(order, equal) if len(order) > 1 else []
    for index, rule in enumerate(extra_inhibit_rules or []):
        if not isinstance(rule, dict) or set(rule) & {"source_match", "source_match_re", "target_match", "target_match_re"}:
            raise AlertmanagerSpecError("extra inhibit rule %d" % index, "matchers", "use source_matchers / target_matchers")
        inhibit.append(rule)

    config = {}
    global_section = _global(global_config, smtp, secrets)
    if global_section:
        config["global"] = global_section
    if templates:
        config["templates"] = list(templates)
    config["route"] = route
    if inhibit:
        config["inhibit_rules"] = inhibit
    config["receivers"] = receivers
    if time_intervals:
        config["time_intervals"] = list(time_intervals)
    return {"config": config, "secrets": secrets.files, "unconfigured": unconfigured}


def cluster_peers(hosts, hostvars, port, exclude=None, address_var="alertmanager_cluster_advertise_address"):
    """``host:port`` of every cluster peer: the host's ``address_var`` hostvar, else ``ansible_host``, else its name.

    ``exclude`` (the host itself) is left out; the list is sorted so the unit file is stable.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise AlertmanagerSpecError("cluster", "port", "expected a port number, got %r" % (port,))
    peers = []
    for host in sorted(set(hosts or [])):
        if host == exclude:
            continue
        try:
            variables = hostvars[host]
            address = variables.get(address_var) or variables.get("ansible_host") or host
        except (KeyError, AttributeError, TypeError):
            address = host
        address = str(address).rsplit(":", 1)[0] if str(address).count(":") == 1 else str(address)
        peers.append("[%s]:%d" % (address, port) if ":" in address else "%s:%d" % (address, port))
    return peers
