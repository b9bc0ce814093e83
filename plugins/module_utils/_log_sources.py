# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One log source catalogue for every agent.

:func:`log_sources` normalises a catalogue of sources (nginx, PostgreSQL, journal, Odoo, Django, FastAPI,
audit trails, custom files) into a list whose pipelines are built once, in a neutral form (a list of
stages), so Promtail and Alloy (``_log_agents.py``) parse a catalogue the same way.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._log_host import (
    check_timezone,
    exclusive_sources,
    os_family_sources,
    source_overlaps,
)
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, is_label_name, parse_duration, unknown_keys_text

# Unbounded values: never stream labels (they go to structured metadata or stay parsed fields).
FORBIDDEN_LABELS = frozenset([
    "correlation_id", "request_id", "trace_id", "traceid", "span_id", "path", "request_uri", "uri", "url",
    "filename", "user_id", "user", "remote_addr", "client_ip", "ip", "pid", "query", "message", "msg",
    "duration_ms", "session_id",
])

# nginx "combined": $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
NGINX_COMBINED = (
    r'^(?P<remote_addr>\S+) \S+ (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] '
    r'"(?P<method>[A-Z]+) (?P<path>[^ "]+)(?: (?P<protocol>[^"]*))?" (?P<status>\d{3}) (?P<body_bytes_sent>\d+|-)'
    r'(?: "(?P<http_referer>[^"]*)" "(?P<http_user_agent>[^"]*)")?'
)
# nginx error log: 2024/05/01 12:00:00 [error] 1234#1234: *5 message
NGINX_ERROR = (
    r'^(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>[a-z]+)\] (?P<pid>\d+)#(?P<tid>\d+): '
    r'(?:\*(?P<connection>\d+) )?(?P<message>.*)'
)
# PostgreSQL with Debian's log_line_prefix '%m [%p] %q%u@%d ':
#   2024-05-01 12:00:00.123 UTC [1234] app@shop LOG:  duration: 1523.112 ms  statement: SELECT ...
POSTGRESQL_LINE = (
    r'(?s)^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \S+) \[(?P<pid>\d+)\] '
    r'(?:(?P<user>[^@ ]*)@(?P<database>\S*) )?(?P<level>[A-Z0-9]+):\s+(?P<message>.*)'
)
POSTGRESQL_SLOW = r'^duration: (?P<duration_ms>\d+(?:\.\d+)?) ms'
# Odoo: '%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s' (asctime 'YYYY-MM-DD HH:MM:SS,mmm', UTC)
ODOO_LINE = (
    r'(?s)^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?P<pid>\d+) (?P<level>[A-Z]+) '
    r'(?P<database>\S+) (?P<logger>[^:\s]+): (?P<message>.*)'
)

# JSON fields of the structured application logs (Django, FastAPI/uvicorn, audit trails).
APP_JSON_FIELDS = {
    "time": "timestamp",
    "level": "level",
    "logger": "logger",
    "message": "message",
    "correlation_id": "correlation_id",
    "method": "method",
    "path": "path",
    "status": "status_code",
    "duration_ms": "duration_ms",
}
NGINX_JSON_FIELDS = {
    "time": "time_iso8601",
    "method": "request_method",
    "path": "request_uri",
    "status": "status",
    "correlation_id": "request_id",
    "remote_addr": "remote_addr",
}
AUDIT_JSON_FIELDS = {
    "time": "timestamp",
    "action": "action",
    "actor": "user_id",
    "model": "model",
    "correlation_id": "correlation_id",
}

SOURCE_TYPES = {
    # type: defaults (nginx and PostgreSQL paths and ACLs per OS family: _log_host.OS_FAMILY_SOURCES)
    "nginx_access": {"job": "nginx", "paths": ["/var/log/nginx/*access.log"], "format": "combined", "acl": False},
    "nginx_error": {"job": "nginx", "paths": ["/var/log/nginx/*error.log"], "acl": False},
    "postgresql": {"job": "postgresql", "paths": ["/var/log/postgresql/postgresql-*.log"], "acl": True},
    "journal": {"job": "systemd-journal", "paths": [], "acl": False},
    "odoo": {"job": "odoo", "paths": ["/var/log/odoo/*.log"], "acl": True},
    "django": {"job": "django", "paths": ["/var/log/django/*.log"], "format": "json", "acl": True},
    "fastapi": {"job": "fastapi", "paths": ["/var/log/fastapi/*.log"], "format": "json", "acl": True},
    "audit": {"job": "audit", "paths": None, "format": "json", "acl": True},
    "custom": {"job": None, "paths": None, "format": "raw", "acl": True},
}
_SOURCE_KEYS = {
    "name", "type", "enabled", "paths", "exclude", "job", "labels", "format", "expression", "json_fields",
    "label_fields", "metadata_fields", "timestamp", "multiline_firstline", "units", "max_age", "acl",
    "acl_paths", "rotate",
}
_FORMATS = {
    "nginx_access": ("combined", "json"),
    "audit": ("json", "text"),
    "custom": ("json", "regex", "raw"),
    "django": ("json",),
    "fastapi": ("json",),
}


