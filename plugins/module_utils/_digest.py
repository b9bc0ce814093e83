# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The daily alert digest of the alertmanager role: its settings checked and turned into the script's config.

:func:`alert_digest_plan` merges ``alertmanager_digest`` with the SMTP settings Alertmanager's email
channel uses (``alertmanager_smtp``, overridden by the keys of the email channel the digest names),
finds the Prometheus to ask (the first host of the prometheus group at its listen port and route prefix,
HTTPS to its inventory name with the site CA when the site has TLS) and returns the JSON config of ``roles/alertmanager/files/alert-digest`` and
the timer's ``OnCalendar``. With ``chat_channel`` naming a Slack channel of ``alertmanager_channels``, the
digest is also posted to that channel's webhook. The site CA is trusted (beside the system's) for SMTP and
Slack too. Secrets stay in the config, which the role writes 0640 root:alertmanager.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._scrape import _join_host_port, _port_of, host_address, route_prefix
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, check_duration, check_keys

KIND = "alertmanager_digest"
DIGEST_KEYS = ("enabled", "recipients", "channel", "chat_channel", "time", "hours", "step", "subject", "prometheus_url",
               "prometheus_username", "prometheus_password", "top")
SMTP_KEYS = ("smarthost", "from", "hello", "auth_username", "auth_password", "auth_password_file", "auth_identity",
             "require_tls")
DEFAULTS = {"enabled": False, "recipients": [], "channel": "", "chat_channel": "", "time": "07:00", "hours": 24, "step": "1m",
            "subject": "Alert digest", "prometheus_url": "", "prometheus_username": "", "prometheus_password": "",
            "top": 20}
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_SMARTHOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):[0-9]{1,5}$")


def _error(field, message):
    return SpecError(KIND, field, message)


def _smtp(smtp, channels, channel):
    """The SMTP settings: alertmanager_smtp, then the keys of the named email channel; and its recipients."""
    result = {key: value for key, value in (smtp or {}).items() if value not in (None, "")}
    check_keys(KIND, result, SMTP_KEYS, "smtp")
    recipients = []
    if channel:
        spec = (channels or {}).get(channel)
        if not isinstance(spec, dict) or spec.get("type") != "email":
            raise _error("channel", "%r is not an email channel of alertmanager_channels" % (channel,))
        result.update({key: spec[key] for key in SMTP_KEYS if spec.get(key) not in (None, "")})
        recipients = [address.strip() for address in str(spec.get("to") or "").split(",") if address.strip()]
    return result, recipients


def _slack(channels, chat_channel, ca_file):
    """The Slack webhook of the named chat channel ({} without one); an api_url_file is not readable here."""
    if not chat_channel:
        return {}
    spec = (channels or {}).get(chat_channel)
    if not isinstance(spec, dict) or spec.get("type") != "slack":
        raise _error("chat_channel", "%r is not a slack channel of alertmanager_channels" % (chat_channel,))
    url = str(spec.get("api_url") or "")
    if not re.match(r"^https?://[^/?#]+", url):
        raise _error("chat_channel", "the slack channel %r needs its webhook as api_url (http(s) URL): the digest "
                                     "does not read api_url_file" % (chat_channel,))
    return {"api_url": url, "channel": str(spec.get("channel") or ""), "ca_file": ca_file}


def _prometheus_url(groups, hostvars, tls, group="prometheus"):
    """The API base URL of the first Prometheus of the inventory: straight to its listen port (HTTPS to its
    inventory name with the site TLS), under the route prefix of its external URL. Not the external URL
    itself: that often names a reverse proxy in front, with its own login."""
    hosts = list((groups or {}).get(group) or [])
    if not hosts:
        raise _error("prometheus_url", "the inventory has no %s group: set prometheus_url" % group)
    host = hosts[0]
    host_vars = (hostvars or {}).get(host) or {}
    prefix = route_prefix("prometheus_external_url of %s" % host, host_vars.get("prometheus_external_url") or "")
    port = _port_of(host_vars.get("prometheus_listen_address")) or 9090
    if tls:
        return "https://%s%s" % (_join_host_port(str(host), port), prefix)
    return "http://%s%s" % (_join_host_port(host_address(hostvars, host), port), prefix)


def alert_digest_plan(digest, smtp=None, channels=None, groups=None, hostvars=None, tls=False, ca_file=""):
    """``{enabled, on_calendar, config}`` of the daily alert digest (config: the script's JSON settings)."""
    if not isinstance(digest, dict):
        raise _error("alertmanager_digest", "expected a mapping of %s" % ", ".join(DIGEST_KEYS))
    check_keys(KIND, digest, DIGEST_KEYS, "alertmanager_digest")
    spec = dict(DEFAULTS, **{key: value for key, value in digest.items() if value is not None})
    if not spec["enabled"]:
        return {"enabled": False, "on_calendar": "", "config": {}}
    match = _TIME.match(str(spec["time"]))
    if not match:
        raise _error("time", "expected HH:MM (24 h), got %r" % (spec["time"],))
    hours = spec["hours"]
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 168:
        raise _error("hours", "expected a whole number of hours 1-168, got %r" % (hours,))
    check_duration(KIND, "step", spec["step"], required=True)
    settings, channel_recipients = _smtp(smtp, channels, spec["channel"])
    recipients = spec["recipients"] or channel_recipients
    if isinstance(recipients, str):
        recipients = [address.strip() for address in recipients.split(",") if address.strip()]
    if not recipients:
        raise _error("recipients", "name the recipients (or an email channel whose 'to' to use)")
    for address in recipients + [settings.get("from", "")]:
        if not _ADDRESS.match(str(address)):
            raise _error("recipients", "%r is not a mail address (the sender comes from alertmanager_smtp.from or "
                                       "the channel's from)" % (address,))
    if not _SMARTHOST.match(str(settings.get("smarthost", ""))):
        raise _error("smarthost", "no SMTP server host:port in alertmanager_smtp or the channel (got %r)"
                     % (settings.get("smarthost"),))
    if settings.get("auth_password") and settings.get("auth_password_file"):
        raise _error("smtp", "give auth_password or auth_password_file, not both")
    url = spec["prometheus_url"] or _prometheus_url(groups, hostvars, tls)
    if not re.match(r"^https?://[^/?#]+", str(url)):
        raise _error("prometheus_url", "expected an http(s) URL, got %r" % (url,))
    if bool(spec["prometheus_username"]) != bool(spec["prometheus_password"]):
        raise _error("prometheus_username", "give the Prometheus user and password together")
    top = spec["top"]
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise _error("top", "expected a positive number of alerts to list, got %r" % (top,))
    config = {
        "prometheus": {"url": str(url).rstrip("/"), "ca_file": ca_file if str(url).startswith("https://") else "",
                       "username": spec["prometheus_username"], "password": spec["prometheus_password"]},
        "hours": hours, "step": spec["step"], "top": top, "subject": spec["subject"],
        "smtp": {"smarthost": settings["smarthost"], "from": settings["from"], "to": recipients,
                 "hello": settings.get("hello", ""), "username": settings.get("auth_username", ""),
                 "password": settings.get("auth_password", ""), "password_file": settings.get("auth_password_file", ""),
                 "identity": settings.get("auth_identity", ""),
                 # Alertmanager's default: STARTTLS required.
                 "require_tls": settings.get("require_tls", True) is not False,
                 "ca_file": ca_file},
    }
    slack = _slack(channels, spec["chat_channel"], ca_file)
    if slack:
        config["slack"] = slack
    return {"enabled": True, "on_calendar": "*-*-* %s:%s:00" % match.groups(), "config": config}
