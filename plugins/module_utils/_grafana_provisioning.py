# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana's files besides dashboards: datasources from the inventory, dashboard providers (folders), grafana.ini."""

from __future__ import annotations

import copy
import re

from ansible_collections.monitoring.stack.plugins.module_utils._dashboards import UID_RE
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, unknown_keys_text

_INI_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")
DATASOURCE_SOURCE_KEYS = frozenset(("name", "type", "uid", "group", "port", "scheme", "path", "is_default", "json_data"))


def datasources_from_groups(sources, groups, hostvars=None):
    """Grafana datasource entries for every source whose inventory group exists and has hosts.

    ``sources`` is a list of ``{name, type, uid, group, port, scheme, path, is_default, json_data}``.
    The URL points at the first host of the group (its ``ansible_host`` when ``hostvars`` has one).
    """
    if not isinstance(sources, list):
        raise SpecError("datasource sources must be a list, got %s" % type(sources).__name__)
    result = []
    for index, source in enumerate(sources):
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
        hosts = list((groups or {}).get(source["group"]) or [])
        if not hosts:
            continue
        host = hosts[0]
        address = host
        if hostvars is not None:
            try:
                address = hostvars[host].get("ansible_host", host)
            except (KeyError, AttributeError, TypeError):
                address = host
        url = "%s://%s:%s%s" % (source.get("scheme", "http"), address, source.get("port", 80), source.get("path", ""))
        entry = {
            "name": source["name"],
            "type": source["type"],
            "uid": source["uid"],
            "access": "proxy",
            "url": url,
            "isDefault": bool(source.get("is_default", False)),
            "editable": False,
        }
        if source.get("json_data"):
            entry["jsonData"] = copy.deepcopy(source["json_data"])
        result.append(entry)
    return result


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
