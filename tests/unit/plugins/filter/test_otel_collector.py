"""Unit tests of the monitoring.stack.otel_collector_config and prometheus_otlp_sections filters.

The rendered collector config is checked against the keys each upstream component accepts. Sources of the
key lists (component configuration references of the collector 0.160 line):
  open-telemetry/opentelemetry-collector       receiver/otlpreceiver/config.md, exporter/otlpexporter/README.md,
                                               exporter/otlphttpexporter/README.md, processor/memorylimiterprocessor/README.md,
                                               processor/batchprocessor/README.md, config/configtls/README.md,
                                               docs: collector/internal-telemetry (service::telemetry readers)
  open-telemetry/opentelemetry-collector-contrib processor/resourceprocessor/README.md (attribute actions),
                                               exporter/prometheusremotewriteexporter/README.md,
                                               extension/healthcheckextension/README.md, extension/basicauthextension/README.md
and for Prometheus: prometheus/prometheus docs/configuration/configuration.md (v3.5, section ``otlp``).
"""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.otel import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._otel_collector import otel_collector_config
from ansible_collections.monitoring.stack.plugins.module_utils._otlp import prometheus_otlp_sections
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

FILTERS = FilterModule().filters()

# Keys each upstream component accepts (subsets the filter may write).
UPSTREAM = {
    "otlp_receiver_protocol_grpc": {"endpoint", "transport", "tls", "max_recv_msg_size_mib", "max_concurrent_streams",
                                    "read_buffer_size", "write_buffer_size", "keepalive", "auth", "include_metadata"},
    "otlp_receiver_protocol_http": {"endpoint", "tls", "cors", "auth", "max_request_body_size", "include_metadata",
                                    "response_headers", "traces_url_path", "metrics_url_path", "logs_url_path"},
    "tls_server": {"cert_file", "key_file", "ca_file", "client_ca_file", "min_version", "max_version",
                   "reload_interval", "cipher_suites", "include_system_ca_certs_pool", "client_ca_file_reload"},
    "tls_client": {"insecure", "ca_file", "cert_file", "key_file", "insecure_skip_verify", "server_name_override",
                   "min_version", "max_version", "reload_interval", "cipher_suites", "include_system_ca_certs_pool"},
    "memory_limiter": {"check_interval", "limit_mib", "spike_limit_mib", "limit_percentage", "spike_limit_percentage"},
    "batch": {"timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"},
    "resource_action": {"key", "value", "action", "from_attribute", "from_context", "pattern", "converted_type"},
    "resource_actions": {"insert", "update", "upsert", "delete", "hash", "extract", "convert"},
    "otlp_exporter": {"endpoint", "tls", "headers", "compression", "timeout", "keepalive", "balancer_name", "auth",
                      "sending_queue", "retry_on_failure", "read_buffer_size", "write_buffer_size"},
    "otlphttp_exporter": {"endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint", "profiles_endpoint", "tls",
                          "headers", "compression", "timeout", "encoding", "auth", "sending_queue", "retry_on_failure",
                          "read_buffer_size", "write_buffer_size", "proxy_url"},
    "prometheusremotewrite_exporter": {"endpoint", "tls", "headers", "auth", "namespace", "external_labels",
                                       "resource_to_telemetry_conversion", "timeout", "compression", "remote_write_queue",
                                       "retry_on_failure", "wal", "target_info", "send_metadata", "max_batch_size_bytes",
                                       "add_metric_suffixes", "proxy_url", "protobuf_message"},
    "health_check": {"endpoint", "path", "response_body", "tls", "check_collector_pipeline", "http", "grpc"},
    "basicauth_client": {"username", "password"},
    "service": {"extensions", "pipelines", "telemetry"},
    "pipeline": {"receivers", "processors", "exporters"},
    "telemetry_metrics": {"level", "readers", "views"},
    "telemetry_logs": {"level", "development", "encoding", "sampling", "output_paths", "error_output_paths",
                       "initial_fields", "processors"},
}
EXPORTER_KEYS = {"otlp": "otlp_exporter", "otlphttp": "otlphttp_exporter", "prometheusremotewrite": "prometheusremotewrite_exporter"}
FULL = {
    "receivers": {"grpc": "0.0.0.0:4317", "http": ":4318",
                  "tls": {"cert_file": "/etc/otelcol-contrib/tls/site.crt", "key_file": "/etc/otelcol-contrib/tls/site.key"},
                  "cors_allowed_origins": ["https://shop.example.org"]},
    "memory_limiter": {"check_interval": "2s", "limit_mib": 1024, "spike_limit_mib": 256},
    "batch": {"timeout": "10s", "send_batch_size": 1000, "send_batch_max_size": 2000},
    "resource": {"deployment.environment": "production", "tenant_id": "t1", "host.arch": None},
    "metrics": {"type": "prometheusremotewrite", "endpoint": "https://mon1:9090/api/v1/write",
                "tls": {"ca_file": "/etc/ssl/site-ca.crt"}, "basic_auth": {"username": "otel", "password": "pw"},
                "resource_to_telemetry_conversion": True},
    "logs": {"type": "loki", "endpoint": "http://logs1:3100/otlp/", "tenant_id": "shop", "compression": "gzip"},
    "traces": {"type": "otlp", "endpoint": "tempo1:4317", "tls": {"insecure": True}, "timeout": "10s"},
    "telemetry": {"metrics_address": "0.0.0.0:8888", "level": "detailed", "log_level": "warn"},
}


