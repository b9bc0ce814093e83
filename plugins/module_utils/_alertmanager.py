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

Bad input raises :class:`SpecError` whose message names the item and the field: a severity outside the known
list, a severity without channels (unless ``allow_empty``) and a channel nobody defined are refused early.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import (
    SEVERITIES,
    SpecError,
    check_duration,
    check_keys,
    check_label_names,
    did_you_mean,
)

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
POLICY_KEYS = ("channels", "allow_empty", "group_by", "group_wait", "group_interval", "repeat_interval",
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


def _check_label_names(item, field, names):
    return check_label_names(item, field, names, extra=("...",))


class _Secrets:
    def __init__(self, directory):
        self.directory = directory.rstrip("/")
        self.files = []

    def add(self, name, content):
        if not isinstance(content, str) or not content:
            raise SpecError(name, "secret", "expected a non-empty string")
        path = "%s/%s" % (self.directory, name)
        self.files.append({"path": path, "content": content})
        return path

    def http_config(self, item, http_config):
        """A copy of an http_config with basic_auth.password and authorization.credentials moved to files."""
        if not isinstance(http_config, dict):
            raise SpecError(item, "http_config", "expected a mapping")
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
        raise SpecError(item, "type", "expected one of %s" % ", ".join(sorted(CHANNEL_TYPES)))
    key, secret_fields, allowed = CHANNEL_TYPES[spec["type"]]
    check_keys(item, spec, COMMON_CHANNEL_KEYS + allowed + tuple(secret_fields) + tuple(secret_fields.values()))
    config = dict(DEFAULTS[spec["type"]])
    for field in allowed:
        if field in spec:
            config[field] = spec[field]
    for field, file_field in secret_fields.items():
        if spec.get(field) and spec.get(file_field):
            raise SpecError(item, field, "give %s or %s, not both" % (field, file_field))
        if spec.get(field):
            config[file_field] = secrets.add("%s.%s" % (name, field), spec[field])
        elif spec.get(file_field):
            config[file_field] = spec[file_field]
    if spec["type"] == "webhook" and "url_file" not in config:
        raise SpecError(item, "url", "a webhook channel needs url (kept in a file) or url_file")
    if spec["type"] == "slack" and "api_url_file" not in config:
        raise SpecError(item, "api_url", "a slack channel needs api_url (kept in a file) or api_url_file")
    if spec["type"] == "email" and not spec.get("to"):
        raise SpecError(item, "to", "an email channel needs a recipient")
    if spec["type"] == "pagerduty" and not (set(config) & {"routing_key_file", "service_key_file"}):
        raise SpecError(item, "routing_key", "a pagerduty channel needs routing_key or service_key (kept in files)")
    if spec.get("http_config"):
        config["http_config"] = secrets.http_config(name, spec["http_config"])
    if spec.get("extra"):
        if not isinstance(spec["extra"], dict):
            raise SpecError(item, "extra", "expected a mapping of raw integration options")
        config.update(spec["extra"])
    return key, config


def _global(global_config, smtp, secrets):
    result = dict(global_config or {})
    if smtp:
        check_keys("smtp", smtp, SMTP_KEYS)
        for field in SMTP_KEYS:
            if smtp.get(field) in (None, ""):
                continue
            if field == "auth_password":
                result["smtp_auth_password_file"] = secrets.add("smtp.auth_password", smtp[field])
            else:
                result["smtp_" + field] = smtp[field]
    for field in ("smtp_auth_password", "slack_api_url", "pagerduty_url_secret", "opsgenie_api_key", "victorops_api_key"):
        if field in result:
            raise SpecError("global", field, "secrets go through the *_file options (the role writes the files)")
    return result


def _severities(severities):
    """The known severities, highest first (the ``severities`` argument)."""
    if severities is None:
        return list(SEVERITIES)
    if not isinstance(severities, list) or not severities or \
            not all(isinstance(s, str) and _LABEL_VALUE.match(s) for s in severities) or len(set(severities)) != len(severities):
        raise SpecError("severities", "severities", "expected a list of distinct severity names, highest first, got %r" % (severities,))
    return list(severities)


def _policy(policy, default_severity, known):
    """Check the shape of the severity policy: a mapping of known severities to their settings."""
    if not isinstance(policy, dict) or not policy:
        raise SpecError("severity policy", "policy", "expected a mapping of severity to {channels, repeat_interval, ...}")
    for severity, entry in policy.items():
        item = "severity %r" % (severity,)
        if severity not in known:
            raise SpecError(item, "severity", "unknown severity%s; the known severities, highest first, are %s "
                            "(the severities argument)" % (did_you_mean(severity, known), ", ".join(known)))
        check_keys(item, entry, POLICY_KEYS)
        names = entry.get("channels") or []
        if not isinstance(names, list) or not all(isinstance(c, str) for c in names):
            raise SpecError(item, "channels", "expected a list of channel names")
        if not isinstance(entry.get("allow_empty", False), bool):
            raise SpecError(item, "allow_empty", "expected true or false, got %r" % (entry["allow_empty"],))
    if default_severity not in policy:
        raise SpecError("default_severity", "default_severity",
                        "%r is not in the severity policy (%s)" % (default_severity, ", ".join(policy)))
    return policy


def _check_channels(policy, channels):
    """Every channel a severity names is defined; a severity without channels is refused unless allow_empty."""
    for severity, entry in policy.items():
        item = "severity %r" % (severity,)
        names = entry.get("channels") or []
        if not names and not entry.get("allow_empty", False):
            raise SpecError(item, "channels", "no channel: alerts of this severity would reach nobody; name channels, "
                            "or set allow_empty: true to drop them on purpose")
        for name in names:
            if name not in channels:
                raise SpecError(item, "channels", "channel %r is not defined in channels%s (defined: %s)"
                                % (name, did_you_mean(name, channels), ", ".join(sorted(channels)) or "none"))


def _inhibit_order(inhibit_order, known, policy):
    """The severities that inhibit lower ones, highest first: by default those of the policy, in the known order."""
    if inhibit_order is None:
        return [s for s in known if s in policy]
    if not isinstance(inhibit_order, list) or not all(s in known for s in inhibit_order):
        raise SpecError("inhibit", "inhibit_order", "expected a list of known severities (%s), got %r" % (", ".join(known), inhibit_order))
    if [s for s in known if s in inhibit_order] != inhibit_order:
        raise SpecError("inhibit", "inhibit_order", "must follow the order of the severities, highest first (%s)" % ", ".join(known))
    missing = [s for s in policy if s not in inhibit_order]
    if missing:
        raise SpecError("inhibit", "inhibit_order", "severity %r of the policy is missing; every severity must be covered "
                        "by the inhibit rules" % missing[0])
    return inhibit_order


def _inhibit_rules(order, equal):
    rules = []
    for index, severity in enumerate(order[:-1]):
        lower = order[index + 1:]
        target = 'severity="%s"' % lower[0] if len(lower) == 1 else 'severity=~"%s"' % "|".join(lower)
        rules.append({"source_matchers": ['severity="%s"' % severity], "target_matchers": [target], "equal": list(equal)})
    return rules


def _severity_route(severity, entry, receiver):
    item = "severity %r" % severity
    route = {"receiver": receiver, "matchers": ['severity="%s"' % severity]}
    for field in ("group_wait", "group_interval", "repeat_interval"):
        if entry.get(field):
            route[field] = check_duration(item, field, entry[field])
    if entry.get("group_by"):
        route["group_by"] = _check_label_names(item, "group_by", entry["group_by"])
    for field in ("active_time_intervals", "mute_time_intervals"):
        if entry.get(field):
            route[field] = list(entry[field])
    return route


def _extra_routes(extra_routes):
    extra_routes = list(extra_routes or [])
    for index, route in enumerate(extra_routes):
        if not isinstance(route, dict):
            raise SpecError("extra route %d" % index, "route", "expected a mapping")
        for field in ("match", "match_re"):
            if field in route:
                raise SpecError("extra route %d" % index, field, "deprecated; use matchers: ['label=\"value\"']")
    return extra_routes


def alertmanager_config(policy, channels=None, default_severity="warning", severities=None, group_by=None, group_wait="30s",
                        group_interval="5m", repeat_interval="4h", inhibit_order=None, inhibit_equal=None,
                        extra_routes=None, extra_inhibit_rules=None, extra_receivers=None, time_intervals=None,
                        global_config=None, smtp=None, templates=None, secrets_dir="/etc/alertmanager/secrets"):
    """A complete Alertmanager configuration and its secret files from a severity policy.

    Returns ``{config, secrets, unconfigured}``. A channel the policy names must be defined in ``channels``,
    so ``unconfigured`` is always empty; it stays for callers that read it.
    """
    channels = channels or {}
    if not isinstance(channels, dict):
        raise SpecError("channels", "channels", "expected a mapping of channel name to channel settings")
    for name in channels:
        if not isinstance(name, str) or not _NAME.match(name):
            raise SpecError("channel %r" % (name,), "name", "expected a name matching [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    known = _severities(severities)
    policy = _policy(policy, default_severity, known)
    order = _inhibit_order(inhibit_order, known, policy)
    secrets = _Secrets(secrets_dir)
    integrations = {name: _integration(name, spec, secrets) for name, spec in sorted(channels.items())}
    _check_channels(policy, integrations)

    receivers = []
    routes = []
    for severity, entry in policy.items():
        receiver = {"name": "severity-%s" % severity}
        for channel in entry.get("channels") or []:
            key, config = integrations[channel]
            receiver.setdefault(key, []).append(config)
        receivers.append(receiver)
        routes.append(_severity_route(severity, entry, receiver["name"]))
    receivers += list(extra_receivers or [])

    route = {
        "receiver": "severity-%s" % default_severity,
        "group_by": _check_label_names("route", "group_by", group_by if group_by is not None else ["alertname", "severity", "job"]),
        "group_wait": check_duration("route", "group_wait", group_wait),
        "group_interval": check_duration("route", "group_interval", group_interval),
        "repeat_interval": check_duration("route", "repeat_interval", repeat_interval),
        "routes": _extra_routes(extra_routes) + routes,
    }
    equal = _check_label_names("inhibit", "inhibit_equal", inhibit_equal if inhibit_equal is not None else ["alertname", "instance"])
    inhibit = _inhibit_rules(order, equal) if len(order) > 1 else []
    for index, rule in enumerate(extra_inhibit_rules or []):
        if not isinstance(rule, dict) or set(rule) & {"source_match", "source_match_re", "target_match", "target_match_re"}:
            raise SpecError("extra inhibit rule %d" % index, "matchers", "use source_matchers / target_matchers")
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
    return {"config": config, "secrets": secrets.files, "unconfigured": []}


def cluster_peers(hosts, hostvars, port, exclude=None, address_var="alertmanager_cluster_advertise_address"):
    """``host:port`` of every cluster peer: the host's ``address_var`` hostvar, else ``ansible_host``, else its name.

    ``exclude`` (the host itself) is left out; the list is sorted so the unit file is stable.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise SpecError("cluster", "port", "expected a port number, got %r" % (port,))
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
