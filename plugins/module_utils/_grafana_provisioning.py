# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana's files besides dashboards: datasources from the inventory, dashboard providers (folders), grafana.ini."""

from __future__ import annotations

import copy
import re

from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import UID_RE
# The inventory readers of the scrape plan: a host's variable, the port of a listen address, the route prefix
# of an external URL (one copy, shared with the Prometheus scrape targets).
from ansible_collections.monitoring.stack.plugins.module_utils._scrape import _hostvar, _join_host_port, _port_of, route_prefix
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, unknown_keys_text
from ansible_collections.monitoring.stack.plugins.module_utils._victoriametrics import DEFAULT_TIER

_INI_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")
DATASOURCE_SOURCE_KEYS = frozenset(("name", "type", "uid", "group", "role", "port", "port_var", "scheme", "path",
                                    "basic_auth_user", "basic_auth_single_user", "is_default", "json_data", "tier"))
# The user Grafana logs in with where the target has <role>_basic_auth_users.
DEFAULT_BASIC_AUTH_USER = "grafana"
# The header that names the Loki tenant of a request.
TENANT_HEADER = "X-Scope-OrgID"
# Loki tenant IDs: up to 150 of [A-Za-z0-9!._*'()-], neither "." nor "..".
_TENANT = re.compile(r"^[A-Za-z0-9!._*'()-]{1,150}$")
_UID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_HEADER_NAME = re.compile(r"^httpHeaderName([1-9][0-9]*)$")
_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


# --------------------------------------------------------------------------- datasources


def _truthy(value):
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"))


def check_tenants(tenants):
    """The Loki tenants as a list without repeats; SpecError for one that is not a Loki tenant ID."""
    if tenants is None:
        return []
    if not isinstance(tenants, (list, tuple)):
        raise SpecError("tenants must be a list of Loki tenant IDs, got %r" % (tenants,))
    result = []
    for tenant in tenants:
        if not isinstance(tenant, str) or not _TENANT.match(tenant) or tenant in (".", ".."):
            raise SpecError("Loki tenant %r is not a tenant ID: 1-150 characters of letters, digits and !-_.*'() "
                            "(neither '.' nor '..')" % (tenant,))
        if tenant not in result:
            result.append(tenant)
    return result


def check_ca_cert(ca_cert):
    """The CA certificate as PEM text (``""`` for none); SpecError for anything else, such as a path."""
    if ca_cert in (None, ""):
        return ""
    if not isinstance(ca_cert, str) or _PEM_CERTIFICATE not in ca_cert:
        what = "a %d-character text without %s" % (len(ca_cert), _PEM_CERTIFICATE) if isinstance(ca_cert, str) else \
            type(ca_cert).__name__
        raise SpecError("ca_cert must be the PEM text of the CA certificate (lookup('ansible.builtin.file', path)), "
                        "got %s" % what)
    return ca_cert.strip() + "\n"


def tenant_uid(uid, tenant):
    """The uid of a datasource's per-tenant copy: ``<uid>-<tenant>``, other characters as ``-``, at most 40."""
    return _UID_UNSAFE.sub("-", "%s-%s" % (uid, tenant))[:40]


def datasource_headers(datasource):
    """``{header: value}`` of the custom HTTP headers of a datasource (jsonData.httpHeaderNameN, secureJsonData)."""
    json_data = datasource.get("jsonData") or {}
    secure = datasource.get("secureJsonData") or {}
    slots = sorted((int(m.group(1)), str(name)) for key, name in json_data.items()
                   for m in [_HEADER_NAME.match(str(key))] if m and name)
    return {name: str(secure.get("httpHeaderValue%d" % slot, "")) for slot, name in slots}


def _set_header(entry, name, value):
    """Set a custom header of a datasource entry (the slot of a header of that name, else the next free one)."""
    json_data = entry.setdefault("jsonData", {})
    slots = {int(m.group(1)): str(v) for k, v in json_data.items() for m in [_HEADER_NAME.match(str(k))] if m}
    slot = next((n for n, v in sorted(slots.items()) if v.lower() == name.lower()), None)
    if slot is None:
        slot = next(n for n in range(1, len(slots) + 2) if n not in slots)
    json_data["httpHeaderName%d" % slot] = name
    entry.setdefault("secureJsonData", {})["httpHeaderValue%d" % slot] = value


