# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single-node VictoriaMetrics: its retention period, deduplication interval, web TLS flags and auth environment.

VictoriaMetrics takes everything as Go flags. The basic-auth password must never be on a command line, so the
role starts it with ``-envflag.enable`` and writes ``httpAuth_password`` (the flag name with ``.`` as ``_``) to a
0640 environment file: :func:`victoriametrics_environment` builds that file's variables. ``file://`` flag values
would do too, but the VictoriaMetrics of Debian bookworm (1.79) does not read them.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, check_keys

KIND = "victoriametrics"
# The tier of a store host without victoriametrics_tier (the role's default): Grafana and Prometheus read it so.
DEFAULT_TIER = "raw"
# -retentionPeriod: a number with h, d, w or y, or a bare number of months (VictoriaMetrics' own units; newer
# versions also take s, left out so that one value works on Debian bookworm's 1.79 as well).
_RETENTION = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(?P<unit>[hdwy]?)$")
_RETENTION_HOURS = {"h": 1, "d": 24, "w": 24 * 7, "y": 24 * 365, "": 24 * 31}
RETENTION_HELP = ("a number with h (hours), d (days), w (weeks) or y (years), or a bare number of months, "
                  "e.g. 15d, 90d, 1y, 12; at least 24h")
# -dedup.minScrapeInterval: a Go duration; 0 (or empty) switches deduplication off.
_DEDUP = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
TLS_KEYS = ("cert_file", "key_file", "min_version")
_TLS_VERSIONS = ("TLS12", "TLS13")
# Flags whose values are secrets: never on the command line (victoriametrics_extra_flags refuses them).
_SECRET_FLAG = re.compile(r"^(httpAuth\.password|.*AuthKey)$")


def retention_hours(value, where="victoriametrics_retention_period"):
    """Hours of a ``-retentionPeriod`` value (``15d``, ``1y``, ``12`` months); SpecError naming ``where`` otherwise."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    match = _RETENTION.match(text)
    if not match:
        raise SpecError("%s: %r is not a retention period; expected %s" % (where, value, RETENTION_HELP))
    return float(match.group("number")) * _RETENTION_HOURS[match.group("unit")]


def retention_period(value):
    """``value`` as the ``-retentionPeriod`` flag takes it (a string), after checking it; SpecError otherwise."""
    hours = retention_hours(value)
    text = str(value).strip()
    if hours < 24:
        raise SpecError("victoriametrics_retention_period: %r is shorter than the minimum of 24h (1d)" % (value,))
    return text


def dedup_interval(value):
    """``-dedup.minScrapeInterval``: the duration, or None (no flag) for an empty value or 0."""
    if value in (None, "", 0, "0", "0s"):
        return None
    if isinstance(value, bool) or not isinstance(value, str) or not _DEDUP.match(value):
        raise SpecError("victoriametrics_dedup_min_scrape_interval: %r is not a duration such as 15s or 1m "
                        "(0s or empty: no deduplication)" % (value,))
    return value


def basic_auth_user(users):
    """``(user, password)`` of the ONE basic-auth user, or None; VictoriaMetrics checks a single user."""
    users = users or {}
    if not isinstance(users, dict):
        raise SpecError("basic_auth_users", "basic_auth_users", "expected a mapping of user name to password", kind=KIND)
    if len(users) > 1:
        raise SpecError("victoriametrics_basic_auth_users: VictoriaMetrics checks one basic-auth user (-httpAuth.*); "
                        "got %d (%s)" % (len(users), ", ".join(sorted(str(u) for u in users))))
    for user, password in users.items():
        if not isinstance(user, str) or not user or ":" in user or not isinstance(password, str) or not password:
            raise SpecError("basic_auth_users", str(user), "a user name without ':' and a non-empty password", kind=KIND)
        return user, password
    return None


def _server_tls(tls, site_tls, config_dir):
    """Host paths of the web TLS: the role's own (cert_file, key_file, min_version), else the site TLS copies."""
    tls = {key: value for key, value in (tls or {}).items() if value not in (None, "")}
    if tls:
        check_keys("tls", tls, TLS_KEYS, "tls", kind=KIND)
        if not tls.get("cert_file") or not tls.get("key_file"):
            raise SpecError("tls", "cert_file", "give cert_file and key_file together", kind=KIND)
        return tls
    if site_tls:
        from ansible_collections.monitoring.stack.plugins.module_utils._daemon import site_tls as _site_tls  # pylint: disable=import-outside-toplevel
        if not config_dir:
            raise SpecError("tls", "config_dir", "site TLS needs the config directory", kind=KIND)
        return _site_tls(site_tls, config_dir)[0]
    return {}