def _glob_dir(path):
    """The directory to grant read access on: the static part of a glob's parent."""
    parts = path.split("/")
    static = []
    for part in parts[:-1]:
        if any(c in part for c in "*?[{"):
            break
        static.append(part)
    return "/".join(static) or "/"


def labels_ok(names, where):
    """Refuse label names that are invalid, reserved (``__``) or unbounded (FORBIDDEN_LABELS)."""
    for name in names:
        if not is_label_name(name, reserved=False):
            raise SpecError("%s: '%s' is not a valid label name" % (where, name))
        if name.lower() in FORBIDDEN_LABELS:
            raise SpecError(
                "%s: '%s' must not be a label: its values are unbounded (one stream per value). "
                "Put it in metadata_fields (structured metadata) instead." % (where, name))


def _json_pipeline(fields, label_fields, metadata_fields, ts_format="RFC3339Nano"):
    stages = [{"type": "json", "expressions": dict(sorted(fields.items()))}]
    labels = [f for f in label_fields if f in fields]
    if labels:
        stages.append({"type": "labels", "values": {f: f for f in labels}})
    meta = [f for f in metadata_fields if f in fields]
    if meta:
        stages.append({"type": "structured_metadata", "values": {f: f for f in meta}})
    if "time" in fields:
        stages.append({"type": "timestamp", "source": "time", "format": ts_format, "fallback_formats": ["RFC3339"]})
    return stages


def _regex_pipeline(expression, label_fields, metadata_fields, timestamp=None, extra=None):
    stages = [{"type": "regex", "expression": expression}]
    stages.extend(extra or [])
    groups = set()
    for stage in stages:
        groups.update(re.compile(stage["expression"]).groupindex)
    label_fields = [f for f in label_fields if f in groups]
    metadata_fields = [f for f in metadata_fields if f in groups]
    if label_fields:
        stages.append({"type": "labels", "values": {f: f for f in label_fields}})
    if metadata_fields:
        stages.append({"type": "structured_metadata", "values": {f: f for f in metadata_fields}})
    if timestamp:
        stages.append(dict({"type": "timestamp"}, **timestamp))
    return stages


def _source_pipeline(src, timezone=""):
    """The neutral pipeline of one normalised source; ``timezone`` (IANA) is the location of local times without a zone."""
    kind, fmt = src["type"], src.get("format")
    local = {"location": timezone} if timezone else {}
    labels, meta = src["label_fields"], src["metadata_fields"]
    stages = []
    if src.get("multiline_firstline"):
        stages.append({"type": "multiline", "firstline": src["multiline_firstline"], "max_wait_time": "3s"})
    if kind == "nginx_access" and fmt == "combined":
        stages += _regex_pipeline(NGINX_COMBINED, labels, meta,
                                  {"source": "time_local", "format": "02/Jan/2006:15:04:05 -0700"})
    elif kind == "nginx_access":
        stages += _json_pipeline(src["json_fields"], labels, meta)
    elif kind == "nginx_error":
        # nginx writes its error log in local time without a zone.
        stages += _regex_pipeline(NGINX_ERROR, labels, meta, dict({"source": "time", "format": "2006/01/02 15:04:05"}, **local))
    elif kind == "postgresql":
        stages += _regex_pipeline(
            # A zone abbreviation (log_timezone): resolved in the host's zone (CET/CEST), not as a zero offset.
            POSTGRESQL_LINE, labels, meta, dict({"source": "time", "format": "2006-01-02 15:04:05 MST"}, **local),
            extra=[{"type": "regex", "source": "message", "expression": POSTGRESQL_SLOW}])
    elif kind == "odoo":
        stages += _regex_pipeline(ODOO_LINE, labels, meta,
                                  {"source": "time", "format": "2006-01-02 15:04:05,000", "location": "UTC"})
    elif fmt == "json":
        stages += _json_pipeline(src["json_fields"], labels, meta)
    elif fmt == "regex":
        ts = dict(src["timestamp"]) if src.get("timestamp") else None
        if ts and timezone and not ts.get("location"):
            ts["location"] = timezone
        stages += _regex_pipeline(src["expression"], labels, meta, ts)
    # journal, raw and text: no parsing; a journal is relabelled at the source.
    if kind != "journal":
        # The file name is bounded per host but grows with rotation schemes; keep it out of the stream labels.
        stages.append({"type": "structured_metadata", "values": {"filename": "filename"}})
    return stages


