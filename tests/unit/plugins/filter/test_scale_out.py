"""Unit tests of the monitoring.stack.prometheus_scale_out and prometheus_shard_jobs filters."""

import hashlib
import struct

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.scale_out import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._scale_out import (
    scale_out_plan,
    shard_relabel,
    shard_scrape_configs,
)
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError
from ansible_collections.monitoring.stack.plugins.module_utils._victoriametrics import retention_hours

FILTERS = FilterModule().filters()
GROUPS = {"prometheus": ["p1", "p2"], "prometheus_shards": ["s1", "s2"], "victoriametrics": ["vm1", "vm2", "vm3"]}
HOSTVARS = {
    "vm1": {"ansible_host": "10.0.0.1", "victoriametrics_retention_period": "15d"},
    "vm2": {"ansible_host": "10.0.0.2", "victoriametrics_tier": "avg5m", "victoriametrics_retention_period": "90d",
            "victoriametrics_listen_address": ":18428"},
    "vm3": {"ansible_host": "10.0.0.3", "victoriametrics_tier": "avg1h", "victoriametrics_retention_period": "1y"},
    "p1": {"prometheus_scale_out": {"replica": {"value": "p1"}}},
    "p2": {"prometheus_scale_out": {"replica": {"value": "p2"}}},
}
STORE_HOSTVARS = {host: value for host, value in HOSTVARS.items() if host.startswith("vm")}
TIERS = [{"name": "avg5m", "interval": "5m"}, {"name": "avg1h", "interval": "1h"}]
STORE = {"group": "victoriametrics", "port_var": "victoriametrics_listen_address",
         "basic_auth": {"username": "prometheus", "password": "s3cret"}}


def _hashmod(value, modulus):
    """Prometheus's hashmod: the low 8 bytes of the md5 sum, big endian, modulo."""
    return struct.unpack(">Q", hashlib.md5(value.encode()).digest()[8:])[0] % modulus


def test_replica_label_goes_out_and_is_dropped_from_alerts_and_store():
    plan = scale_out_plan({"replica": {"value": "p1"}, "store": STORE, "tiers": TIERS, "tier_series": ["up"]},
                          GROUPS, HOSTVARS, "p1")
    assert plan["external_labels"] == {"replica": "p1"}
    assert plan["alert_relabel_configs"] == [{"regex": "replica", "action": "labeldrop"}]
    raw, tier5, tier1h = plan["remote_write"]
    assert raw["url"] == "http://10.0.0.1:8428/api/v1/write"
    assert tier5["url"] == "http://10.0.0.2:18428/api/v1/write"
    assert raw["write_relabel_configs"] == [
        {"regex": "replica", "action": "labeldrop"},
        {"source_labels": ["__name__"], "regex": ".+:(avg5m|avg1h)", "action": "drop"}]
    assert tier1h["write_relabel_configs"][-1] == {"source_labels": ["__name__"], "regex": ".+:avg1h", "action": "keep"}
    assert raw["basic_auth"] == {"username": "prometheus", "password": "s3cret"}
    assert [g["name"] for g in plan["rule_groups"]] == ["tier_avg5m", "tier_avg1h"]
    assert plan["rule_groups"][1]["interval"] == "1h"
    assert plan["rule_groups"][1]["rules"] == [{"record": "up:avg1h", "expr": "avg_over_time(up[1h])"}]
    assert plan["store_tiers"] == [{"tier": "raw", "hosts": ["vm1"]}, {"tier": "avg5m", "hosts": ["vm2"]},
                                   {"tier": "avg1h", "hosts": ["vm3"]}]


def test_store_takes_scheme_and_tls_of_the_defaults():
    plan = scale_out_plan({"store": {"group": "victoriametrics"}}, {"victoriametrics": ["vm1"]}, HOSTVARS, "x",
                          defaults={"scheme": "https", "tls": {"ca_file": "/etc/ca.pem"}, "basic_auth": {"username": "u"}})
    assert plan["remote_write"] == [{"url": "https://10.0.0.1:8428/api/v1/write", "name": "store-raw-vm1",
                                     "tls": {"ca_file": "/etc/ca.pem"}}]
    assert plan["rule_groups"] == [] and plan["external_labels"] == {}