def _check_source(index, source):
    if not isinstance(source, dict):
        raise SpecError("datasource source %d must be a mapping, got %r" % (index, source))
    unknown = unknown_keys_text(source, DATASOURCE_SOURCE_KEYS)
    if unknown:
        raise SpecError("datasource source %d has %s" % (index, unknown))
    for key in ("name", "type", "uid", "group"):
        if not isinstance(source.get(key), str) or not source[key]:
            raise SpecError("datasource source %d needs a non-empty string %r" % (index, key))
    if not UID_RE.match(source["uid"]):
        raise SpecError("datasource source %r: uid %r must be 1-40 characters of [A-Za-z0-9_-]"
                        % (source["name"], source["uid"]))
    for key in ("role", "port_var", "basic_auth_user", "path", "tier"):
        if source.get(key) is not None and not isinstance(source[key], str):
            raise SpecError("datasource source %r: %s must be a string, got %r" % (source["name"], key, source[key]))
    if source.get("scheme") not in (None, "http", "https"):
        raise SpecError("datasource source %r: scheme must be http or https, got %r" % (source["name"], source["scheme"]))


def source_target(source, groups, hostvars=None):
    """``(host, role)`` of a source: the first host of its group (None when the group is empty or missing).

    A source with a ``tier`` takes the first host whose ``<role>_tier`` (default ``raw``) is that tier; a group
    with hosts but none of that tier is an error.
    """
    hosts = list((groups or {}).get(source.get("group")) or [])
    role = source.get("role") or source.get("group")
    if hosts and source.get("tier"):
        var = role + "_tier"
        tiers = [(host, str(_hostvar(hostvars, host, var, DEFAULT_TIER))) for host in hosts]
        hosts = [host for host, tier in tiers if tier == source["tier"]]
        if not hosts:
            found = ", ".join("%s=%s" % pair for pair in tiers)
            raise SpecError("datasource %r: no host of the group %r has %s %r (found: %s); set it on one host, or the "
                            "source's tier" % (source.get("name"), source.get("group"), var, source["tier"], found))
    return (hosts[0] if hosts else None), role


def serves_tls(hostvars, host, role):
    """True when ``host`` serves ``role`` over HTTPS: the site TLS (monitoring_stack_tls) or <role>_tls has a cert_file."""
    for key in ("monitoring_stack_tls", role + "_tls"):
        tls = _hostvar(hostvars, host, key, {})
        if isinstance(tls, dict) and tls.get("cert_file"):
            return True
    return False


def loki_auth_enabled(hostvars, host, role):
    """True when the Loki on ``host`` needs a tenant with every request (<role>_auth_enabled)."""
    return _truthy(_hostvar(hostvars, host, role + "_auth_enabled", False))


def _url(source, host, role, hostvars):
    name = source["name"]
    scheme = source.get("scheme") or ("https" if serves_tls(hostvars, host, role) else "http")
    port = _port_of(_hostvar(hostvars, host, source["port_var"])) if source.get("port_var") else None
    port = port or _port_of(source.get("port", 80))
    if not port or not 0 < port < 65536:
        raise SpecError("datasource source %r: port must be a port number 1-65535, got %r" % (name, source.get("port")))
    if source.get("path") is not None:
        path = source["path"].strip("/")
        path = "/" + path if path else ""
    else:
        var = role + "_external_url"
        path = route_prefix("datasource %r: %s of %s" % (name, var, host), _hostvar(hostvars, host, var))
    address = str(_hostvar(hostvars, host, "ansible_host") or host)
    return scheme, "%s://%s%s" % (scheme, _join_host_port(address, port), path)