def _subset(kind, keys):
    extra = set(keys) - UPSTREAM[kind]
    assert not extra, "%s: keys %s are not in the upstream reference" % (kind, sorted(extra))


def test_full_config_uses_only_upstream_keys():
    config = otel_collector_config(FULL)
    assert set(config) == {"receivers", "processors", "exporters", "extensions", "service"}
    protocols = config["receivers"]["otlp"]["protocols"]
    _subset("otlp_receiver_protocol_grpc", protocols["grpc"])
    _subset("otlp_receiver_protocol_http", protocols["http"])
    for protocol in protocols.values():
        _subset("tls_server", protocol["tls"])
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["http"]["cors"] == {"allowed_origins": ["https://shop.example.org"]}
    assert list(config["processors"]) == ["memory_limiter", "resource", "batch"]
    _subset("memory_limiter", config["processors"]["memory_limiter"])
    _subset("batch", config["processors"]["batch"])
    for action in config["processors"]["resource"]["attributes"]:
        _subset("resource_action", action)
        assert action["action"] in UPSTREAM["resource_actions"]
    for name, exporter in config["exporters"].items():
        _subset(EXPORTER_KEYS[name.split("/")[0]], exporter)
        if "tls" in exporter:
            _subset("tls_client", exporter["tls"])
    _subset("health_check", config["extensions"]["health_check"])
    _subset("basicauth_client", config["extensions"]["basicauth/metrics"]["client_auth"])
    _subset("service", config["service"])
    for pipeline in config["service"]["pipelines"].values():
        _subset("pipeline", pipeline)
    _subset("telemetry_metrics", config["service"]["telemetry"]["metrics"])
    _subset("telemetry_logs", config["service"]["telemetry"]["logs"])


def test_pipelines_wire_each_signal_to_its_exporter_through_the_processors_in_order():
    config = otel_collector_config(FULL)
    pipelines = config["service"]["pipelines"]
    assert pipelines == {
        "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "resource", "batch"], "exporters": ["otlp/traces"]},
        "metrics": {"receivers": ["otlp"], "processors": ["memory_limiter", "resource", "batch"], "exporters": ["prometheusremotewrite"]},
        "logs": {"receivers": ["otlp"], "processors": ["memory_limiter", "resource", "batch"], "exporters": ["otlphttp/loki"]},
    }
    assert config["service"]["extensions"] == ["health_check", "basicauth/metrics"]
    assert config["exporters"]["otlphttp/loki"] == {"endpoint": "http://logs1:3100/otlp", "headers": {"X-Scope-OrgID": "shop"},
                                                    "compression": "gzip"}
    assert config["exporters"]["prometheusremotewrite"]["auth"] == {"authenticator": "basicauth/metrics"}
    assert config["exporters"]["prometheusremotewrite"]["resource_to_telemetry_conversion"] == {"enabled": True}
    assert config["processors"]["resource"]["attributes"] == [
        {"key": "deployment.environment", "value": "production", "action": "upsert"},
        {"key": "host.arch", "action": "delete"},
        {"key": "tenant_id", "value": "t1", "action": "upsert"}]
    assert config["service"]["telemetry"]["metrics"]["readers"] == [
        {"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]


def test_minimal_spec_gets_the_defaults_and_only_its_pipeline():
    config = otel_collector_config({"metrics": {"type": "otlphttp", "endpoint": "http://mon1:9090/api/v1/otlp"}})
    assert config["receivers"] == {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"},
                                                          "http": {"endpoint": "0.0.0.0:4318"}}}}
    assert config["processors"] == {"memory_limiter": {"check_interval": "1s", "limit_mib": 512, "spike_limit_mib": 128},
                                    "batch": {"timeout": "5s", "send_batch_size": 8192}}
    assert list(config["service"]["pipelines"]) == ["metrics"]
    assert config["exporters"] == {"otlphttp/metrics": {"endpoint": "http://mon1:9090/api/v1/otlp"}}
    assert config["extensions"] == {"health_check": {"endpoint": "127.0.0.1:13133"}}