_TYPE_LABELS = {
    "nginx_access": ([], ["method", "status", "correlation_id"]),
    "nginx_error": (["level"], []),
    "postgresql": (["level"], ["database", "user", "duration_ms"]),
    "journal": ([], []),
    "odoo": (["level"], ["database", "logger"]),
    "django": (["level"], ["logger", "correlation_id", "status", "method"]),
    "fastapi": (["level"], ["logger", "correlation_id", "status", "method"]),
    "audit": ([], ["action", "actor", "model", "correlation_id"]),
    "custom": ([], []),
}
_TYPE_FIRSTLINE = {
    "postgresql": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
    "odoo": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ",
}


def _normalise_source(raw, index, static, timezone="", os_family="Debian"):
    where = "log_sources[%d]" % index
    if not isinstance(raw, dict):
        raise SpecError("%s: a source must be a mapping" % where)
    unknown = unknown_keys_text(raw, _SOURCE_KEYS)
    if unknown:
        raise SpecError("%s: %s" % (where, unknown))
    name = str(raw.get("name") or "")
    where = "log source '%s'" % name if name else where
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise SpecError("%s: 'name' must match [a-z][a-z0-9_]* (it names pipeline components)" % where)
    kind = raw.get("type")
    if kind not in SOURCE_TYPES:
        raise SpecError("%s: type must be one of %s, got '%s'" % (where, ", ".join(sorted(SOURCE_TYPES)), kind))
    defaults = dict(SOURCE_TYPES[kind], **os_family_sources(os_family).get(kind, {}))
    fmt = raw.get("format", defaults.get("format"))
    if kind in _FORMATS and fmt not in _FORMATS[kind]:
        raise SpecError("%s: format must be one of %s, got '%s'" % (where, ", ".join(_FORMATS[kind]), fmt))
    paths = raw.get("paths", defaults["paths"])
    if kind == "journal":
        if raw.get("paths"):
            raise SpecError("%s: a journal source reads the journal, not paths" % where)
        paths = []
    else:
        if isinstance(paths, str):
            paths = [paths]
        if not paths:
            raise SpecError("%s: 'paths' is required for type %s" % (where, kind))
        for path in paths:
            if not str(path).startswith("/"):
                raise SpecError("%s: path '%s' must be absolute" % (where, path))
    job = raw.get("job") or defaults["job"] or name
    type_labels, type_meta = _TYPE_LABELS[kind]
    label_fields = list(raw.get("label_fields", type_labels))
    metadata_fields = list(raw.get("metadata_fields", type_meta))
    labels_ok(label_fields, where + " label_fields")
    extra_labels = dict(raw.get("labels") or {})
    labels_ok(extra_labels, where + " labels")
    if fmt == "regex":
        if not raw.get("expression"):
            raise SpecError("%s: format regex needs 'expression' with named groups" % where)
        try:
            groups = set(re.compile(raw["expression"]).groupindex)
        except re.error as exc:
            raise SpecError("%s: expression does not compile: %s" % (where, exc)) from exc
        missing = [f for f in label_fields + metadata_fields if f not in groups]
        if missing:
            raise SpecError("%s: field(s) %s are not named groups of the expression" % (where, ", ".join(missing)))
    json_fields = {}
    if fmt == "json":
        base = {"nginx_access": NGINX_JSON_FIELDS, "audit": AUDIT_JSON_FIELDS}.get(kind, APP_JSON_FIELDS)
        json_fields = dict(base, **(raw.get("json_fields") or {}))
        json_fields = {k: v for k, v in json_fields.items() if v}
    labels = {"job": job}
    labels.update({k: str(v) for k, v in static.items() if v not in (None, "")})
    labels.update({k: str(v) for k, v in extra_labels.items()})
    units = list(raw.get("units") or [])
    acl = raw.get("acl", defaults["acl"])
    acl_paths = list(raw.get("acl_paths") or sorted({_glob_dir(p) for p in paths}))
    src = {
        "name": name,
        "type": kind,
        "kind": "journal" if kind == "journal" else "file",
        "format": fmt,
        "job": job,
        "paths": list(paths),
        "exclude": list(raw.get("exclude") or []),
        "labels": labels,
        "label_fields": label_fields,
        "metadata_fields": metadata_fields,
        "json_fields": json_fields,
        "expression": raw.get("expression"),
        "timestamp": raw.get("timestamp"),
        "multiline_firstline": raw.get("multiline_firstline", _TYPE_FIRSTLINE.get(kind)),
        "units": units,
        "max_age": raw.get("max_age", "12h"),
        "acl": bool(acl) and kind != "journal",
        "acl_paths": acl_paths if (acl and kind != "journal") else [],
        # Directories above acl_paths the agent must be able to traverse (execute-only ACL).
        "traverse_paths": list(defaults.get("traverse_paths") or []) if (acl and kind != "journal" and "paths" not in raw) else [],
    }
    if kind == "journal":
        parse_duration(src["max_age"], where + " max_age")
    src["pipeline"] = _source_pipeline(src, timezone)
    return src


