# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings of exporters that do not use the exporter toolkit (redis_exporter), as environment files.

redis_exporter takes its web TLS and its single basic-auth user from flags or from the
``REDIS_EXPORTER_*`` environment variables. The roles write the variables to a 0640 file read with
``EnvironmentFile=``, so no secret is on a command line; :func:`redis_exporter_environment` builds
that file's variables and :func:`env_file` renders them with systemd's quoting.
"""

from __future__ import annotations

import json
import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, check_keys

KIND = "redis_exporter"
TLS_KEYS = ("cert_file", "key_file", "client_ca_file", "min_version")
_TLS_VERSIONS = {"TLS12": "TLS1.2", "TLS13": "TLS1.3"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REDIS_URL = re.compile(r"^(redis|rediss|unix)://\S+$")


def _tls(tls, site_tls):
    """The web TLS of redis_exporter: its own settings, else the site TLS (cert_file, key_file, min_version)."""
    tls = tls or {}
    if not isinstance(tls, dict):
        raise SpecError("tls", "tls", "expected a mapping of %s" % ", ".join(TLS_KEYS), kind=KIND)
    tls = {key: value for key, value in tls.items() if value not in (None, "")}
    if not tls:
        tls = {key: value for key, value in (site_tls or {}).items() if key in ("cert_file", "key_file", "min_version")}
    if not tls:
        return {}
    check_keys("tls", tls, TLS_KEYS, "tls", kind=KIND)
    if bool(tls.get("cert_file")) != bool(tls.get("key_file")):
        raise SpecError("tls", "cert_file", "give cert_file and key_file together", kind=KIND)
    if not tls.get("cert_file"):
        raise SpecError("tls", "cert_file", "TLS settings without cert_file and key_file", kind=KIND)
    version = tls.get("min_version") or "TLS12"
    if version not in _TLS_VERSIONS:
        raise SpecError("tls", "min_version", "expected one of %s, got %r" % (", ".join(_TLS_VERSIONS), version), kind=KIND)
    env = {"REDIS_EXPORTER_TLS_SERVER_CERT_FILE": str(tls["cert_file"]),
           "REDIS_EXPORTER_TLS_SERVER_KEY_FILE": str(tls["key_file"]),
           "REDIS_EXPORTER_TLS_SERVER_MIN_VERSION": _TLS_VERSIONS[version]}
    if tls.get("client_ca_file"):
        env["REDIS_EXPORTER_TLS_SERVER_CA_CERT_FILE"] = str(tls["client_ca_file"])
    return env


def redis_exporter_environment(tls=None, users=None, site_tls=None, password_file=""):
    """The environment of redis_exporter: web TLS, the basic-auth user and the Redis password file.

    ``tls`` is the role's own TLS (cert_file, key_file, client_ca_file, min_version TLS12|TLS13), ``site_tls``
    the engine's ``tls_server`` from ``monitoring_stack_tls`` (used when ``tls`` is empty). ``users`` maps
    at most ONE user name to a plain-text password: redis_exporter checks a single user.
    """
    env = _tls(tls, site_tls)
    users = users or {}
    if not isinstance(users, dict):
        raise SpecError("basic_auth_users", "basic_auth_users", "expected a mapping of user name to password", kind=KIND)
    if len(users) > 1:
        raise SpecError("basic_auth_users", "basic_auth_users", "redis_exporter checks one basic-auth user; got %d (%s)"
                        % (len(users), ", ".join(sorted(users))), kind=KIND)
    for user, password in users.items():
        if not user or ":" in str(user) or not isinstance(password, str) or not password:
            raise SpecError("basic_auth_users", str(user), "a user name without ':' and a non-empty password", kind=KIND)
        env["REDIS_EXPORTER_BASIC_AUTH_USERNAME"] = str(user)
        env["REDIS_EXPORTER_BASIC_AUTH_PASSWORD"] = password
    if password_file:
        env["REDIS_PASSWORD_FILE"] = str(password_file)
    return env


def redis_password_file(password, address):
    """The JSON password file of redis_exporter (``{redis address: password}``); ``{}`` without a password."""
    if not _REDIS_URL.match(str(address or "")):
        raise SpecError("redis_addr", "redis_addr", "expected redis://host:port, rediss://host:port or unix:///path, got %r"
                        % (address,), kind=KIND)
    return json.dumps({str(address): password} if password else {}, sort_keys=True)


def _quote(value):
    text = str(value)
    if "\n" in text or "\r" in text:
        raise SpecError("environment", "value", "a value with a line break cannot go into an environment file", kind=KIND)
    for char in ("\\", '"', "$", "`"):
        text = text.replace(char, "\\" + char)
    return '"%s"' % text


def env_file(variables):
    """``{NAME: value}`` -> the text of a systemd ``EnvironmentFile=`` (sorted, double-quoted, escaped)."""
    if not isinstance(variables, dict):
        raise SpecError("environment", "environment", "expected a mapping of variable name to value", kind=KIND)
    lines = []
    for name in sorted(variables):
        if not _ENV_NAME.match(str(name)):
            raise SpecError("environment", str(name), "not an environment variable name", kind=KIND)
        lines.append("%s=%s" % (name, _quote(variables[name])))
    return "\n".join(lines) + ("\n" if lines else "")


KAFKA_TLS_KEYS = ("cert_file", "key_file", "client_ca_file")


def kafka_exporter_tls_flags(tls, site_tls=None, config_dir=""):
    """The web TLS flags of kafka_exporter (``server.tls.*``): its own TLS, else the site TLS.

    ``tls`` holds host paths (cert_file, key_file, client_ca_file: client certificates required and
    checked against it). ``site_tls`` is ``monitoring_stack_tls`` (controller paths); the engine copies
    those files to ``<config_dir>/tls/`` (``_daemon.site_tls``), so the flags name the copies.
    kafka_exporter has no basic auth: mutual TLS is how its endpoint is protected.
    """
    tls = {key: value for key, value in (tls or {}).items() if value not in (None, "")}
    if tls:
        check_keys("tls", tls, KAFKA_TLS_KEYS, "tls", kind="kafka_exporter")
        if not tls.get("cert_file") or not tls.get("key_file"):
            raise SpecError("tls", "cert_file", "give cert_file and key_file together", kind="kafka_exporter")
        server = tls
    elif site_tls:
        from ansible_collections.monitoring.stack.plugins.module_utils._daemon import site_tls as _site_tls  # pylint: disable=import-outside-toplevel
        if not config_dir:
            raise SpecError("tls", "config_dir", "site TLS needs the config directory", kind="kafka_exporter")
        server = _site_tls(site_tls, config_dir)[0]
    else:
        return {}
    flags = {"server.tls.enabled": True, "server.tls.cert-file": str(server["cert_file"]),
             "server.tls.key-file": str(server["key_file"])}
    if server.get("client_ca_file"):
        flags.update({"server.tls.mutual-auth-enabled": True, "server.tls.ca-file": str(server["client_ca_file"])})
    return flags