def test_shards_keep_a_disjoint_share_that_covers_every_target():
    targets = ["10.1.0.%d:9100" % i for i in range(1, 31)]
    shares = []
    for host in ("s1", "s2"):
        plan = scale_out_plan({"shards": {"count": 2, "group": "prometheus_shards"}}, GROUPS, {}, host)
        hashmod, keep = plan["scrape_relabel"]
        assert hashmod["action"] == "hashmod" and hashmod["source_labels"] == ["__address__"]
        shares.append({t for t in targets if str(_hashmod(t, hashmod["modulus"])) == keep["regex"]})
        assert plan["external_labels"] == {"shard": str(GROUPS["prometheus_shards"].index(host))}
    assert shares[0] | shares[1] == set(targets)
    assert not shares[0] & shares[1]
    assert shares[0] and shares[1]


def test_shard_relabel_comes_before_the_jobs_own():
    jobs = [{"job_name": "blackbox", "relabel_configs": [{"target_label": "__address__", "replacement": "prober"}]},
            {"job_name": "node"}]
    sharded = FILTERS["prometheus_shard_jobs"](jobs, shard_relabel(3, 1))
    assert sharded[0]["relabel_configs"][0]["action"] == "hashmod"
    assert sharded[0]["relabel_configs"][-1]["replacement"] == "prober"
    assert sharded[1]["relabel_configs"][1] == {"source_labels": ["__tmp_shard_hash"], "regex": "1", "action": "keep"}
    assert shard_scrape_configs(jobs, []) is jobs


def test_explicit_index_for_replicas_of_a_shard():
    plan = scale_out_plan({"shards": {"count": 2, "index": 1}}, {"prometheus": ["a", "b", "c", "d"]}, {}, "c")
    assert plan["shard"] == {"count": 2, "index": 1, "label": "shard"}


@pytest.mark.parametrize("spec,groups,hostvars,host,message", [
    ({"shards": {"count": 0}}, GROUPS, {}, "p1", "shards.count"),
    ({"shards": {"count": 2, "index": 2}}, GROUPS, {}, "p1", "out of range"),
    ({"shards": {"count": 3}}, GROUPS, {}, "p1", "has 2 hosts for 3 shards"),
    ({"replica": {"value": "p1"}}, GROUPS, {"p2": {}}, "p1", "missing on p2"),
    ({"replica": {"value": "p2"}}, GROUPS, HOSTVARS, "p1", "share the replica value"),
    ({"store": STORE, "tiers": [{"name": "avg1h", "interval": "1h"}, {"name": "avg5m", "interval": "5m"}]},
     GROUPS, STORE_HOSTVARS, "p1", "shortest interval"),
    ({"store": STORE, "tiers": TIERS}, GROUPS,
     dict(STORE_HOSTVARS, vm3=dict(HOSTVARS["vm3"], victoriametrics_retention_period="30d")), "p1",
     "tier avg1h on vm3 keeps data 720 hours, shorter than tier avg5m"),
    ({"store": STORE, "tiers": TIERS[:1]}, GROUPS, STORE_HOSTVARS, "p1", "the tiers are raw, avg5m"),
    ({"store": STORE}, GROUPS, dict(STORE_HOSTVARS, vm1={"victoriametrics_retention_period": "2 weeks"}), "p1",
     "'2 weeks' is not a retention period"),
    ({"tiers": [{"name": "raw", "interval": "5m"}]}, GROUPS, {}, "p1", "tier name"),
    ({"store": dict(STORE, queue_config={"max_shard": 2})}, GROUPS, STORE_HOSTVARS, "p1", "max_shards"),
    ({"shard": {"count": 2}}, GROUPS, {}, "p1", "shards"),
])
def test_bad_input_is_refused_with_the_setting_named(spec, groups, hostvars, host, message):
    with pytest.raises(SpecError, match=message):
        scale_out_plan(spec, groups, hostvars, host)


@pytest.mark.parametrize("url", ["store:8428/api/v1/write", "//store/api/v1/write", "https://", None])
def test_remote_write_url_without_scheme_is_refused_through_the_filter(url):
    with pytest.raises(AnsibleFilterError, match=r"prometheus_scale_out: prometheus_remote_write\[0\]: url"):
        FILTERS["prometheus_scale_out"]({}, GROUPS, {}, "p1", remote_write=[{"url": url}])


@pytest.mark.parametrize("value,hours", [("15d", 360), ("1y", 8760), ("12", 12 * 31 * 24), ("2w", 336), ("36h", 36)])
def test_retention_hours(value, hours):
    assert retention_hours(value) == hours
