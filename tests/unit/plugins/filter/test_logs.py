# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the centralised-logs filters (plugins/filter/logs.py, module_utils/_loki.py, _log_sources.py, _log_agents.py)."""

from __future__ import annotations

import datetime
import json
import os
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.logs import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils import _alloy_syntax as A
from ansible_collections.monitoring.stack.plugins.module_utils import _log_sources as S
from ansible_collections.monitoring.stack.plugins.module_utils import _loki as L
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

DATA = os.path.join(os.path.dirname(__file__), "data")
FILTERS = FilterModule().filters()
TODAY = datetime.date(2026, 11, 23)

CATALOGUE = [
    {"name": "nginx_access", "type": "nginx_access"},
    {"name": "nginx_access_json", "type": "nginx_access", "format": "json", "paths": ["/var/log/nginx/api.json.log"]},
    {"name": "nginx_error", "type": "nginx_error"},
    {"name": "postgresql", "type": "postgresql"},
    {"name": "journal", "type": "journal", "units": ["nginx.service", "postgresql@15-main.service"]},
    {"name": "odoo", "type": "odoo"},
    {"name": "django", "type": "django"},
    {"name": "fastapi", "type": "fastapi", "paths": ["/srv/api/logs/*.json"]},
    {"name": "audit", "type": "audit", "paths": ["/var/log/odoo/audit.log"]},
    {"name": "backup", "type": "custom", "format": "regex", "paths": ["/var/log/backup/*.log"],
     "expression": r"^(?P<time>\S+) (?P<result>ok|failed) (?P<message>.*)", "label_fields": ["result"],
     "timestamp": {"source": "time", "format": "RFC3339"}},
]


# --------------------------------------------------------------------------- key list