def test_extra_is_merged_and_health_check_and_telemetry_can_be_left_out():
    config = otel_collector_config({
        "traces": {"type": "otlphttp", "endpoint": "http://jaeger1:4318"}, "health_check": "",
        "telemetry": {"metrics_address": ""},
        "extra": {"exporters": {"debug": {}}, "service": {"pipelines": {"traces": {"exporters": ["otlphttp/traces", "debug"]}}}}})
    assert "extensions" not in config and "extensions" not in config["service"]
    assert "readers" not in config["service"]["telemetry"]["metrics"]
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["otlphttp/traces", "debug"]
    assert config["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]


@pytest.mark.parametrize("spec, message", [
    ({}, "at least one exporter"),
    ({"metrics": {"type": "loki", "endpoint": "http://x/otlp"}}, "expected one of prometheusremotewrite"),
    ({"logs": {"type": "loki", "endpoint": "http://logs1:3100/loki/api/v1/push"}}, "ends in /otlp"),
    ({"traces": {"type": "otlphttp", "endpoint": "tempo:4318"}}, "http:// or https://"),
    ({"traces": {"type": "otlp"}}, "endpoint"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317", "tenant_id": "x"}}, "only for the loki exporter"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317", "tls": {"cert_file": "/a"}}}, "go together"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317", "tls": {"ca_file": "ca.crt"}}}, "absolute path"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317", "basic_auth": {"username": "u"}}}, "username and password"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317", "resource_to_telemetry_conversion": True}}, "prometheusremotewrite"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317", "tsl": {}}}, "did you mean"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "receivers": {"grpc": "", "http": ""}}, "listen address"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "receivers": {"grpc": "4317"}}, "host:port"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "memory_limiter": {"limit_mib": 100, "limit_percentage": 50}}, "not both"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "memory_limiter": {"limit_mib": 100, "spike_limit_mib": 100}}, "below"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "batch": {"send_batch_size": 0}}, "positive"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "batch": {"timeout": "5 s"}}, "duration"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "resource": {"a": [1]}}, "string, number"),
    ({"traces": {"type": "otlp", "endpoint": "t:4317"}, "telemetry": {"level": "loud"}}, "level"),
])
def test_bad_specs_name_the_section_and_field(spec, message):
    with pytest.raises(SpecError, match=message):
        otel_collector_config(spec)


def test_filters_wrap_errors():
    with pytest.raises(AnsibleFilterError, match="monitoring.stack.otel_collector_config"):
        FILTERS["otel_collector_config"]({})
    with pytest.raises(AnsibleFilterError, match="monitoring.stack.prometheus_otlp_sections"):
        FILTERS["prometheus_otlp_sections"]({"enabled": "yes"})


# --------------------------------------------------------------------------- Prometheus' OTLP receiver

PROMETHEUS_OTLP_KEYS = {"promote_resource_attributes", "promote_all_resource_attributes", "ignore_resource_attributes",
                        "translation_strategy", "keep_identifying_resource_attributes", "convert_histograms_to_nhcb"}


def test_prometheus_otlp_sections_off_and_on():
    assert prometheus_otlp_sections({"enabled": False, "promote_resource_attributes": ["x"]}) == {}
    sections = prometheus_otlp_sections({
        "enabled": True, "promote_resource_attributes": ["tenant_id", "deployment.environment"],
        "translation_strategy": "UnderscoreEscapingWithSuffixes", "keep_identifying_resource_attributes": True,
        "convert_histograms_to_nhcb": False, "out_of_order_time_window": "30m"})
    assert sections == {
        "otlp": {"promote_resource_attributes": ["tenant_id", "deployment.environment"],
                 "translation_strategy": "UnderscoreEscapingWithSuffixes",
                 "keep_identifying_resource_attributes": True, "convert_histograms_to_nhcb": False},
        "storage": {"tsdb": {"out_of_order_time_window": "30m"}}}
    assert set(sections["otlp"]) <= PROMETHEUS_OTLP_KEYS
    assert "storage" not in prometheus_otlp_sections({"enabled": True, "out_of_order_time_window": ""})


@pytest.mark.parametrize("spec, message", [
    ({"enabled": True, "promote_resource_attributes": ["a", "a"]}, "listed twice"),
    ({"enabled": True, "promote_resource_attributes": "tenant_id"}, "list of resource attribute names"),
    ({"enabled": True, "translation_strategy": "Dots"}, "translation_strategy"),
    ({"enabled": True, "out_of_order_time_window": "half an hour"}, "duration"),
    ({"enabled": True, "promote_all": True}, "unknown key"),
])
def test_prometheus_otlp_sections_refuse_bad_settings(spec, message):
    with pytest.raises(SpecError, match=message):
        prometheus_otlp_sections(spec)
