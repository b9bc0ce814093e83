# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenTelemetry Collector (contrib distribution) configuration from a compact spec.

:func:`otel_collector_config` builds the whole config.yaml of ``otelcol-contrib``: the OTLP receiver
(gRPC and HTTP), the processors memory_limiter -> resource -> batch (the order the upstream processor
README recommends: memory_limiter first, batch last), one exporter per signal, the extensions
(health_check, basicauth per exporter with credentials) and the service section (pipelines,
internal telemetry). Only signals with an exporter get a pipeline; a spec without any is refused.

Exporters per signal::

    metrics: prometheusremotewrite (Prometheus --web.enable-remote-write-receiver, Mimir, ...)
             otlphttp (Prometheus 3's OTLP receiver: endpoint <prometheus>/api/v1/otlp) or otlp (gRPC)
    logs:    loki (Loki 3's native OTLP endpoint <loki>/otlp through otlphttp, tenant as X-Scope-OrgID),
             otlphttp or otlp
    traces:  otlp (gRPC, Tempo or Jaeger on :4317) or otlphttp (:4318)

Bad input raises :class:`SpecError` naming the section and the field.
"""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._spec import (
    SpecError,
    check_duration,
    check_keys,
    deep_merge,
)

KIND = "otel_collector"
SPEC_KEYS = ("receivers", "memory_limiter", "batch", "resource", "metrics", "logs", "traces", "telemetry",
             "health_check", "extra")
RECEIVER_KEYS = ("grpc", "http", "tls", "cors_allowed_origins")
SERVER_TLS_KEYS = ("cert_file", "key_file", "client_ca_file", "min_version")
MEMORY_LIMITER_KEYS = ("check_interval", "limit_mib", "spike_limit_mib", "limit_percentage", "spike_limit_percentage")
BATCH_KEYS = ("timeout", "send_batch_size", "send_batch_max_size")
EXPORTER_KEYS = ("type", "endpoint", "tls", "headers", "basic_auth", "compression", "timeout", "tenant_id",
                 "resource_to_telemetry_conversion")
CLIENT_TLS_KEYS = ("insecure", "ca_file", "cert_file", "key_file", "insecure_skip_verify", "server_name_override", "min_version")
TELEMETRY_KEYS = ("metrics_address", "level", "log_level")
TELEMETRY_LEVELS = ("none", "basic", "normal", "detailed")
LOG_LEVELS = ("debug", "info", "warn", "error")
# Exporter types per signal, and the component each renders to.
EXPORTERS = {
    "metrics": {"prometheusremotewrite": "prometheusremotewrite", "otlphttp": "otlphttp/metrics", "otlp": "otlp/metrics"},
    "logs": {"loki": "otlphttp/loki", "otlphttp": "otlphttp/logs", "otlp": "otlp/logs"},
    "traces": {"otlp": "otlp/traces", "otlphttp": "otlphttp/traces"},
}
SIGNALS = ("traces", "metrics", "logs")


def _error(section, field, message):
    return SpecError(section, field, message, kind=KIND)


def _address(section, field, value):
    """``host:port`` (host may be empty for all interfaces, ``[::]:4317`` for IPv6)."""
    text = str(value)
    host, _sep, port = text.rpartition(":")
    if not _sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise _error(section, field, "expected host:port such as 0.0.0.0:4317, got %r" % (value,))
    return text if host else "0.0.0.0:%s" % port


def _positive_int(section, field, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _error(section, field, "expected a positive whole number, got %r" % (value,))
    return value


def _tls(section, tls, keys):
    if not tls:
        return None
    check_keys(section, tls, keys, field="tls", kind=KIND)
    if bool(tls.get("cert_file")) != bool(tls.get("key_file")):
        raise _error(section, "tls", "cert_file and key_file go together")
    for key in ("cert_file", "key_file", "ca_file", "client_ca_file"):
        if tls.get(key) and not str(tls[key]).startswith("/"):
            raise _error(section, "tls." + key, "needs an absolute path on the collector host, got %r" % (tls[key],))
    return {key: value for key, value in tls.items() if value not in (None, "")}


def _receivers(spec):
    spec = {"grpc": "0.0.0.0:4317", "http": "0.0.0.0:4318"} if spec is None else spec
    check_keys("receivers", spec, RECEIVER_KEYS, field="receivers", kind=KIND)
    tls = _tls("receivers", spec.get("tls"), SERVER_TLS_KEYS)
    protocols = {}
    for protocol in ("grpc", "http"):
        if spec.get(protocol):
            protocols[protocol] = {"endpoint": _address("receivers", protocol, spec[protocol])}
            if tls:
                protocols[protocol]["tls"] = dict(tls)
    if not protocols:
        raise _error("receivers", "grpc", "give the listen address of OTLP gRPC, OTLP HTTP or both")
    origins = spec.get("cors_allowed_origins") or []
    if origins:
        if "http" not in protocols or not isinstance(origins, list):
            raise _error("receivers", "cors_allowed_origins", "a list of origins, for the OTLP HTTP receiver")
        protocols["http"]["cors"] = {"allowed_origins": [str(origin) for origin in origins]}
    return {"otlp": {"protocols": protocols}}


def _memory_limiter(spec):
    spec = {"limit_mib": 512, "spike_limit_mib": 128} if spec is None else spec
    check_keys("memory_limiter", spec, MEMORY_LIMITER_KEYS, field="memory_limiter", kind=KIND)
    result = {"check_interval": check_duration("memory_limiter", "check_interval", spec.get("check_interval") or "1s", kind=KIND)}
    mib = [key for key in ("limit_mib", "spike_limit_mib") if spec.get(key) is not None]
    percent = [key for key in ("limit_percentage", "spike_limit_percentage") if spec.get(key) is not None]
    if mib and percent or not (mib or percent):
        raise _error("memory_limiter", "limit_mib",
                     "give limit_mib (and spike_limit_mib) or limit_percentage (and spike_limit_percentage), not both")
    for key in mib + percent:
        result[key] = _positive_int("memory_limiter", key, spec[key])
    limit, spike = ("limit_mib", "spike_limit_mib") if mib else ("limit_percentage", "spike_limit_percentage")
    if spike in result and limit in result and result[spike] >= result[limit]:
        raise _error("memory_limiter", spike, "must be below %s" % limit)
    return result


def _batch(spec):
    spec = {} if spec is None else spec
    check_keys("batch", spec, BATCH_KEYS, field="batch", kind=KIND)
    result = {"timeout": check_duration("batch", "timeout", spec.get("timeout") or "5s", kind=KIND),
              "send_batch_size": _positive_int("batch", "send_batch_size", spec.get("send_batch_size", 8192))}
    if spec.get("send_batch_max_size") is not None:
        result["send_batch_max_size"] = _positive_int("batch", "send_batch_max_size", spec["send_batch_max_size"])
        if result["send_batch_max_size"] < result["send_batch_size"]:
            raise _error("batch", "send_batch_max_size", "must not be below send_batch_size")
    return result


def _resource(spec):
    """``{attribute: value}`` -> upsert actions (value null: delete), in key order."""
    spec = spec or {}
    if not isinstance(spec, dict):
        raise _error("resource", "resource", "expected a mapping of resource attribute to value (null deletes it)")
    actions = []
    for key in sorted(spec):
        if spec[key] is None:
            actions.append({"key": str(key), "action": "delete"})
        elif isinstance(spec[key], (str, int, float, bool)):
            actions.append({"key": str(key), "value": spec[key], "action": "upsert"})
        else:
            raise _error("resource", key, "expected a string, number, boolean or null, got %r" % (spec[key],))
    return {"attributes": actions} if actions else None


def _exporter(signal, spec, extensions):
    """``(component name, config)`` of the exporter of one signal; basicauth extensions are added to ``extensions``."""
    check_keys(signal, spec, EXPORTER_KEYS, field=signal, kind=KIND)
    kind = spec.get("type")
    if kind not in EXPORTERS[signal]:
        raise _error(signal, "type", "expected one of %s, got %r" % (", ".join(EXPORTERS[signal]), kind))
    name = EXPORTERS[signal][kind]
    endpoint = spec.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise _error(signal, "endpoint", "the URL (otlphttp, loki, prometheusremotewrite) or host:port (otlp) to send to")
    if kind != "otlp" and not endpoint.startswith(("http://", "https://")):
        raise _error(signal, "endpoint", "a %s exporter needs an http:// or https:// URL, got %r" % (kind, endpoint))
    if kind == "loki":
        endpoint = endpoint.rstrip("/")
        if not endpoint.endswith("/otlp"):
            raise _error(signal, "endpoint", "Loki's OTLP endpoint ends in /otlp (the exporter adds /v1/logs), got %r" % endpoint)
    config = {"endpoint": endpoint}
    tls = _tls(signal, spec.get("tls"), CLIENT_TLS_KEYS)
    if tls:
        config["tls"] = tls
    headers = dict(spec.get("headers") or {})
    if spec.get("tenant_id"):
        if kind != "loki":
            raise _error(signal, "tenant_id", "only for the loki exporter (sent as X-Scope-OrgID)")
        headers["X-Scope-OrgID"] = str(spec["tenant_id"])
    if headers:
        config["headers"] = {str(key): str(value) for key, value in headers.items()}
    for key in ("compression", "timeout"):
        if spec.get(key):
            config[key] = spec[key] if key == "compression" else check_duration(signal, key, spec[key], kind=KIND)
    if spec.get("resource_to_telemetry_conversion") is not None:
        if kind != "prometheusremotewrite":
            raise _error(signal, "resource_to_telemetry_conversion", "only for the prometheusremotewrite exporter")
        config["resource_to_telemetry_conversion"] = {"enabled": bool(spec["resource_to_telemetry_conversion"])}
    basic = spec.get("basic_auth")
    if basic:
        check_keys(signal, basic, ("username", "password"), field="basic_auth", kind=KIND)
        if not basic.get("username") or not basic.get("password"):
            raise _error(signal, "basic_auth", "give username and password")
        authenticator = "basicauth/%s" % signal
        extensions[authenticator] = {"client_auth": {"username": str(basic["username"]), "password": str(basic["password"])}}
        config["auth"] = {"authenticator": authenticator}
    return name, config


def _telemetry(spec):
    spec = {} if spec is None else spec
    check_keys("telemetry", spec, TELEMETRY_KEYS, field="telemetry", kind=KIND)
    level = spec.get("level") or "normal"
    log_level = spec.get("log_level") or "info"
    if level not in TELEMETRY_LEVELS:
        raise _error("telemetry", "level", "expected one of %s, got %r" % (", ".join(TELEMETRY_LEVELS), level))
    if log_level not in LOG_LEVELS:
        raise _error("telemetry", "log_level", "expected one of %s, got %r" % (", ".join(LOG_LEVELS), log_level))
    telemetry = {"logs": {"level": log_level}, "metrics": {"level": level}}
    address = spec.get("metrics_address", "127.0.0.1:8888")
    if address and level != "none":
        host, _sep, port = _address("telemetry", "metrics_address", address).rpartition(":")
        reader = {"pull": {"exporter": {"prometheus": {"host": host.strip("[]"), "port": int(port)}}}}
        telemetry["metrics"]["readers"] = [reader]
    return telemetry


def otel_collector_config(spec):
    """The compact spec -> the collector's config.yaml as a dict (see the module docstring)."""
    check_keys("collector", spec, SPEC_KEYS, field="spec", kind=KIND)
    extensions = {}
    exporters = {}
    pipeline_exporters = {}
    for signal in SIGNALS:
        if spec.get(signal):
            name, config = _exporter(signal, spec[signal], extensions)
            exporters[name] = config
            pipeline_exporters[signal] = [name]
    if not exporters:
        raise _error("collector", "metrics", "give at least one exporter (metrics, logs or traces): a collector without a "
                                             "pipeline does not start")
    processors = {"memory_limiter": _memory_limiter(spec.get("memory_limiter"))}
    resource = _resource(spec.get("resource"))
    if resource:
        processors["resource"] = resource
    processors["batch"] = _batch(spec.get("batch"))
    health = spec.get("health_check", "127.0.0.1:13133")
    if health:
        extensions = dict({"health_check": {"endpoint": _address("health_check", "health_check", health)}}, **extensions)
    pipelines = {signal: {"receivers": ["otlp"], "processors": list(processors), "exporters": pipeline_exporters[signal]}
                 for signal in SIGNALS if signal in pipeline_exporters}
    service = {"pipelines": pipelines, "telemetry": _telemetry(spec.get("telemetry"))}
    if extensions:
        service = dict({"extensions": list(extensions)}, **service)
    config = {"receivers": _receivers(spec.get("receivers")), "processors": processors, "exporters": exporters}
    if extensions:
        config["extensions"] = extensions
    config["service"] = service
    extra = spec.get("extra") or {}
    if not isinstance(extra, dict):
        raise _error("collector", "extra", "expected a mapping merged over the generated config")
    return deep_merge(config, extra) if extra else config