def _keys():
    with open(os.path.join(DATA, "loki_3_7_keys.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


KEYS = _keys()


def _resolve(node):
    """Expand a key-list node ($ref / $inline) into a mapping of allowed keys."""
    if isinstance(node, dict) and "$ref" in node:
        return _resolve(KEYS["blocks"][node["$ref"]])
    if not isinstance(node, dict):
        return None
    out = {k: v for k, v in node.items() if not k.startswith("$")}
    for block in node.get("$inline", []):
        out.update(_resolve(KEYS["blocks"][block]))
    return out


def _unknown_keys(value, node, path="loki"):
    """Every key of ``value`` not allowed by the key list, as dotted paths."""
    errors = []
    if isinstance(node, dict) and "$list" in node:
        for i, item in enumerate(value):
            errors += _unknown_keys(item, {"$ref": node["$list"]}, "%s[%d]" % (path, i))
        return errors
    allowed = _resolve(node)
    if allowed is None or not isinstance(value, dict):
        return errors
    for key, sub in value.items():
        if key not in allowed:
            errors.append("%s.%s" % (path, key))
        elif allowed[key] is not None:
            errors += _unknown_keys(sub, allowed[key], "%s.%s" % (path, key))
    return errors


def test_key_list_cites_upstream():
    with open(os.path.join(DATA, "loki_3_7_keys.yml"), encoding="utf-8") as handle:
        head = handle.read(600)
    assert "grafana/loki v3.7" in head and "configuration.md" in head
    for key in ("auth_enabled", "server", "common", "schema_config", "storage_config", "compactor", "limits_config", "ruler", "analytics"):
        assert key in KEYS["root"]
    assert "delete_request_store" in KEYS["blocks"]["compactor"]


def test_key_checker_catches_typos():
    assert _unknown_keys({"compactor": {"retension_enabled": True}}, KEYS["root"]) == ["loki.compactor.retension_enabled"]
    assert _unknown_keys({"schema_config": {"configs": [{"form": "x"}]}}, KEYS["root"]) == ["loki.schema_config.configs[0].form"]


SETTINGS = [
    {},
    {"auth_enabled": True},
    {"retention_period": "14d", "retention_delete_delay": "1h", "compaction_interval": "5m"},
    {"storage": "s3", "s3": {"endpoint": "minio:9000", "bucketnames": "loki", "access_key_id": "a", "secret_access_key": "b",
                             "s3forcepathstyle": True, "insecure": True, "region": "us-east-1"}},
    {"storage": "s3", "s3": {"bucketnames": "loki"}, "delete_request_store": "s3"},
    {"ruler": {"enabled": True, "alertmanager_url": "http://127.0.0.1:9093"}},
    {"http_listen_address": "10.0.0.5", "http_listen_port": 3101, "max_query_lookback": "720h"},
    {"schema_periods": [{"from": "2024-04-01"}, {"from": datetime.date(2025, 1, 1), "index": {"prefix": "loki_index_"}}]},
    {"allow_structured_metadata": False, "volume_enabled": False, "reject_old_samples": False},
    {"extra": {"limits_config": {"ingestion_rate_mb": 8}, "ingester": {"chunk_idle_period": "1h"}}},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_loki_config_only_upstream_keys(settings):
    config = FILTERS["loki_config"](settings)
    assert _unknown_keys(config, KEYS["root"]) == []
    assert FILTERS["loki_check"](config) is True
    yaml.safe_load(yaml.safe_dump(config))


def test_loki_config_defaults():
    config = FILTERS["loki_config"]({})
    assert config["auth_enabled"] is False
    assert config["server"]["http_listen_port"] == 3100
    assert config["common"]["replication_factor"] == 1
    assert config["common"]["ring"]["kvstore"]["store"] == "inmemory"
    assert config["common"]["storage"] == {"filesystem": {"chunks_directory": "/var/lib/loki/chunks", "rules_directory": "/var/lib/loki/rules"}}
    period = config["schema_config"]["configs"][0]
    assert period["store"] == "tsdb" and period["schema"] == "v13"
    assert period["index"] == {"prefix": "index_", "period": "24h"}
    assert config["storage_config"]["tsdb_shipper"]["active_index_directory"].startswith("/var/lib/loki/")
    assert config["compactor"]["retention_enabled"] is True
    assert config["compactor"]["delete_request_store"] == "filesystem"
    assert config["limits_config"]["retention_period"] == "720h"
    assert config["limits_config"]["allow_structured_metadata"] is True
    assert config["limits_config"]["volume_enabled"] is True
    assert config["analytics"] == {"reporting_enabled": False}
    assert "ruler" not in config


def test_loki_config_s3_everywhere():
    config = FILTERS["loki_config"]({"storage": "s3", "s3": {"bucketnames": "logs", "endpoint": "s3.local"}})
    assert config["common"]["storage"] == {"s3": {"bucketnames": "logs", "endpoint": "s3.local"}}
    assert config["schema_config"]["configs"][0]["object_store"] == "s3"
    assert config["compactor"]["delete_request_store"] == "s3"


@pytest.mark.parametrize("settings, message", [
    ({"storage": "gcs"}, "storage must be filesystem or s3"),
    ({"storage": "s3"}, "bucketnames"),
    ({"retention_period": "30x"}, "not a duration"),
    ({"retention_period": "12h1d"}, "not a duration; Prometheus durations use the units"),
    ({"retention_period": "90m"}, "whole number of hours"),
    ({"path_prefix": "loki"}, "absolute"),
    ({"unknown": 1}, "unknown setting"),
    ({"schema_periods": [{"from": "2024-01-01", "schema": "v13", "store": "boltdb-shipper"}]}, "needs store tsdb"),
    ({"schema_periods": [{"from": "2024-01-01", "index": {"period": "168h"}}]}, "24h"),
    ({"schema_periods": [{"from": "2025-01-01"}, {"from": "2024-01-01"}]}, "increasing"),
    ({"schema_periods": [{"from": "01/01/2024"}]}, "YYYY-MM-DD"),
    ({"delete_request_store": "gcs"}, "delete_request_store must be"),
    ({"extra": {"compactor": {"delete_request_store": ""}}}, "delete_request_store"),
    ({"extra": {"schema_config": {"configs": [{"from": "2024-01-01", "store": "boltdb-shipper", "schema": "v12",
                                               "index": {"period": "24h"}}]}}}, "schema v13"),
])
def test_loki_config_refused(settings, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["loki_config"](settings)


def test_retention_period_is_a_prometheus_duration_in_hours():
    assert FILTERS["loki_config"]({"retention_period": "1d12h"})["limits_config"]["retention_period"] == "36h"


def test_retention_requires_delete_request_store():
    config = L.loki_config({})
    config["compactor"]["delete_request_store"] = ""
    with pytest.raises(SpecError, match="delete_request_store"):
        L.check_loki_config(config)
    config["compactor"]["retention_enabled"] = False
    assert L.check_loki_config(config)


def test_v13_requires_tsdb():
    config = L.loki_config({})
    config["schema_config"]["configs"][0]["store"] = "boltdb-shipper"
    with pytest.raises(SpecError, match="requires store tsdb"):
        L.check_loki_config(config)


def test_structured_metadata_needs_v13_in_active_period():
    config = L.loki_config({"allow_structured_metadata": False})
    config["schema_config"]["configs"] = [
        {"from": "2023-01-01", "store": "tsdb", "schema": "v12", "index": {"period": "24h"}},
        {"from": "2099-01-01", "store": "tsdb", "schema": "v13", "index": {"period": "24h"}},
    ]
    assert L.check_loki_config(config, today=TODAY)
    config["limits_config"]["allow_structured_metadata"] = True
    with pytest.raises(SpecError, match="v13"):
        L.check_loki_config(config, today=TODAY)


# --------------------------------------------------------------------------- schema periods

DEPLOYED = [{"from": "2024-04-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13",
             "index": {"prefix": "index_", "period": "24h"}}]


def test_first_deploy_accepts_past_date():
    assert L.loki_schema_periods([{"from": "2024-04-01"}], None, TODAY)[0]["from"] == "2024-04-01"


def test_same_periods_are_fine_and_config_dict_is_read():
    deployed_config = {"schema_config": {"configs": DEPLOYED}}
    assert L.loki_schema_periods(DEPLOYED, deployed_config, TODAY) == DEPLOYED
    assert L.loki_schema_periods([{"from": datetime.date(2024, 4, 1)}], {"configs": DEPLOYED}, TODAY) == DEPLOYED


def test_future_append_ok():
    want = DEPLOYED + [{"from": "2026-11-24", "object_store": "filesystem", "index": {"prefix": "index_v2_"}}]
    out = L.loki_schema_periods(want, DEPLOYED, TODAY)
    assert [p["from"] for p in out] == ["2024-04-01", "2026-11-24"]


@pytest.mark.parametrize("new_from", ["2026-11-23", "2026-01-01"])
def test_append_today_or_past_refused(new_from):
    with pytest.raises(SpecError, match="after today"):
        L.loki_schema_periods(DEPLOYED + [{"from": new_from}], DEPLOYED, TODAY)


@pytest.mark.parametrize("change", [
    {"from": "2024-04-02"},
    {"schema": "v12", "store": "tsdb"},
    {"index": {"prefix": "loki_"}},
    {"object_store": "s3"},
])
def test_rewrite_refused(change):
    rewritten = [dict(DEPLOYED[0], **change)]
    with pytest.raises(SpecError, match="rewritten"):
        L.loki_schema_periods(rewritten + [{"from": "2027-01-01"}], DEPLOYED, TODAY)


def test_removal_refused():
    deployed = DEPLOYED + [dict(DEPLOYED[0], **{"from": "2025-06-01"})]
    with pytest.raises(SpecError, match="removed"):
        L.loki_schema_periods(DEPLOYED, deployed, TODAY)


def test_filter_uses_real_today():
    tomorrow = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)).isoformat()
    out = FILTERS["loki_schema_periods"](DEPLOYED + [{"from": tomorrow}], {"schema_config": {"configs": DEPLOYED}})
    assert out[-1]["from"] == tomorrow
    with pytest.raises(AnsibleFilterError, match="after today"):
        FILTERS["loki_schema_periods"](DEPLOYED + [{"from": "2025-01-01"}], DEPLOYED)


def test_schema_periods_refuses_empty_and_bad_existing():
    with pytest.raises(SpecError, match="at least one"):
        L.loki_schema_periods([], None)
    with pytest.raises(SpecError, match="schema_config"):
        L.loki_schema_periods(DEPLOYED, {"server": {}})


# --------------------------------------------------------------------------- sources

def _sources(**kwargs):
    return FILTERS["log_sources"](CATALOGUE, kwargs.get("enabled"), "web1", "production")


def test_sources_normalised():
    sources = _sources()
    assert [s["name"] for s in sources] == [c["name"] for c in CATALOGUE]
    by = {s["name"]: s for s in sources}
    assert by["nginx_access"]["labels"] == {"job": "nginx", "host": "web1", "environment": "production"}
    assert by["journal"]["kind"] == "journal" and by["journal"]["paths"] == []
    assert by["postgresql"]["acl_paths"] == ["/var/log/postgresql"]
    assert by["nginx_access"]["acl_paths"] == []  # adm membership reads nginx logs
    assert by["fastapi"]["acl_paths"] == ["/srv/api/logs"]
    assert by["backup"]["job"] == "backup"


def test_enabled_selection_and_catalogue_dict():
    assert [s["name"] for s in _sources(enabled=["odoo", "journal"])] == ["journal", "odoo"]
    out = FILTERS["log_sources"]({"odoo": {"type": "odoo"}, "off": {"type": "django", "enabled": False}})
    assert [s["name"] for s in out] == ["odoo"]
    with pytest.raises(AnsibleFilterError, match="not in the catalogue"):
        _sources(enabled=["nope"])


@pytest.mark.parametrize("source, message", [
    ({"name": "x", "type": "syslog"}, "type must be one of"),
    ({"name": "X-1", "type": "odoo"}, "name"),
    ({"name": "a", "type": "audit"}, "paths"),
    ({"name": "a", "type": "custom", "paths": ["relative.log"]}, "absolute"),
    ({"name": "a", "type": "django", "label_fields": ["correlation_id"]}, "must not be a label"),
    ({"name": "a", "type": "odoo", "labels": {"path": "/x"}}, "must not be a label"),
    ({"name": "a", "type": "custom", "paths": ["/x"], "format": "regex"}, "expression"),
    ({"name": "a", "type": "custom", "paths": ["/x"], "format": "regex", "expression": "(?P<a>x", }, "compile"),
    ({"name": "a", "type": "custom", "paths": ["/x"], "format": "regex", "expression": "(?P<a>x)", "label_fields": ["b"]}, "named groups"),
    ({"name": "a", "type": "nginx_access", "format": "logfmt"}, "format must be"),
    ({"name": "a", "type": "journal", "paths": ["/x"]}, "journal"),
    ({"name": "a", "type": "odoo", "colour": "red"}, "unknown key"),
])
def test_bad_sources(source, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["log_sources"]([source])


def test_duplicate_names_refused():
    with pytest.raises(AnsibleFilterError, match="twice"):
        FILTERS["log_sources"]([{"name": "a", "type": "odoo"}, {"name": "a", "type": "django"}])


SAMPLES = {
    "nginx_access": '203.0.113.7 - - [01/May/2024:12:00:00 +0000] "GET /web/login?db=x HTTP/1.1" 302 0 "-" "curl/8.0"',
    "nginx_error": '2024/05/01 12:00:00 [error] 812#812: *17 open() "/usr/share/nginx/html/x" failed (2: No such file)',
    "postgresql": '2024-05-01 12:00:00.123 UTC [4242] odoo@shop LOG:  duration: 1523.112 ms  statement: SELECT *\n\tFROM res_partner',
    "odoo": '2024-05-01 12:00:00,123 4321 ERROR shop odoo.http: Exception during request handling.\nTraceback (most recent call last):',
}


@pytest.mark.parametrize("name, line", sorted(SAMPLES.items()))
def test_regexes_parse_real_lines(name, line):
    src = {s["name"]: s for s in _sources()}[name]
    regex = [st for st in src["pipeline"] if st["type"] == "regex"][0]
    match = re.match(regex["expression"], line)
    assert match, line
    fields = match.groupdict()
    for stage in src["pipeline"]:
        if stage["type"] in ("labels", "structured_metadata") and "filename" not in stage["values"]:
            for field in stage["values"].values():
                assert field in fields or any(
                    field in re.compile(st["expression"]).groupindex for st in src["pipeline"] if st["type"] == "regex")
    if name == "nginx_access":
        assert (fields["method"], fields["status"], fields["path"]) == ("GET", "302", "/web/login?db=x")
    if name == "postgresql":
        slow = [st for st in src["pipeline"] if st["type"] == "regex" and st.get("source") == "message"][0]
        assert re.match(slow["expression"], fields["message"]).group("duration_ms") == "1523.112"
        assert fields["database"] == "shop" and fields["level"] == "LOG"
    if name == "odoo":
        assert (fields["pid"], fields["level"], fields["database"], fields["logger"]) == ("4321", "ERROR", "shop", "odoo.http")
        assert "Traceback" in fields["message"]


def test_postgresql_line_without_user():
    src = {s["name"]: s for s in _sources()}["postgresql"]
    line = "2024-05-01 12:00:00.123 UTC [77] LOG:  checkpoint starting: time"
    assert re.match(src["pipeline"][1]["expression"], line).group("level") == "LOG"


def test_no_unbounded_label_anywhere():
    for src in _sources():
        assert not set(src["labels"]) & S.FORBIDDEN_LABELS
        for stage in src["pipeline"]:
            if stage["type"] == "labels":
                assert not set(stage["values"]) & S.FORBIDDEN_LABELS, src["name"]


def test_json_apps_keep_correlation_id_as_structured_metadata():
    by = {s["name"]: s for s in _sources()}
    for name in ("django", "fastapi", "nginx_access_json"):
        stages = by[name]["pipeline"]
        json_stage = [st for st in stages if st["type"] == "json"][0]
        assert "correlation_id" in json_stage["expressions"]
        meta = [st for st in stages if st["type"] == "structured_metadata"][0]
        assert "correlation_id" in meta["values"]
    assert [st for st in by["django"]["pipeline"] if st["type"] == "labels"][0]["values"] == {"level": "level"}


# --------------------------------------------------------------------------- Promtail

AGENT = {"loki_url": "https://logs.example.org/loki/api/v1/push", "tenant_id": "shop", "basic_auth_username": "agent",
         "basic_auth_password_file": "/etc/promtail/loki.password"}


def test_promtail_config():
    config = FILTERS["promtail_config"](_sources(), AGENT)
    assert set(config) == {"server", "positions", "clients", "scrape_configs"}
    assert config["positions"]["filename"] == "/var/lib/promtail/positions.yaml"
    client = config["clients"][0]
    assert client["tenant_id"] == "shop"
    assert client["basic_auth"] == {"username": "agent", "password_file": "/etc/promtail/loki.password"}
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert jobs["nginx_access"]["static_configs"][0]["labels"]["__path__"] == "/var/log/nginx/*access.log"
    assert jobs["journal"]["journal"]["labels"]["job"] == "systemd-journal"
    assert jobs["journal"]["relabel_configs"][-1]["action"] == "keep"
    pg_stages = [list(st)[0] for st in jobs["postgresql"]["pipeline_stages"]]
    assert pg_stages[0] == "multiline" and "timestamp" in pg_stages
    for job in config["scrape_configs"]:
        for stage in job.get("pipeline_stages", []):
            assert len(stage) == 1 and list(stage)[0] in (
                "regex", "json", "labels", "structured_metadata", "timestamp", "multiline")
        for static in job.get("static_configs", []):
            assert not set(static["labels"]) & S.FORBIDDEN_LABELS
    assert yaml.safe_load(yaml.safe_dump(config)) == config


def test_promtail_inline_password_and_no_auth():
    config = FILTERS["promtail_config"](_sources(), {"basic_auth_username": "u", "basic_auth_password": "p"})
    assert config["clients"][0]["basic_auth"] == {"username": "u", "password": "p"}
    assert "basic_auth" not in FILTERS["promtail_config"](_sources(), {})["clients"][0]


@pytest.mark.parametrize("settings, message", [
    ({"loki_url": "loki:3100"}, "http"),
    ({"basic_auth_password": "p"}, "username"),
    ({"basic_auth_username": "u", "basic_auth_password": "p", "basic_auth_password_file": "/f"}, "not both"),
    ({"external_labels": {"correlation_id": "x"}}, "must not be a label"),
    ({"bogus": 1}, "unknown"),
])
def test_agent_settings_refused(settings, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["promtail_config"](_sources(), settings)


def test_agents_need_normalised_sources():
    with pytest.raises(AnsibleFilterError, match="log_sources"):
        FILTERS["alloy_config"](CATALOGUE, {})


# --------------------------------------------------------------------------- Alloy

def _alloy_problems(text):
    """Syntax errors and references to undeclared components of an Alloy config (module_utils/_alloy_syntax.py)."""
    try:
        tree = A.parse(text)
    except A.AlloySyntaxError as exc:
        return ["syntax: %s" % exc]
    return [ref.rsplit(".", 1)[0] for ref in A.undeclared_references(tree)]


def test_alloy_checker_catches_dangling_reference():
    text = FILTERS["alloy_config"](_sources(enabled=["odoo"]), {})
    assert _alloy_problems(text) == []
    broken = text.replace("forward_to = [loki.process.odoo.receiver]", "forward_to = [loki.process.odo.receiver]")
    assert _alloy_problems(broken) == ["loki.process.odo"]
    assert _alloy_problems(text + "}\n")[0].startswith("syntax: line ")
    # A brace inside a string: counting braces saw a balanced file, the parser sees the open block.
    assert "expected '}' to close the block" in _alloy_problems(text.replace('  format = "logfmt"\n}', '  format = "}"\n'))[0]


def test_alloy_config_structure():
    text = FILTERS["alloy_config"](_sources(), AGENT)
    assert _alloy_problems(text) == []
    tree = A.parse(text)
    declared = A.blocks(tree)
    labelled = [(name, label) for name, label in declared if label]
    assert len(labelled) == len(set(labelled)), "a component is declared twice"
    for name in [c["name"] for c in CATALOGUE]:
        assert ("loki.process", name) in declared
    assert ("loki.write", "default") in declared
    assert ("local.file_match", "nginx_access") in declared and ("loki.source.file", "nginx_access") in declared
    assert ("loki.source.journal", "journal") in declared and ("loki.relabel", "journal") in declared
    assert 'tenant_id = "shop"' in text and 'password_file = "/etc/promtail/loki.password"' in text
    for stage in ("stage.json", "stage.regex", "stage.labels", "stage.timestamp", "stage.structured_metadata", "stage.multiline"):
        assert ("loki.process." + stage, None) in declared


def test_alloy_strings_escape_regexes():
    text = FILTERS["alloy_config"](_sources(enabled=["nginx_access"]), {})
    line = [x for x in text.splitlines() if "expression" in x][0]
    literal = line.split("=", 1)[1].strip()
    assert json.loads(literal) == S.NGINX_COMBINED


def test_alloy_and_promtail_share_the_pipeline():
    sources = _sources()
    text = FILTERS["alloy_config"](sources, {})
    promtail = FILTERS["promtail_config"](sources, {})
    alloy_stages = len(re.findall(r"^\s+stage\.", text, flags=re.M))
    promtail_stages = sum(len(j.get("pipeline_stages", [])) for j in promtail["scrape_configs"])
    assert alloy_stages == promtail_stages


def test_alloy_no_auth_no_tenant():
    text = FILTERS["alloy_config"](_sources(enabled=["odoo"]), {})
    assert "basic_auth" not in text and "tenant_id" not in text
