# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loki: the single-binary configuration, its structural checks and append-only schema periods.

Follows Loki 3.5 ``docs/sources/shared/configuration.md`` and ``pkg/loki/validation.go``.
Bad settings raise :class:`SpecError` with a message a user can act on.
"""

from __future__ import annotations

import copy
import datetime
import json
import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, deep_merge, did_you_mean, parse_duration, unknown_keys_text

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _hours(value, what):
    """Render a duration as whole hours (``30d`` -> ``720h``), the form Loki prints back."""
    seconds = parse_duration(value, what)
    if seconds % 3600:
        raise SpecError("%s: '%s' must be a whole number of hours" % (what, value))
    return "%dh" % (seconds // 3600)


def _as_date(value, what):
    """Normalise a YAML date, datetime or 'YYYY-MM-DD' string to 'YYYY-MM-DD'."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value or "").strip()
    if not _DATE.match(text):
        raise SpecError("%s: 'from' must be a date YYYY-MM-DD, got '%s'" % (what, value))
    try:
        datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise SpecError("%s: 'from' is not a valid date: %s" % (what, exc)) from exc
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
    "http_tls": {},
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

# The top-level keys of a Loki 3.x configuration: the root block of the generated reference
# grafana/loki v3.7.1:docs/sources/shared/configuration.md (tests/unit/plugins/filter/data/loki_3_7_keys.yml
# holds the whole key tree; a test checks this list against it).
LOKI_TOP_LEVEL_KEYS = frozenset([
    "analytics", "auth_enabled", "ballast_bytes", "bloom_build", "bloom_gateway", "chunk_store_config", "common",
    "compactor", "compactor_grpc_client", "dataobj", "distributor", "frontend", "frontend_worker", "index_gateway",
    "ingest_limits", "ingest_limits_frontend", "ingest_limits_frontend_client", "ingester", "ingester_client",
    "kafka_config", "limits_config", "memberlist", "metrics_namespace", "operational_config", "pattern_ingester",
    "profiling", "querier", "query_engine", "query_range", "query_scheduler", "ruler", "ruler_storage",
    "runtime_config", "schema_config", "server", "shutdown_delay", "storage_config", "table_manager", "target",
    "tenant_limits_allow_publish", "tracing", "ui",
])

# Keys read from a period dict; everything else is refused (typos must not pass silently).
_PERIOD_KEYS = ("from", "store", "object_store", "schema", "index")
_PERIOD_INDEX_KEYS = ("prefix", "period", "path_prefix", "tags")


def _normalise_period(period, where, default_object_store="filesystem"):
    if not isinstance(period, dict):
        raise SpecError("%s: a schema period must be a mapping, got %r" % (where, period))
    unknown = unknown_keys_text(period, _PERIOD_KEYS + ("chunks", "row_shards"), "schema period key")
    if unknown:
        raise SpecError("%s: %s" % (where, unknown))
    index = dict(period.get("index") or {})
    unknown = unknown_keys_text(index, _PERIOD_INDEX_KEYS, "index key")
    if unknown:
        raise SpecError("%s: %s" % (where, unknown))
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
        raise SpecError("%s: schema must look like v13, got '%s'" % (where, out["schema"]))
    if out["store"] == "tsdb" and out["index"]["period"] != "24h":
        raise SpecError("%s: tsdb must always have the index period set to 24h (Loki refuses %s)" % (where, out["index"]["period"]))
    if int(out["schema"][1:]) >= 13 and out["store"] != "tsdb":
        raise SpecError("%s: schema %s needs store tsdb (got '%s')" % (where, out["schema"], out["store"]))
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
            raise SpecError("existing: expected a Loki config with schema_config.configs, got keys %s" % ", ".join(sorted(existing)))
    if not isinstance(existing, list):
        raise SpecError("existing: expected a list of schema periods")
    return existing


def _check_increasing(periods, where):
    for before, after in zip(periods, periods[1:]):
        if after["from"] <= before["from"]:
            raise SpecError(
                "%s: 'from' dates must be distinct and increasing (%s then %s)" % (where, before["from"], after["from"]))