def _basic_auth(source, host, role, hostvars):
    """``(user, password)`` Grafana logs in with, or None when the target has no <role>_basic_auth_users."""
    var = role + "_basic_auth_users"
    users = _hostvar(hostvars, host, var, {})
    if not users:
        return None
    if not isinstance(users, dict):
        raise SpecError("datasource %r: %s of %s must map user names to passwords" % (source["name"], var, host))
    user = source.get("basic_auth_user") or DEFAULT_BASIC_AUTH_USER
    if _truthy(source.get("basic_auth_single_user")) and source.get("basic_auth_user") is None:
        # The target checks one user (VictoriaMetrics' -httpAuth.*): Grafana logs in as that user.
        if len(users) != 1:
            raise SpecError("datasource %r: %s of %s must hold exactly one user (the target checks a single user), "
                            "got %d" % (source["name"], var, host, len(users)))
        user = next(iter(users))
    if user not in users:
        raise SpecError("datasource %r: %s of %s has no user %r, which Grafana logs in with: add it there (vault its "
                        "password), or set basic_auth_user of the source to one of: %s"
                        % (source["name"], var, host, user, ", ".join(sorted(str(u) for u in users))))
    if users[user] in (None, ""):
        raise SpecError("datasource %r: user %r of %s of %s has an empty password" % (source["name"], user, var, host))
    return user, str(users[user])


def _per_tenant(entry, source, host, role, tenants):
    """One copy of a Loki entry per tenant, each sending its X-Scope-OrgID."""
    if not tenants:
        raise SpecError("datasource %r: %s_auth_enabled is true on %s, so every Loki query needs a tenant "
                        "(X-Scope-OrgID), but there is none: set log_shipper_tenant_id on the log shippers "
                        "(or pass the tenants)" % (source["name"], role, host))
    copies = []
    seen = {}
    for index, tenant in enumerate(tenants):
        tenant_entry = copy.deepcopy(entry)
        tenant_entry["name"] = "%s (%s)" % (entry["name"], tenant)
        tenant_entry["uid"] = tenant_uid(entry["uid"], tenant)
        tenant_entry["isDefault"] = entry["isDefault"] and index == 0
        if tenant_entry["uid"] in seen:
            raise SpecError("datasource %r: tenants %r and %r give the same uid %r: shorten the source's uid or the "
                            "tenant IDs" % (source["name"], seen[tenant_entry["uid"]], tenant, tenant_entry["uid"]))
        seen[tenant_entry["uid"]] = tenant
        _set_header(tenant_entry, TENANT_HEADER, tenant)
        copies.append(tenant_entry)
    return copies


def _make_default(result, default_uid):
    """Only the entry with ``default_uid`` is the default, when there is one; else the sources' is_default stay."""
    if not default_uid:
        return result
    if not isinstance(default_uid, str):
        raise SpecError("default_uid must be a datasource uid (a string), got %r" % (default_uid,))
    if not any(entry["uid"] == default_uid for entry in result):
        return result
    for entry in result:
        entry["isDefault"] = entry["uid"] == default_uid
    return result


def datasources_from_groups(sources, groups, hostvars=None, ca_cert="", tenants=None, default_uid=""):
    """Grafana datasource entries for every source whose inventory group exists and has hosts.

    ``sources`` is a list of ``{name, type, uid, group, role, port, port_var, scheme, path, basic_auth_user,
    is_default, json_data}``. Each entry follows the first host of its group, read in ``hostvars`` (which hold
    the inventory's variables, not the role defaults: those are the source's ``port``, ``scheme``, ``path``):
    its ``ansible_host``, the port of ``<port_var>``, https when it has ``monitoring_stack_tls`` or
    ``<role>_tls`` with a ``cert_file`` (``role`` defaults to the group), the path of ``<role>_external_url``,
    basic auth as ``basic_auth_user`` (``grafana``) when it has ``<role>_basic_auth_users``. An https entry
    trusts ``ca_cert`` (PEM) when given. A Loki whose ``<role>_auth_enabled`` is true gets one entry per
    tenant of ``tenants``, named ``<name> (<tenant>)`` with the uid ``<uid>-<tenant>``. A source with a ``tier``
    follows the first host of its group whose ``<role>_tier`` (default ``raw``) is that tier.

    ``default_uid`` (empty: none) makes the entry with that uid the only default when it is in the result (its
    group has hosts); otherwise the sources' ``is_default`` stand, so the default falls back to Prometheus.
    """
    if not isinstance(sources, list):
        raise SpecError("datasource sources must be a list, got %s" % type(sources).__name__)
    ca_cert = check_ca_cert(ca_cert)
    tenants = check_tenants(tenants)
    result = []
    for index, source in enumerate(sources):
        _check_source(index, source)
        host, role = source_target(source, groups, hostvars)
        if host is None:
            continue
        scheme, url = _url(source, host, role, hostvars)
        entry = {
            "name": source["name"],
            "type": source["type"],
            "uid": source["uid"],
            "access": "proxy",
            "url": url,
            "isDefault": bool(source.get("is_default", False)),
            "editable": False,
        }
        json_data = copy.deepcopy(source.get("json_data") or {})
        secure = {}
        login = _basic_auth(source, host, role, hostvars)
        if login:
            entry["basicAuth"] = True
            entry["basicAuthUser"] = login[0]
            secure["basicAuthPassword"] = login[1]
        if scheme == "https" and ca_cert:
            json_data["tlsAuthWithCACert"] = True
            secure["tlsCACert"] = ca_cert
        if json_data:
            entry["jsonData"] = json_data
        if secure:
            entry["secureJsonData"] = secure
        if source["type"] == "loki" and loki_auth_enabled(hostvars, host, role):
            result.extend(_per_tenant(entry, source, host, role, tenants))
        else:
            result.append(entry)
    return _make_default(result, default_uid)