def victoriametrics_flags(settings, site_tls=None, config_dir=""):
    """The flags of single-node VictoriaMetrics (a dict for ``monitoring.stack.flag_args(prefix='-')``).

    ``settings`` holds ``data_dir``, ``listen_address``, ``retention_period``, ``dedup_min_scrape_interval``,
    ``tls`` (cert_file, key_file, min_version TLS12|TLS13; empty: the site TLS of ``site_tls``, the
    ``monitoring_stack_tls``, whose files the engine copies to ``<config_dir>/tls/``), ``basic_auth_users`` (at most
    one user: only the name becomes a flag, the password goes to the environment file) and ``extra_flags``
    (merged last; secret flags are refused).
    """
    known = ("data_dir", "listen_address", "retention_period", "dedup_min_scrape_interval", "tls", "basic_auth_users",
             "extra_flags")
    check_keys("settings", settings, known, "settings", kind=KIND)
    for key in ("data_dir", "listen_address"):
        if not isinstance(settings.get(key), str) or not settings[key]:
            raise SpecError("settings", key, "a non-empty string is required", kind=KIND)
    login = basic_auth_user(settings.get("basic_auth_users"))
    flags = {"storageDataPath": settings["data_dir"],
             "retentionPeriod": retention_period(settings.get("retention_period")),
             "httpListenAddr": settings["listen_address"],
             "dedup.minScrapeInterval": dedup_interval(settings.get("dedup_min_scrape_interval")),
             # The password comes from the environment file (httpAuth_password).
             "envflag.enable": True,
             "httpAuth.username": login[0] if login else None}
    server = _server_tls(settings.get("tls"), site_tls, config_dir)
    if server:
        version = server.get("min_version") or "TLS12"
        if version not in _TLS_VERSIONS:
            raise SpecError("tls", "min_version", "expected one of %s, got %r" % (", ".join(_TLS_VERSIONS), version),
                            kind=KIND)
        flags.update({"tls": True, "tlsCertFile": str(server["cert_file"]), "tlsKeyFile": str(server["key_file"]),
                      # VictoriaMetrics refuses TLS below 1.2 by default; TLS 1.3 needs the flag.
                      "tlsMinVersion": "TLS13" if version == "TLS13" else None})
    extra = settings.get("extra_flags") or {}
    if not isinstance(extra, dict):
        raise SpecError("extra_flags", "extra_flags", "expected a mapping of flag name to value", kind=KIND)
    secret = sorted(name for name in extra if _SECRET_FLAG.match(str(name)))
    if secret:
        raise SpecError("extra_flags", secret[0], "a secret flag must not be on the command line (ps, systemctl cat); "
                        "the password of victoriametrics_basic_auth_users goes to the 0640 environment file", kind=KIND)
    booleans = sorted(name for name, value in extra.items() if isinstance(value, bool))
    if booleans:
        raise SpecError("extra_flags", booleans[0], 'give booleans as the strings "true"/"false" (Go flags: -name=false)',
                        kind=KIND)
    flags.update(extra)
    return flags


def victoriametrics_environment(users):
    """The environment file's variables: ``httpAuth_password`` of the one basic-auth user (``{}`` without one)."""
    login = basic_auth_user(users)
    return {"httpAuth_password": login[1]} if login else {}
