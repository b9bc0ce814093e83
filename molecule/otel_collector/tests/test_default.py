"""The OpenTelemetry Collector role, up to the binary (structural tier) or with a real otelcol-contrib (live tier).

Structural tier (default): no otelcol-contrib can be had on this machine, so the role ran with install source
``binary`` and a path that does not exist. Checked on a real Debian 12 host: the user, the config directory, the
config.yaml built from the spec (pipelines, processors in order, exporters, the basicauth extension; 0640
root:otelcol because it holds a password), the hardened unit and that nothing was started. ``otelcol-contrib
validate`` did NOT run.

Live tier (MONITORING_STACK_OTELCOL_BINARY=/path/to/otelcol-contrib): the same, plus the collector runs as otelcol,
answers on its health_check and internal metrics endpoints, and accepts a span over OTLP/HTTP.
"""

import json
import os

import pytest
import yaml
from testlib import exposure, poll

LIVE = bool(os.environ.get("MONITORING_STACK_OTELCOL_BINARY"))
live = pytest.mark.skipif(not LIVE, reason="live tier SKIPPED: MONITORING_STACK_OTELCOL_BINARY is not set (no "
                                           "otelcol-contrib binary on this machine)")
CONFIG = "/etc/otelcol-contrib/config.yaml"


def _config(host):
    return yaml.safe_load(host.file(CONFIG).content_string)


def test_user_and_directory(host):
    user = host.user("otelcol")
    assert user.shell == "/usr/sbin/nologin"
    directory = host.file("/etc/otelcol-contrib")
    assert directory.is_directory and directory.user == "root" and directory.group == "otelcol" and directory.mode == 0o750


def test_config_is_a_secret_file(host):
    config = host.file(CONFIG)
    assert config.user == "root" and config.group == "otelcol" and config.mode == 0o640
    assert config.content_string.startswith("#")


def test_config_built_from_the_spec(host):
    config = _config(host)
    assert config["receivers"]["otlp"]["protocols"] == {"grpc": {"endpoint": "0.0.0.0:4317"},
                                                        "http": {"endpoint": "0.0.0.0:4318"}}
    assert list(config["processors"]) == ["memory_limiter", "resource", "batch"]
    assert config["processors"]["resource"]["attributes"] == [
        {"key": "deployment.environment", "value": "molecule", "action": "upsert"},
        {"key": "host.arch", "action": "delete"}]
    assert config["exporters"]["otlphttp/metrics"] == {"endpoint": "http://127.0.0.1:9090/api/v1/otlp"}
    assert config["exporters"]["otlphttp/loki"]["headers"] == {"X-Scope-OrgID": "molecule"}
    assert config["exporters"]["otlphttp/loki"]["auth"] == {"authenticator": "basicauth/logs"}
    assert config["exporters"]["otlp/traces"] == {"endpoint": "127.0.0.1:14317", "tls": {"insecure": True}}
    assert config["extensions"]["basicauth/logs"]["client_auth"] == {"username": "shipper", "password": "molecule-otel-secret"}
    pipelines = config["service"]["pipelines"]
    assert sorted(pipelines) == ["logs", "metrics", "traces"]
    assert all(p["processors"] == ["memory_limiter", "resource", "batch"] for p in pipelines.values())
    assert config["service"]["extensions"] == ["health_check", "basicauth/logs"]


def test_unit_is_hardened_and_has_no_secret(host):
    unit = host.file("/etc/systemd/system/otelcol-contrib.service").content_string
    assert "User=otelcol" in unit
    assert "ExecStart=/usr/local/bin/otelcol-contrib " in unit
    assert "--config=/etc/otelcol-contrib/config.yaml" in unit
    for line in ("ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "PrivateDevices=yes",
                 "MemoryDenyWriteExecute=yes"):
        assert line in unit, line
    assert "molecule-otel-secret" not in unit


@pytest.mark.skipif(LIVE, reason="structural tier only: the live tier gave the collector a binary")
def test_not_started_without_a_binary(host):
    assert not host.file("/usr/local/bin/otelcol-contrib").exists
    assert not host.service("otelcol-contrib").is_running


@live
def test_collector_runs_and_is_healthy(host):
    assert host.service("otelcol-contrib").is_running
    assert host.check_output("ps -o user= -C otelcol-contrib").strip() == "otelcol"
    poll(lambda: host.run("curl -sf http://127.0.0.1:13133/").rc == 0, timeout=30, what="the health_check extension")
    body = poll(lambda: host.run("curl -sf http://127.0.0.1:8888/metrics").stdout, timeout=30, what="internal metrics")
    assert "otelcol_" in body
    assert exposure(host, "otelcol-contrib.service") <= 3.5


@live
def test_collector_accepts_a_span_over_otlp_http(host):
    span = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "molecule"}}]},
                               "scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c",
                                                          "spanId": "eee19b7ec3c1b174", "name": "GET /health/",
                                                          "kind": 2, "startTimeUnixNano": "1544712660000000000",
                                                          "endTimeUnixNano": "1544712661000000000"}]}]}]}
    result = host.run("curl -s -o /dev/null -w '%%{http_code}' -H 'Content-Type: application/json' -d %s "
                      "http://127.0.0.1:4318/v1/traces", json.dumps(span))
    assert result.stdout.strip() == "200", result.stdout + result.stderr
    accepted = poll(lambda: "otelcol_receiver_accepted_spans" in host.run("curl -sf http://127.0.0.1:8888/metrics").stdout,
                    timeout=30)
    assert accepted


# kafka_exporter on the same host, up to the binary: no kafka_exporter binary and no Kafka can be had here.
def test_kafka_exporter_sasl_password_only_in_its_0640_environment_file(host):
    env = host.file("/etc/kafka_exporter/kafka_exporter.env")
    assert (env.user, env.group, env.mode) == ("root", "kafka-exp", 0o640)
    assert "SASL_USER_PASSWORD=" in env.content_string and "molecule-kafka-secret" in env.content_string
    unit = host.file("/etc/systemd/system/kafka_exporter.service").content_string
    assert "molecule-kafka-secret" not in unit
    assert "EnvironmentFile=/etc/kafka_exporter/kafka_exporter.env" in unit
    assert "User=kafka-exp" in unit and "ProtectSystem=strict" in unit and "NoNewPrivileges=yes" in unit


def test_kafka_exporter_flags_name_every_broker_and_the_sasl_mechanism(host):
    unit = host.file("/etc/systemd/system/kafka_exporter.service").content_string
    for flag in ("--kafka.server=kafka1.example.org:9093", "--kafka.server=kafka2.example.org:9093",
                 "--sasl.enabled", "--sasl.mechanism=scram-sha512", "--sasl.username=monitor"):
        assert flag in unit, (flag, unit)
    assert not host.service("kafka_exporter").is_running
