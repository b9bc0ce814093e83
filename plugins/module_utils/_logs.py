# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Centralised logs: Loki config, schema safety, one source catalogue for Promtail and Alloy.

Private to monitoring.stack; the filters in plugins/filter/logs.py wrap these functions.
Upstream references these builders follow (pinned versions):

* Loki 3.5 ``docs/sources/shared/configuration.md`` and ``pkg/loki/validation.go``
* Promtail 3.5 ``docs/sources/send-data/promtail/configuration.md`` and ``stages/*.md``
* Alloy 1.x ``docs/sources/reference/components/{local,loki}/*.md``

Pipelines are built once in a neutral form (a list of stages) and translated to
Promtail YAML stages and Alloy ``stage.*`` blocks, so both agents parse a catalogue the
same way.
"""

from __future__ import annotations

import copy
import datetime
import json
import re

__all__ = [
    "LogsError",
    "alloy_config",
    "log_sources",
    "loki_config",
    "loki_schema_periods",
    "promtail_config",
    "FORBIDDEN_LABELS",
    "SOURCE_TYPES",
]


class LogsError(Exception):
    """A settings or catalogue error a user can act on."""


# --------------------------------------------------------------------------- helpers

_DURATION = re.compile(r"^(\d+(?:ms|s|m|h|d|w|y))+$")
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Unbounded values: never stream labels (they go to structured metadata or stay parsed fields).
FORBIDDEN_LABELS = frozenset([
    "correlation_id", "request_id", "trace_id", "traceid", "span_id", "path", "request_uri", "uri", "url",
    "filename", "user_id", "user", "remote_addr", "client_ip", "ip", "pid", "query", "message", "msg",
    "duration_ms", "session_id",
])


def _duration_seconds(value, what):
    """Parse a Prometheus/Loki style duration (``30d``, ``1h30m``) into seconds."""
    text = str(value).strip()
    if text == "0":
        return 0
    if not _DURATION.match(text):
        raise LogsError("%s: '%s' is not a duration such as 720h, 30d or 10m" % (what, value))
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def _hours(value, what):
    """Render a duration as whole hours (``30d`` -> ``720h``), the form Loki prints back."""
    seconds = _duration_seconds(value, what)
    if seconds % 3600:
        raise LogsError("%s: '%s' must be a whole number of hours" % (what, value))
    return "%dh" % (seconds // 3600)


def _deep_merge(base, override):
    """Recursively merge ``override`` into a copy of ``base`` (dicts merge, everything else replaces)."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _as_date(value, what):
    """Normalise a YAML date, datetime or 'YYYY-MM-DD' string to 'YYYY-MM-DD'."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value or "").strip()
    if not _DATE.match(text):
        raise LogsError("%s: 'from' must be a date YYYY-MM-DD, got '%s'" % (what, value))
    try:
        datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise LogsError("%s: 'from' is not a valid date: %s" % (what, exc)) from exc
    return text


def _today(today=None):
    if today is None:
        return datetime.datetime.now(datetime.timezone.utc).date()
    if isinstance(today, datetime.date):
        return today if not isinstance(today, datetime.datetime) else today.date()
    return datetime.date.fromisoformat(str(today))


# --------------------------------------------------------------------------- Loki

LOKI_DEFAULTS = {
    "http_listen_address": "",
    "http_listen_port": 3100,
    "grpc_listen_address": "127.0.0.1",
    "grpc_listen_port": 9096,
    "log_level": "info",
    "auth_enabled": False,
    "path_prefix": "/var/lib/loki",
    "storage": "filesystem",
    "s3": {},
    "schema_periods": [],
    "retention_enabled": True,
    "retention_period": "30d",
    "retention_delete_delay": "2h",
    "compaction_interval": "10m",
    "delete_request_store": None,
    "reject_old_samples": True,
    "reject_old_samples_max_age": "168h",
    "allow_structured_metadata": True,
    "volume_enabled": True,
    "max_query_lookback": None,
    "ruler": {},
    "analytics_reporting_enabled": False,
    "extra": {},
}

# Keys read from a period dict; everything else is refused (typos must not pass silently).
_PERIOD_KEYS = ("from", "store", "object_store", "schema", "index")
_PERIOD_INDEX_KEYS = ("prefix", "period", "path_prefix", "tags")


def _normalise_period(period, where, default_object_store="filesystem"):
    if not isinstance(period, dict):
        raise LogsError("%s: a schema period must be a mapping, got %r" % (where, period))
    unknown = sorted(set(period) - set(_PERIOD_KEYS) - {"chunks", "row_shards"})
    if unknown:
        raise LogsError("%s: unknown schema period key(s) %s" % (where, ", ".join(unknown)))
    index = dict(period.get("index") or {})
    bad = sorted(set(index) - set(_PERIOD_INDEX_KEYS))
    if bad:
        raise LogsError("%s: unknown index key(s) %s" % (where, ", ".join(bad)))
    out = {
        "from": _as_date(period.get("from"), where),
        "store": str(period.get("store", "tsdb")),
        "object_store": str(period.get("object_store", default_object_store)),
        "schema": str(period.get("schema", "v13")),
        "index": {
            "prefix": str(index.get("prefix", "index_")),
            "period": _hours(index.get("period", "24h"), where + ".index.period"),
        },
    }
    for key in ("path_prefix", "tags"):
        if key in index:
            out["index"][key] = copy.deepcopy(index[key])
    for key in ("chunks", "row_shards"):
        if key in period:
            out[key] = copy.deepcopy(period[key])
    if not re.match(r"^v\d+$", out["schema"]):
        raise LogsError("%s: schema must look like v13, got '%s'" % (where, out["schema"]))
    if out["store"] == "tsdb" and out["index"]["period"] != "24h":
        raise LogsError("%s: tsdb must always have the index period set to 24h (Loki refuses %s)" % (where, out["index"]["period"]))
    if int(out["schema"][1:]) >= 13 and out["store"] != "tsdb":
        raise LogsError("%s: schema %s needs store tsdb (got '%s')" % (where, out["schema"], out["store"]))
    return out


def _existing_periods(existing):
    """Accept the deployed config (dict), its schema_config, or a period list; return the period list."""
    if existing in (None, "", {}, []):
        return []
    if isinstance(existing, dict):
        if "schema_config" in existing:
            existing = (existing.get("schema_config") or {}).get("configs") or []
        elif "configs" in existing:
            existing = existing.get("configs") or []
        else:
            raise LogsError("existing: expected a Loki config with schema_config.configs, got keys %s" % ", ".join(sorted(existing)))
    if not isinstance(existing, list):
        raise LogsError("existing: expected a list of schema periods")
    return existing


def _check_increasing(periods, where):
    for before, after in zip(periods, periods[1:]):
        if after["from"] <= before["from"]:
            raise LogsError(
                "%s: 'from' dates must be distinct and increasing (%s then %s)" % (where, before["from"], after["from"]))


def loki_schema_periods(desired, existing=None, today=None, default_object_store="filesystem"):
    """Return the schema periods to deploy, refusing any change that would corrupt stored data.

    Loki reads each day of data with the period whose ``from`` covers it. So periods may
    only be appended, each starting strictly after today (UTC); a deployed period may never be
    rewritten or removed.  ``existing`` is the config read from the host (or its period list).
    """
    if not isinstance(desired, list) or not desired:
        raise LogsError("loki schema periods: at least one period is required (Loki: 'must specify at least one schema configuration')")
    want = [_normalise_period(p, "schema period %d" % i, default_object_store) for i, p in enumerate(desired)]
    _check_increasing(want, "schema periods")
    have_raw = _existing_periods(existing)
    if not have_raw:
        return want
    have = [_normalise_period(p, "deployed schema period %d" % i, default_object_store=p.get("object_store", "filesystem"))
            for i, p in enumerate(have_raw)]
    if len(want) < len(have):
        missing = ", ".join(p["from"] for p in have[len(want):])
        raise LogsError(
            "loki schema periods: the deployed period(s) starting %s would be removed. Periods are append-only: "
            "keep every deployed period and add a new one dated after today." % missing)
    for i, (old, new) in enumerate(zip(have, want)):
        if old != new:
            raise LogsError(
                "loki schema periods: period %d (from %s) is deployed as %s and would be rewritten to %s. "
                "Never change a deployed period; append a new period with a future 'from' date instead."
                % (i, old["from"], json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True)))
    day = _today(today).isoformat()
    for new in want[len(have):]:
        if new["from"] <= day:
            raise LogsError(
                "loki schema periods: the new period from %s must start after today (%s UTC); a period dated today "
                "or earlier would re-read data already written with the old schema." % (new["from"], day))
    return want


def _default_period():
    # A first deployment with no periods given: one v13/tsdb period starting at the epoch of this
    # collection's schema advice; data older than that does not exist on a new install.
    return {"from": "2024-04-01", "store": "tsdb", "schema": "v13", "index": {"prefix": "index_", "period": "24h"}}


def _s3_block(s3):
    allowed = ("endpoint", "region", "bucketnames", "access_key_id", "secret_access_key", "s3forcepathstyle", "insecure",
               "http_config", "sse", "storage_class", "signature_version", "session_token", "s3", "backoff_config")
    unknown = sorted(set(s3) - set(allowed))
    if unknown:
        raise LogsError("loki s3 storage: unknown key(s) %s" % ", ".join(unknown))
    if not s3.get("bucketnames"):
        raise LogsError("loki s3 storage: 'bucketnames' is required when storage is s3")
    return {k: copy.deepcopy(v) for k, v in s3.items() if v not in (None, "")}


def loki_config(settings=None):
    """Build the Loki 3.x single-binary configuration dict from flat settings."""
    s = _deep_merge(LOKI_DEFAULTS, settings or {})
    unknown = sorted(set(s) - set(LOKI_DEFAULTS))
    if unknown:
        raise LogsError("loki_config: unknown setting(s) %s" % ", ".join(unknown))
    if s["storage"] not in ("filesystem", "s3"):
        raise LogsError("loki_config: storage must be filesystem or s3, got '%s'" % s["storage"])
    prefix = str(s["path_prefix"]).rstrip("/")
    if not prefix.startswith("/"):
        raise LogsError("loki_config: path_prefix must be an absolute path, got '%s'" % s["path_prefix"])

    periods = s["schema_periods"] or [_default_period()]
    if not isinstance(periods, list) or not all(isinstance(p, dict) for p in periods):
        raise LogsError("loki_config: schema_periods must be a list of mappings")
    periods = [_normalise_period(dict(p, object_store=p.get("object_store", s["storage"])), "schema period %d" % i)
               for i, p in enumerate(periods)]
    _check_increasing(periods, "schema periods")

    common_storage = {"filesystem": {"chunks_directory": prefix + "/chunks", "rules_directory": prefix + "/rules"}}
    if s["storage"] == "s3":
        common_storage = {"s3": _s3_block(s["s3"] or {})}

    retention_period = _hours(s["retention_period"], "retention_period")
    delete_store = s["delete_request_store"] or s["storage"]
    if s["retention_enabled"] and not delete_store:
        raise LogsError("loki_config: retention_enabled needs compactor.delete_request_store (filesystem or s3)")
    if delete_store not in ("filesystem", "s3"):
        raise LogsError("loki_config: delete_request_store must be filesystem or s3, got '%s'" % delete_store)

    config = {
        "auth_enabled": bool(s["auth_enabled"]),
        "server": {
            "http_listen_port": int(s["http_listen_port"]),
            "grpc_listen_port": int(s["grpc_listen_port"]),
            "log_level": s["log_level"],
        },
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": prefix,
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
            "storage": common_storage,
        },
        "schema_config": {"configs": periods},
        "storage_config": {
            "tsdb_shipper": {
                "active_index_directory": prefix + "/tsdb-index",
                "cache_location": prefix + "/tsdb-cache",
            },
        },
        "compactor": {
            "working_directory": prefix + "/compactor",
            "compaction_interval": s["compaction_interval"],
            "retention_enabled": bool(s["retention_enabled"]),
            "retention_delete_delay": s["retention_delete_delay"],
            "delete_request_store": delete_store,
        },
        "limits_config": {
            "retention_period": retention_period,
            "reject_old_samples": bool(s["reject_old_samples"]),
            "reject_old_samples_max_age": s["reject_old_samples_max_age"],
            "allow_structured_metadata": bool(s["allow_structured_metadata"]),
            "volume_enabled": bool(s["volume_enabled"]),
        },
        "analytics": {"reporting_enabled": bool(s["analytics_reporting_enabled"])},
    }
    if s["http_listen_address"]:
        config["server"]["http_listen_address"] = s["http_listen_address"]
    if s["grpc_listen_address"]:
        config["server"]["grpc_listen_address"] = s["grpc_listen_address"]
    if s["max_query_lookback"]:
        config["limits_config"]["max_query_lookback"] = s["max_query_lookback"]
    ruler = s["ruler"] or {}
    if ruler.get("enabled"):
        config["ruler"] = {
            "storage": {"type": "local", "local": {"directory": ruler.get("rules_directory", prefix + "/rules")}},
            "rule_path": prefix + "/rules-temp",
            "enable_api": True,
        }
        if ruler.get("alertmanager_url"):
            config["ruler"]["alertmanager_url"] = ruler["alertmanager_url"]
        if ruler.get("external_url"):
            config["ruler"]["external_url"] = ruler["external_url"]
    config = _deep_merge(config, s["extra"])
    check_loki_config(config)
    return config


def _active_period(periods, today=None):
    day = _today(today).isoformat()
    active = periods[0]
    for period in periods:
        if str(period.get("from")) <= day:
            active = period
    return active


def check_loki_config(config, today=None):
    """Structural checks mirroring Loki 3.5's own config validation (pkg/loki/validation.go and friends)."""
    periods = ((config.get("schema_config") or {}).get("configs")) or []
    if not periods:
        raise LogsError("loki config: schema_config.configs must hold at least one period")
    for i, period in enumerate(periods):
        index = period.get("index") or {}
        if period.get("store") == "tsdb" and index.get("period") not in ("24h", 86400):
            raise LogsError("loki config: period %d: tsdb must always have the index period set to 24h" % i)
        if str(period.get("schema", "")).lstrip("v").isdigit() and int(str(period["schema"]).lstrip("v")) >= 13 \
                and period.get("store") != "tsdb":
            raise LogsError("loki config: period %d: schema %s requires store tsdb" % (i, period.get("schema")))
    limits = config.get("limits_config") or {}
    active = _active_period(periods, today)
    if limits.get("allow_structured_metadata", True):
        if int(str(active.get("schema", "v0")).lstrip("v") or 0) < 13:
            raise LogsError("loki config: allow_structured_metadata needs schema v13 in the active period (got %s)" % active.get("schema"))
        if active.get("store") != "tsdb":
            raise LogsError("loki config: allow_structured_metadata needs the tsdb index in the active period (got %s)" % active.get("store"))
    compactor = config.get("compactor") or {}
    if compactor.get("retention_enabled") and not compactor.get("delete_request_store"):
        raise LogsError("loki config: compactor.retention_enabled needs compactor.delete_request_store "
                        "(Loki: 'compactor.delete-request-store should be configured when retention is enabled')")
    if any(p.get("store") == "tsdb" for p in periods):
        shipper = (config.get("storage_config") or {}).get("tsdb_shipper") or {}
        has_prefix = bool((config.get("common") or {}).get("path_prefix"))
        if not has_prefix and not (shipper.get("active_index_directory") and shipper.get("cache_location")):
            raise LogsError("loki config: tsdb needs storage_config.tsdb_shipper active_index_directory and cache_location")
        if not has_prefix and not compactor.get("working_directory"):
            raise LogsError("loki config: compactor.working_directory is required with tsdb")
    if "retention_period" in limits:
        _duration_seconds(limits["retention_period"], "limits_config.retention_period")
    return True


# --------------------------------------------------------------------------- sources

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
    # type: defaults
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
    "acl_paths",
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


def _labels_ok(names, where):
    for name in names:
        if not _LABEL_NAME.match(name) or name.startswith("__"):
            raise LogsError("%s: '%s' is not a valid label name" % (where, name))
        if name.lower() in FORBIDDEN_LABELS:
            raise LogsError(
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


def _source_pipeline(src):
    """The neutral pipeline of one normalised source."""
    kind, fmt = src["type"], src.get("format")
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
        stages += _regex_pipeline(NGINX_ERROR, labels, meta, {"source": "time", "format": "2006/01/02 15:04:05"})
    elif kind == "postgresql":
        stages += _regex_pipeline(
            POSTGRESQL_LINE, labels, meta, {"source": "time", "format": "2006-01-02 15:04:05 MST"},
            extra=[{"type": "regex", "source": "message", "expression": POSTGRESQL_SLOW}])
    elif kind == "odoo":
        stages += _regex_pipeline(ODOO_LINE, labels, meta,
                                  {"source": "time", "format": "2006-01-02 15:04:05,000", "location": "UTC"})
    elif fmt == "json":
        stages += _json_pipeline(src["json_fields"], labels, meta)
    elif fmt == "regex":
        ts = src.get("timestamp") or None
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


def _normalise_source(raw, index, static):
    where = "log_sources[%d]" % index
    if not isinstance(raw, dict):
        raise LogsError("%s: a source must be a mapping" % where)
    unknown = sorted(set(raw) - _SOURCE_KEYS)
    if unknown:
        raise LogsError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))
    name = str(raw.get("name") or "")
    where = "log source '%s'" % name if name else where
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise LogsError("%s: 'name' must match [a-z][a-z0-9_]* (it names pipeline components)" % where)
    kind = raw.get("type")
    if kind not in SOURCE_TYPES:
        raise LogsError("%s: type must be one of %s, got '%s'" % (where, ", ".join(sorted(SOURCE_TYPES)), kind))
    defaults = SOURCE_TYPES[kind]
    fmt = raw.get("format", defaults.get("format"))
    if kind in _FORMATS and fmt not in _FORMATS[kind]:
        raise LogsError("%s: format must be one of %s, got '%s'" % (where, ", ".join(_FORMATS[kind]), fmt))
    paths = raw.get("paths", defaults["paths"])
    if kind == "journal":
        if raw.get("paths"):
            raise LogsError("%s: a journal source reads the journal, not paths" % where)
        paths = []
    else:
        if isinstance(paths, str):
            paths = [paths]
        if not paths:
            raise LogsError("%s: 'paths' is required for type %s" % (where, kind))
        for path in paths:
            if not str(path).startswith("/"):
                raise LogsError("%s: path '%s' must be absolute" % (where, path))
    job = raw.get("job") or defaults["job"] or name
    type_labels, type_meta = _TYPE_LABELS[kind]
    label_fields = list(raw.get("label_fields", type_labels))
    metadata_fields = list(raw.get("metadata_fields", type_meta))
    _labels_ok(label_fields, where + " label_fields")
    extra_labels = dict(raw.get("labels") or {})
    _labels_ok(extra_labels, where + " labels")
    if fmt == "regex":
        if not raw.get("expression"):
            raise LogsError("%s: format regex needs 'expression' with named groups" % where)
        try:
            groups = set(re.compile(raw["expression"]).groupindex)
        except re.error as exc:
            raise LogsError("%s: expression does not compile: %s" % (where, exc)) from exc
        missing = [f for f in label_fields + metadata_fields if f not in groups]
        if missing:
            raise LogsError("%s: field(s) %s are not named groups of the expression" % (where, ", ".join(missing)))
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
    }
    if kind == "journal":
        _duration_seconds(src["max_age"], where + " max_age")
    src["pipeline"] = _source_pipeline(src)
    return src


def log_sources(catalogue, enabled=None, host="", environment=""):
    """Normalise a source catalogue (list, or dict name -> source) into the list both agents render.

    ``enabled`` is a list of source names to keep (None keeps every source whose ``enabled`` is not false).
    ``host`` and ``environment`` become static labels of every stream, with ``job``.
    """
    if isinstance(catalogue, dict):
        catalogue = [dict(v or {}, name=v.get("name", k) if isinstance(v, dict) else k) for k, v in sorted(catalogue.items())]
    if not isinstance(catalogue, list):
        raise LogsError("log_sources: the catalogue must be a list of sources or a mapping name -> source")
    static = {"host": host, "environment": environment}
    out, seen = [], set()
    for i, raw in enumerate(catalogue):
        src = _normalise_source(raw, i, static)
        if src["name"] in seen:
            raise LogsError("log_sources: source name '%s' is used twice" % src["name"])
        seen.add(src["name"])
        on = raw.get("enabled", True) if enabled is None else src["name"] in enabled
        if on:
            out.append(src)
    if enabled is not None:
        unknown = sorted(set(enabled) - seen)
        if unknown:
            raise LogsError("log_sources: enabled names %s are not in the catalogue" % ", ".join(unknown))
    return out


def _check_sources(sources):
    if not isinstance(sources, list):
        raise LogsError("expected the list returned by monitoring.stack.log_sources")
    for src in sources:
        if not isinstance(src, dict) or "pipeline" not in src:
            raise LogsError("expected sources normalised by monitoring.stack.log_sources (missing 'pipeline')")


# --------------------------------------------------------------------------- clients

AGENT_DEFAULTS = {
    "loki_url": "http://127.0.0.1:3100/loki/api/v1/push",
    "tenant_id": "",
    "basic_auth_username": "",
    "basic_auth_password": "",
    "basic_auth_password_file": "",
    "http_listen_address": "127.0.0.1",
    "http_listen_port": 9080,
    "positions_file": "/var/lib/promtail/positions.yaml",
    "log_level": "info",
    "external_labels": {},
}


def _agent_settings(settings):
    s = dict(AGENT_DEFAULTS, **(settings or {}))
    unknown = sorted(set(s) - set(AGENT_DEFAULTS))
    if unknown:
        raise LogsError("agent settings: unknown key(s) %s" % ", ".join(unknown))
    if not re.match(r"^https?://", str(s["loki_url"])):
        raise LogsError("agent settings: loki_url must be an http(s) URL, got '%s'" % s["loki_url"])
    if s["basic_auth_password"] and s["basic_auth_password_file"]:
        raise LogsError("agent settings: set basic_auth_password or basic_auth_password_file, not both")
    if (s["basic_auth_password"] or s["basic_auth_password_file"]) and not s["basic_auth_username"]:
        raise LogsError("agent settings: basic auth needs basic_auth_username")
    _labels_ok(s["external_labels"], "external_labels")
    return s


# --------------------------------------------------------------------------- Promtail

def _promtail_stage(stage):
    kind = stage["type"]
    if kind == "regex":
        body = {"expression": stage["expression"]}
        if stage.get("source"):
            body["source"] = stage["source"]
        return {"regex": body}
    if kind == "json":
        return {"json": {"expressions": dict(stage["expressions"])}}
    if kind in ("labels", "structured_metadata"):
        return {kind: dict(stage["values"])}
    if kind == "timestamp":
        body = {k: stage[k] for k in ("source", "format", "fallback_formats", "location") if stage.get(k)}
        body["action_on_failure"] = "fudge"
        return {"timestamp": body}
    if kind == "multiline":
        return {"multiline": {"firstline": stage["firstline"], "max_wait_time": stage["max_wait_time"]}}
    raise LogsError("internal: unknown stage %s" % kind)


def _exclude_glob(patterns):
    """One doublestar pattern for several exclusions ({a,b} alternatives)."""
    return patterns[0] if len(patterns) == 1 else "{%s}" % ",".join(patterns)


def _journal_relabel(src):
    rules = [
        {"source_labels": ["__journal__systemd_unit"], "target_label": "unit"},
        {"source_labels": ["__journal_priority_keyword"], "target_label": "level"},
    ]
    if src["units"]:
        rules.append({"source_labels": ["__journal__systemd_unit"], "regex": "(%s)" % "|".join(re.escape(u) for u in src["units"]),
                      "action": "keep"})
    return rules


def promtail_config(sources, settings=None):
    """Build the Promtail configuration dict for normalised sources."""
    _check_sources(sources)
    s = _agent_settings(settings)
    client = {"url": s["loki_url"]}
    if s["tenant_id"]:
        client["tenant_id"] = s["tenant_id"]
    if s["basic_auth_username"]:
        auth = {"username": s["basic_auth_username"]}
        if s["basic_auth_password_file"]:
            auth["password_file"] = s["basic_auth_password_file"]
        elif s["basic_auth_password"]:
            auth["password"] = s["basic_auth_password"]
        client["basic_auth"] = auth
    if s["external_labels"]:
        client["external_labels"] = dict(s["external_labels"])
    scrape = []
    for src in sources:
        job = {"job_name": src["name"]}
        if src["kind"] == "journal":
            job["journal"] = {"json": False, "max_age": src["max_age"], "labels": dict(src["labels"])}
            job["relabel_configs"] = _journal_relabel(src)
        else:
            job["static_configs"] = []
            for path in src["paths"]:
                target = dict(src["labels"], __path__=path)
                if src["exclude"]:
                    target["__path_exclude__"] = _exclude_glob(src["exclude"])
                job["static_configs"].append({"targets": ["localhost"], "labels": target})
        stages = [_promtail_stage(st) for st in src["pipeline"]]
        if stages:
            job["pipeline_stages"] = stages
        scrape.append(job)
    return {
        "server": {
            "http_listen_address": s["http_listen_address"],
            "http_listen_port": int(s["http_listen_port"]),
            "grpc_listen_port": 0,
            "log_level": s["log_level"],
        },
        "positions": {"filename": s["positions_file"]},
        "clients": [client],
        "scrape_configs": scrape,
    }


# --------------------------------------------------------------------------- Alloy

def _q(value):
    """An Alloy string literal."""
    return json.dumps(str(value), ensure_ascii=False)


def _obj(mapping):
    return "{%s}" % ", ".join("%s = %s" % (_q(k), _q(v)) for k, v in sorted(mapping.items()))


def _alloy_stage(stage, indent="  "):
    kind = stage["type"]
    body = []
    if kind == "regex":
        body.append(("expression", _q(stage["expression"])))
        if stage.get("source"):
            body.append(("source", _q(stage["source"])))
    elif kind == "json":
        body.append(("expressions", _obj(stage["expressions"])))
    elif kind in ("labels", "structured_metadata"):
        body.append(("values", _obj(stage["values"])))
    elif kind == "timestamp":
        for key in ("source", "format", "location"):
            if stage.get(key):
                body.append((key, _q(stage[key])))
        if stage.get("fallback_formats"):
            body.append(("fallback_formats", "[%s]" % ", ".join(_q(f) for f in stage["fallback_formats"])))
        body.append(("action_on_failure", _q("fudge")))
    elif kind == "multiline":
        body.append(("firstline", _q(stage["firstline"])))
        body.append(("max_wait_time", _q(stage["max_wait_time"])))
    else:
        raise LogsError("internal: unknown stage %s" % kind)
    width = max(len(key) for key, _value in body)
    lines = ["%sstage.%s {" % (indent, kind)]
    lines += ["%s  %s = %s" % (indent, k.ljust(width), v) for k, v in body]
    lines.append("%s}" % indent)
    return lines


def alloy_config(sources, settings=None):
    """Build the Alloy configuration text (Alloy syntax) for normalised sources."""
    _check_sources(sources)
    s = _agent_settings(settings)
    out = ['logging {', '  level  = %s' % _q(s["log_level"]), '  format = "logfmt"', '}', '']
    for src in sources:
        name = src["name"]
        out.append("// %s (%s)" % (name, src["type"]))
        if src["kind"] == "journal":
            out.append('loki.relabel "%s" {' % name)
            out.append("  forward_to = []")
            for rule in _journal_relabel(src):
                out.append("")
                out.append("  rule {")
                out.append("    source_labels = [%s]" % ", ".join(_q(x) for x in rule["source_labels"]))
                if "target_label" in rule:
                    out.append("    target_label  = %s" % _q(rule["target_label"]))
                if "regex" in rule:
                    out.append("    regex         = %s" % _q(rule["regex"]))
                if "action" in rule:
                    out.append("    action        = %s" % _q(rule["action"]))
                out.append("  }")
            out.append("}")
            out.append("")
            out.append('loki.source.journal "%s" {' % name)
            out.append("  max_age       = %s" % _q(src["max_age"]))
            out.append("  labels        = %s" % _obj(src["labels"]))
            out.append("  relabel_rules = loki.relabel.%s.rules" % name)
            out.append("  forward_to    = [loki.process.%s.receiver]" % name)
            out.append("}")
        else:
            out.append('local.file_match "%s" {' % name)
            out.append("  path_targets = [")
            for path in src["paths"]:
                target = dict(src["labels"], __path__=path)
                if src["exclude"]:
                    target["__path_exclude__"] = _exclude_glob(src["exclude"])
                out.append("    %s," % _obj(target))
            out.append("  ]")
            out.append("}")
            out.append("")
            out.append('loki.source.file "%s" {' % name)
            out.append("  targets    = local.file_match.%s.targets" % name)
            out.append("  forward_to = [loki.process.%s.receiver]" % name)
            out.append("}")
        out.append("")
        out.append('loki.process "%s" {' % name)
        out.append("  forward_to = [loki.write.default.receiver]")
        for stage in src["pipeline"]:
            out.append("")
            out.extend(_alloy_stage(stage))
        out.append("}")
        out.append("")
    out.append('loki.write "default" {')
    out.append("  endpoint {")
    out.append("    url = %s" % _q(s["loki_url"]))
    if s["tenant_id"]:
        out.append("    tenant_id = %s" % _q(s["tenant_id"]))
    if s["basic_auth_username"]:
        out.append("")
        out.append("    basic_auth {")
        out.append("      username = %s" % _q(s["basic_auth_username"]))
        if s["basic_auth_password_file"]:
            out.append("      password_file = %s" % _q(s["basic_auth_password_file"]))
        elif s["basic_auth_password"]:
            out.append("      password = %s" % _q(s["basic_auth_password"]))
        out.append("    }")
    out.append("  }")
    if s["external_labels"]:
        out.append("  external_labels = %s" % _obj(s["external_labels"]))
    out.append("}")
    return "\n".join(out) + "\n"