def dashboard_providers(folders, path, allow_ui_updates=False, org_id=1):
    """Grafana dashboard provisioning ``providers``: one file provider per folder ``{uid, title}``."""
    if not isinstance(folders, list) or not folders:
        raise SpecError("dashboard folders must be a non-empty list of {uid, title}, got %r" % (folders,))
    providers = []
    seen = set()
    for index, folder in enumerate(folders):
        if not isinstance(folder, dict) or set(folder) - {"uid", "title"}:
            raise SpecError("dashboard folder %d must be a mapping with the keys uid and title, got %r" % (index, folder))
        uid = folder.get("uid")
        title = folder.get("title")
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise SpecError("dashboard folder %d: uid %r must be 1-40 characters of [A-Za-z0-9_-]" % (index, uid))
        if not isinstance(title, str) or not title.strip():
            raise SpecError("dashboard folder %r needs a non-empty title" % (uid,))
        if uid in seen:
            raise SpecError("dashboard folder uid %r is used twice" % (uid,))
        seen.add(uid)
        providers.append({
            "name": uid,
            "orgId": org_id,
            "folder": title,
            "folderUid": uid,
            "type": "file",
            "disableDeletion": False,
            "allowUiUpdates": bool(allow_ui_updates),
            "updateIntervalSeconds": 30,
            "options": {"path": "%s/%s" % (path.rstrip("/"), uid), "foldersFromFilesStructure": False},
        })
    return providers


# --------------------------------------------------------------------------- grafana.ini


def _ini_value(section, key, value):
    where = "[%s] %s" % (section, key) if section else key
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_ini_value(section, key, item) for item in value)
    if isinstance(value, dict):
        raise SpecError("%s: sections cannot be nested; write the section as a top-level key with a dot, "
                        "e.g. 'auth.generic_oauth'" % where)
    text = str(value)
    if '"""' in text:
        raise SpecError("%s: values cannot contain triple quotes" % where)
    if any(char in text for char in "#;\n\r") or text != text.strip() or text.startswith(('"', "'", "`")):
        return '"""%s"""' % text
    return text


def _check_ini_key(section, key):
    if not isinstance(key, str) or not _INI_KEY.match(key):
        raise SpecError("%s: key %r must match %s" % ("[%s]" % section if section else "top level", key, _INI_KEY.pattern))


def grafana_ini(settings):
    """Render a settings mapping as grafana.ini text: scalars first, then one ``[section]`` per mapping."""
    if not isinstance(settings, dict):
        raise SpecError("expects a mapping, got %s" % type(settings).__name__)
    lines = []
    sections = []
    for key, value in settings.items():
        _check_ini_key(None, key)
        if isinstance(value, dict):
            sections.append((key, value))
        else:
            lines.append("%s = %s" % (key, _ini_value(None, key, value)))
    for name, body in sections:
        if lines:
            lines.append("")
        lines.append("[%s]" % name)
        for key, value in body.items():
            _check_ini_key(name, key)
            lines.append("%s = %s" % (key, _ini_value(name, key, value)))
    return "\n".join(lines) + "\n"