def loki_schema_periods(desired, existing=None, today=None, default_object_store="filesystem"):
    """Return the schema periods to deploy, refusing any change that would corrupt stored data.

    Loki reads each day of data with the period whose ``from`` covers it. So periods may
    only be appended, each starting strictly after today (UTC); a deployed period may never be
    rewritten or removed.  ``existing`` is the config read from the host (or its period list).
    """
    if not isinstance(desired, list) or not desired:
        raise SpecError("loki schema periods: at least one period is required (Loki: 'must specify at least one schema configuration')")
    want = [_normalise_period(p, "schema period %d" % i, default_object_store) for i, p in enumerate(desired)]
    _check_increasing(want, "schema periods")
    have_raw = _existing_periods(existing)
    if not have_raw:
        return want
    have = [_normalise_period(p, "deployed schema period %d" % i, default_object_store=p.get("object_store", "filesystem"))
            for i, p in enumerate(have_raw)]
    if len(want) < len(have):
        missing = ", ".join(p["from"] for p in have[len(want):])
        raise SpecError(
            "loki schema periods: the deployed period(s) starting %s would be removed. Periods are append-only: "
            "keep every deployed period and add a new one dated after today." % missing)
    for i, (old, new) in enumerate(zip(have, want)):
        if old != new:
            raise SpecError(
                "loki schema periods: period %d (from %s) is deployed as %s and would be rewritten to %s. "
                "Never change a deployed period; append a new period with a future 'from' date instead."
                % (i, old["from"], json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True)))
    day = _today(today).isoformat()
    for new in want[len(have):]:
        if new["from"] <= day:
            raise SpecError(
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
    unknown = unknown_keys_text(s3, allowed)
    if unknown:
        raise SpecError("loki s3 storage: %s" % unknown)
    if not s3.get("bucketnames"):
        raise SpecError("loki s3 storage: 'bucketnames' is required when storage is s3")
    return {k: copy.deepcopy(v) for k, v in s3.items() if v not in (None, "")}


def loki_config(settings=None):
    """Build the Loki 3.x single-binary configuration dict from flat settings."""
    settings = settings or {}
    if not isinstance(settings, dict):
        raise SpecError("expected a mapping of settings (keys of LOKI_DEFAULTS), got %s" % type(settings).__name__)
    unknown = unknown_keys_text(settings, LOKI_DEFAULTS, "setting")
    if unknown:
        raise SpecError(unknown)
    s = deep_merge(LOKI_DEFAULTS, settings)
    if s["storage"] not in ("filesystem", "s3"):
        raise SpecError("storage must be filesystem or s3, got '%s'" % s["storage"])
    prefix = str(s["path_prefix"]).rstrip("/")
    if not prefix.startswith("/"):
        raise SpecError("path_prefix must be an absolute path, got '%s'" % s["path_prefix"])

    periods = s["schema_periods"] or [_default_period()]
    if not isinstance(periods, list) or not all(isinstance(p, dict) for p in periods):
        raise SpecError("schema_periods must be a list of mappings")
    periods = [_normalise_period(dict(p, object_store=p.get("object_store", s["storage"])), "schema period %d" % i)
               for i, p in enumerate(periods)]
    _check_increasing(periods, "schema periods")

    common_storage = {"filesystem": {"chunks_directory": prefix + "/chunks", "rules_directory": prefix + "/rules"}}
    if s["storage"] == "s3":
        common_storage = {"s3": _s3_block(s["s3"] or {})}

    retention_period = _hours(s["retention_period"], "retention_period")
    delete_store = s["delete_request_store"] or s["storage"]
    if s["retention_enabled"] and not delete_store:
        raise SpecError("retention_enabled needs compactor.delete_request_store (filesystem or s3)")
    if delete_store not in ("filesystem", "s3"):
        raise SpecError("delete_request_store must be filesystem or s3, got '%s'" % delete_store)

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
    if s["http_tls"]:
        tls = s["http_tls"]
        if not isinstance(tls, dict) or not tls.get("cert_file") or not tls.get("key_file"):
            raise SpecError("loki http_tls needs cert_file and key_file, got %r" % (tls,))
        config["server"]["http_tls_config"] = {"cert_file": tls["cert_file"], "key_file": tls["key_file"]}
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
        unknown = unknown_keys_text(ruler, _RULER_KEYS, "ruler setting")
        if unknown:
            raise SpecError("loki ruler: %s" % unknown)
        for key in _RULER_KEYS[2:]:
            if ruler.get(key) not in (None, "", {}):
                config["ruler"][key] = copy.deepcopy(ruler[key])
    problems = loki_config_extra_problems(s["extra"])
    if problems:
        raise SpecError("; ".join(problems) + " (Loki would refuse to start)")
    config = deep_merge(config, s["extra"])
    check_loki_config(config)
    return config


def loki_config_extra_problems(extra):
    """The keys of ``loki_config_extra`` Loki 3.x does not know, each with a did-you-mean ([] when all are known)."""
    if extra in (None, ""):
        return []
    if not isinstance(extra, dict):
        return ["loki_config_extra must be a mapping of Loki configuration keys, got %s" % type(extra).__name__]
    return ["loki_config_extra: '%s' is not a top-level key of the Loki 3.x configuration%s"
            % (key, did_you_mean(key, sorted(LOKI_TOP_LEVEL_KEYS))) for key in sorted(map(str, extra)) if key not in LOKI_TOP_LEVEL_KEYS]


# enabled, rules_directory, then keys copied as they are into Loki's ruler block.
_RULER_KEYS = ("enabled", "rules_directory", "alertmanager_url", "enable_alertmanager_v2", "alertmanager_client",
               "external_url", "evaluation_interval", "poll_interval")


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
        raise SpecError("loki config: schema_config.configs must hold at least one period")
    for i, period in enumerate(periods):
        index = period.get("index") or {}
        if period.get("store") == "tsdb" and index.get("period") not in ("24h", 86400):
            raise SpecError("loki config: period %d: tsdb must always have the index period set to 24h" % i)
        if str(period.get("schema", "")).lstrip("v").isdigit() and int(str(period["schema"]).lstrip("v")) >= 13 \
                and period.get("store") != "tsdb":
            raise SpecError("loki config: period %d: schema %s requires store tsdb" % (i, period.get("schema")))
    limits = config.get("limits_config") or {}
    active = _active_period(periods, today)
    if limits.get("allow_structured_metadata", True):
        if int(str(active.get("schema", "v0")).lstrip("v") or 0) < 13:
            raise SpecError("loki config: allow_structured_metadata needs schema v13 in the active period (got %s)" % active.get("schema"))
        if active.get("store") != "tsdb":
            raise SpecError("loki config: allow_structured_metadata needs the tsdb index in the active period (got %s)" % active.get("store"))
    compactor = config.get("compactor") or {}
    if compactor.get("retention_enabled") and not compactor.get("delete_request_store"):
        raise SpecError("loki config: compactor.retention_enabled needs compactor.delete_request_store "
                        "(Loki: 'compactor.delete-request-store should be configured when retention is enabled')")
    if any(p.get("store") == "tsdb" for p in periods):
        shipper = (config.get("storage_config") or {}).get("tsdb_shipper") or {}
        has_prefix = bool((config.get("common") or {}).get("path_prefix"))
        if not has_prefix and not (shipper.get("active_index_directory") and shipper.get("cache_location")):
            raise SpecError("loki config: tsdb needs storage_config.tsdb_shipper active_index_directory and cache_location")
        if not has_prefix and not compactor.get("working_directory"):
            raise SpecError("loki config: compactor.working_directory is required with tsdb")
    if "retention_period" in limits:
        parse_duration(limits["retention_period"], "limits_config.retention_period")
    return True
