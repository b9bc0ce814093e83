# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers of the monitoring.stack engine (_common role filters)."""

from __future__ import annotations

import base64
import hashlib
import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

# bcrypt uses its own base64 alphabet.
_STD_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT_B64 = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64_TABLE = bytes.maketrans(_STD_B64, _BCRYPT_B64)

TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
CLIENT_AUTH_TYPES = ("NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                     "VerifyClientCertIfGiven", "RequireAndVerifyClientCert")
_FLAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


# The engine's filters raise the one error class of monitoring.stack; the name stays for their callers.
CommonError = SpecError


def flag_args(flags, prefix="--"):
    """Render a dict of daemon flags as a list of command-line arguments.

    With the ``--`` prefix (kingpin, the Prometheus daemons) ``True`` gives
    ``--flag`` and ``False`` gives ``--no-flag``; with the ``-`` prefix (Go's
    flag package, e.g. cAdvisor) booleans give ``-flag=true`` / ``-flag=false``.
    ``None`` drops the flag, a list repeats it once per item, anything else
    gives ``--flag=value``.
    """
    if not isinstance(flags, dict):
        raise SpecError("flag_args expects a dict of flag name to value, got %s" % type(flags).__name__)
    args = []
    for name, value in flags.items():
        if not isinstance(name, str) or not _FLAG_NAME.match(name):
            raise SpecError("flag_args: invalid flag name %r" % (name,))
        if value is None:
            continue
        if isinstance(value, bool) and prefix == "-":
            args.append("%s%s=%s" % (prefix, name, "true" if value else "false"))
        elif value is True:
            args.append(prefix + name)
        elif value is False:
            args.append(prefix + "no-" + name)
        elif isinstance(value, (list, tuple)):
            args.extend("%s%s=%s" % (prefix, name, _scalar(name, item)) for item in value)
        else:
            args.append("%s%s=%s" % (prefix, name, _scalar(name, value)))
    return args


def _scalar(name, value):
    if isinstance(value, (dict, list, tuple)):
        raise SpecError("flag_args: flag %r takes a scalar, got %s" % (name, type(value).__name__))
    text = str(value)
    if "\n" in text:
        raise SpecError("flag_args: flag %r contains a newline" % (name,))
    return text


def systemd_directives(defaults, overrides=None):
    """Merge two dicts of unit directives and return sorted ``(key, value)`` pairs.

    A list value yields one line per item; ``None`` (in either dict) removes
    the directive.
    """
    merged = {k: v for k, v in (defaults or {}).items() if v is not None}
    for key, value in (overrides or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    lines = []
    for key in sorted(merged):
        value = merged[key]
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, bool):
                item = "yes" if item else "no"
            lines.append((key, str(item)))
    return lines


def bcrypt_salt(seed, user):
    """A bcrypt salt (22 chars) derived from a seed (the host name) and the user.

    Deterministic, so a re-run gives the same hash and the file stays unchanged.
    """
    digest = hashlib.sha256(("%s\0%s" % (seed, user)).encode("utf-8")).digest()[:16]
    # 16 bytes give 22 characters of bcrypt's base64, the salt length bcrypt takes.
    return base64.b64encode(digest).translate(_B64_TABLE)[:22]


def bcrypt_hash(password, seed, user, rounds=10):
    """bcrypt hash of ``password`` with a salt derived from ``seed`` and ``user``."""
    try:
        import bcrypt  # pylint: disable=import-outside-toplevel
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise SpecError("the Python package 'bcrypt' is needed on the controller to hash web-config passwords") from exc
    if not isinstance(password, str) or not password:
        raise SpecError("web config: user %r has an empty password" % (user,))
    if len(password.encode("utf-8")) > 72:
        raise SpecError("web config: the password of user %r is longer than bcrypt's 72 bytes" % (user,))
    if not 4 <= int(rounds) <= 31:
        raise SpecError("web config: bcrypt rounds must be between 4 and 31")
    salt = b"$2b$%02d$" % int(rounds) + bcrypt_salt(seed, user)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def web_config(tls=None, users=None, seed="", rounds=10, http2=True, headers=None):
    """Build an exporter-toolkit web config dict, validating it on the way.

    ``tls`` keys: cert_file, key_file, client_ca_file, client_auth_type,
    min_version, max_version, cipher_suites, curve_preferences.
    ``users`` maps user names to plain-text passwords; they are bcrypt-hashed.
    """
    config = {}
    tls = {k: v for k, v in (tls or {}).items() if v not in (None, "", [])}
    if tls:
        if bool(tls.get("cert_file")) != bool(tls.get("key_file")):
            raise SpecError("web config: tls needs both cert_file and key_file")
        unknown = set(tls) - {"cert_file", "key_file", "client_ca_file", "client_auth_type",
                              "min_version", "max_version", "cipher_suites", "curve_preferences",
                              "prefer_server_cipher_suites"}
        if unknown:
            raise SpecError("web config: unknown tls option(s) %s" % ", ".join(sorted(unknown)))
        for key in ("min_version", "max_version"):
            if key in tls and tls[key] not in TLS_VERSIONS:
                raise SpecError("web config: tls %s must be one of %s, got %r" % (key, ", ".join(TLS_VERSIONS), tls[key]))
        tls.setdefault("min_version", "TLS12")
        if TLS_VERSIONS.index(tls["min_version"]) < TLS_VERSIONS.index("TLS12"):
            raise SpecError("web config: tls min_version below TLS12 is refused")
        auth = tls.get("client_auth_type")
        if auth is not None and auth not in CLIENT_AUTH_TYPES:
            raise SpecError("web config: tls client_auth_type must be one of %s" % ", ".join(CLIENT_AUTH_TYPES))
        if tls.get("client_ca_file") and auth is None:
            tls["client_auth_type"] = "RequireAndVerifyClientCert"
        if auth in ("RequireAndVerifyClientCert", "VerifyClientCertIfGiven") and not tls.get("client_ca_file"):
            raise SpecError("web config: client_auth_type %s needs client_ca_file" % auth)
        config["tls_server_config"] = dict(sorted(tls.items()))
    if users:
        if not isinstance(users, dict):
            raise SpecError("web config: basic auth users must be a dict of user name to password")
        config["basic_auth_users"] = {name: bcrypt_hash(pw, seed, name, rounds) for name, pw in sorted(users.items())}
    if config:
        config["http_server_config"] = {"http2": bool(http2)}
        if headers:
            config["http_server_config"]["headers"] = dict(headers)
    return config


def collector_flags(enabled, disabled=None):
    """Collector switches as kingpin flags: ``{'collector.<name>': True|False}``.

    A collector that is both enabled and disabled is an error naming it.
    """
    enabled, disabled = list(enabled or []), list(disabled or [])
    both = sorted(set(enabled) & set(disabled))
    if both:
        raise CommonError("collector(s) %s are both enabled and disabled" % ", ".join(both))
    flags = {"collector." + name: True for name in enabled}
    flags.update({"collector." + name: False for name in disabled})
    return flags


def go_arch(machine):
    """Map ``ansible_architecture`` to the Go/release-archive name (amd64, arm64, ...)."""
    table = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
             "armv7l": "armv7", "armv6l": "armv6", "ppc64le": "ppc64le", "s390x": "s390x"}
    try:
        return table[str(machine)]
    except KeyError:
        raise SpecError("unsupported CPU architecture %r; supported: %s" % (machine, ", ".join(sorted(table)))) from None


def web_config_for_check(config, tls_files=None):
    """Return a copy of a web config whose TLS paths point at the controller's copies.

    ``tls_files`` is the list of ``{src, dest}`` the role copies to the host. When a
    TLS file is managed on the host only (no ``src``), the TLS part cannot be checked on
    the controller and is left out; the host-side existence check covers it.
    """
    checked = dict(config or {})
    tls = checked.get("tls_server_config")
    if not tls:
        return checked
    sources = {item["dest"]: item["src"] for item in (tls_files or []) if item.get("src") and item.get("dest")}
    tls = dict(tls)
    for key in ("cert_file", "key_file", "client_ca_file"):
        if key in tls:
            if tls[key] not in sources:
                checked.pop("tls_server_config")
                return checked
            tls[key] = sources[tls[key]]
    checked["tls_server_config"] = tls
    return checked