def log_sources(catalogue, enabled=None, host="", environment="", timezone="", os_family="Debian"):
    """Normalise a source catalogue (list, or dict name -> source) into the list both agents render.

    ``enabled`` is a list of source names to keep (None keeps every source whose ``enabled`` is not false).
    ``host`` and ``environment`` become static labels of every stream, with ``job``. ``timezone`` (an IANA
    name, the host's) is the location of timestamps written in local time without a zone; ``os_family``
    (Debian, RedHat) picks the default nginx and PostgreSQL paths and ACLs. A source whose globs cover
    another source's more specific paths excludes them; sources that still overlap are refused.
    """
    if timezone:
        timezone = check_timezone(timezone)
    if isinstance(catalogue, dict):
        catalogue = [dict(v or {}, name=v.get("name", k) if isinstance(v, dict) else k) for k, v in sorted(catalogue.items())]
    if not isinstance(catalogue, list):
        raise SpecError("the catalogue must be a list of sources or a mapping name -> source")
    static = {"host": host, "environment": environment}
    out, seen = [], set()
    for i, raw in enumerate(catalogue):
        src = _normalise_source(raw, i, static, timezone, os_family)
        if src["name"] in seen:
            raise SpecError("source name '%s' is used twice" % src["name"])
        seen.add(src["name"])
        on = raw.get("enabled", True) if enabled is None else src["name"] in enabled
        if on:
            out.append(src)
    if enabled is not None:
        unknown = sorted(set(enabled) - seen)
        if unknown:
            raise SpecError("enabled names %s are not in the catalogue" % ", ".join(unknown))
    exclusive_sources(out)
    overlaps = source_overlaps(out)
    if overlaps:
        raise SpecError("; ".join(overlaps))
    return out


def log_source_overlaps(catalogue, enabled=None, os_family="Debian"):
    """The overlaps left between the file sources of a catalogue once covered paths are excluded ([] when none)."""
    static = {"host": "", "environment": ""}
    if isinstance(catalogue, dict):
        catalogue = [dict(v or {}, name=v.get("name", k) if isinstance(v, dict) else k) for k, v in sorted(catalogue.items())]
    if not isinstance(catalogue, list):
        raise SpecError("the catalogue must be a list of sources or a mapping name -> source")
    out = []
    for i, raw in enumerate(catalogue):
        src = _normalise_source(raw, i, static, "", os_family)
        if (raw.get("enabled", True) if enabled is None else src["name"] in enabled):
            out.append(src)
    return source_overlaps(exclusive_sources(out))


def check_sources(sources):
    if not isinstance(sources, list):
        raise SpecError("expected the list returned by monitoring.stack.log_sources")
    for src in sources:
        if not isinstance(src, dict) or "pipeline" not in src:
            raise SpecError("expected sources normalised by monitoring.stack.log_sources (missing 'pipeline')")
