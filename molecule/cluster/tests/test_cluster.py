"""Beyond one server, live (issue #16): an Alertmanager cluster of three, two Prometheus HA replicas and two
hashmod shards, all writing to VictoriaMetrics (a raw store and two retention tiers).

Every test runs from cl-a1 (curl on the host) and reaches the other hosts through the scenario's network.
Figures (samples deduplicated, disk per tier) are printed for docs/scaling.md.
"""

import datetime
import json
import os
import tempfile
import time

import testinfra
import yaml
from testlib import bad_input_playbook, failure_text, get_json, molecule_inventory, poll, run_playbook, samples

testinfra_hosts = ["ansible://cl-a1"]  # pylint: disable=invalid-name

AMS = ["cl-a1", "cl-a2", "cl-a3"]
REPLICAS = ["cl-a1", "cl-a2"]
SHARDS = ["cl-a3", "cl-s2"]
NODES = ["cl-a1", "cl-a2", "cl-a3", "cl-s2"]
STORE = "http://cl-a1:8428"
TIER_STORES = {"t20s": "http://cl-a2:8428", "t40s": "http://cl-a3:8428"}
STORE_AUTH = "metrics:cluster-store-secret"
HOOK = "http://127.0.0.1:9999/"


def other_host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def query(host, base, expr, auth=None, **params):
    answer = get_json(host, base + "/api/v1/query", auth=auth, query=expr, **params)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def store_query(host, expr, base=STORE, **params):
    return query(host, base, expr, auth=STORE_AUTH, **params)


def value(result):
    assert len(result) == 1, result
    return float(result[0]["value"][1])


def scraped(host, prometheus_host):
    """{(job, instance)} of the targets one Prometheus scrapes (its up series)."""
    return {(r["metric"]["job"], r["metric"]["instance"])
            for r in query(host, "http://%s:9090" % prometheus_host, "up")}


# --------------------------------------------------------------------------- Alertmanager cluster


def test_alertmanager_cluster_of_three_and_every_prometheus_sends_to_all_peers(host):
    for peer in AMS:
        status = get_json(host, "http://%s:9093/api/v2/status" % peer)
        assert status["cluster"]["status"] == "ready", status["cluster"]
        assert len(status["cluster"]["peers"]) == 3, status["cluster"]
    for prometheus in REPLICAS + SHARDS:
        active = get_json(host, "http://%s:9090/api/v1/alertmanagers" % prometheus)["data"]["activeAlertmanagers"]
        assert sorted(a["url"].split("//")[1].split(":")[0] for a in active) == AMS, (prometheus, active)


def test_a_silence_made_on_one_peer_is_seen_on_the_others(host):
    now = time.time()
    silence = {"matchers": [{"name": "alertname", "value": "ClusterSilenceDrill", "isRegex": False, "isEqual": True}],
               "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 5)),
               "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600)),
               "createdBy": "molecule", "comment": "cluster drill"}
    out = host.check_output("curl -sf -X POST -H 'Content-Type: application/json' --data %s "
                            "http://cl-a2:9093/api/v2/silences", json.dumps(silence))
    silence_id = json.loads(out)["silenceID"]
    try:
        for peer in ("cl-a1", "cl-a3"):
            poll(lambda peer=peer: [s for s in get_json(host, "http://%s:9093/api/v2/silences" % peer)
                                    if s["id"] == silence_id and s["status"]["state"] == "active"],
                 timeout=30, interval=1, what="the silence on " + peer)
    finally:
        host.run("curl -sf -X DELETE http://cl-a2:9093/api/v2/silence/%s" % silence_id)


def _drill_notifications(host, instance, skip):
    return [r for r in get_json(host, HOOK)[skip:]
            if r["notification"].get("status") == "firing"
            and any(a["labels"].get("alertname") == "ClusterDrillTargetDown" and a["labels"].get("instance") == instance
                    for a in r["notification"]["alerts"])]


def _wait_out_an_earlier_drill(host):
    """Prometheus resends a resolved alert for 15 minutes; four senders of one fingerprint (two replicas, two
    shards) then mix an earlier drill's resolved alert with this one's firing alert. A verify run again on the
    same hosts waits for that to end; the first run (CI) has no earlier drill and does not wait."""
    ends = [datetime.datetime.fromisoformat(a["endsAt"]).timestamp() for r in get_json(host, HOOK)
            for a in r["notification"]["alerts"]
            if a["labels"].get("alertname") == "ClusterDrillTargetDown" and a["status"] == "resolved"]
    wait = max(ends, default=0) + 16 * 60 - time.time()
    if wait > 0:
        print("an earlier drill resolved less than 16 minutes ago: waiting %.0f s" % wait)
        time.sleep(wait)


def test_an_alert_with_one_peer_down_is_notified_exactly_once(host):
    peer, target = other_host("cl-a3"), other_host("cl-s2")
    instance = "cl-s2:9100"
    _wait_out_an_earlier_drill(host)
    seen = len(get_json(host, HOOK))
    peer.check_output("systemctl stop alertmanager")
    target.check_output("systemctl stop node_exporter")
    start = time.time()
    try:
        poll(lambda: _drill_notifications(host, instance, seen), timeout=120, interval=2,
             what="ClusterDrillTargetDown at the webhook")
        print("first notification after %.0fs with cl-a3's Alertmanager stopped" % (time.time() - start))
        # Two replicas and the shard that owns the target fire, to the two live peers: still one notification.
        time.sleep(30)
        notes = _drill_notifications(host, instance, seen)
        assert sorted(n["path"] for n in notes) == ["/chat", "/email", "/pager"], json.dumps(notes, indent=1)[:3000]
        labels = [a["labels"] for n in notes for a in n["notification"]["alerts"]]
        assert not [l for l in labels if "replica" in l or "shard" in l], labels
    finally:
        target.check_output("systemctl start node_exporter")
        peer.check_output("systemctl start alertmanager")
    poll(lambda: '"peers"' in host.run("curl -sf --max-time 5 http://cl-a3:9093/api/v2/status").stdout
         and len(get_json(host, "http://cl-a3:9093/api/v2/status")["cluster"]["peers"]) == 3, timeout=60,
         interval=2, what="cl-a3 back in the cluster")


# --------------------------------------------------------------------------- shards


def test_two_shards_scrape_every_target_exactly_once(host):
    def shares():
        found = [scraped(host, shard) for shard in SHARDS]
        return found if all(found) and len(found[0] | found[1]) == len(scraped(host, REPLICAS[0])) else None
    first, second = poll(shares, timeout=60, interval=3, what="both shards with their targets")
    everything = scraped(host, REPLICAS[0])
    print("targets: %d in all, shard 0 %d, shard 1 %d" % (len(everything), len(first), len(second)))
    assert not first & second, first & second
    assert first | second == everything
    # The file_sd files stay whole: each shard reads every target and keeps its share by relabelling.
    node_file = json.loads(other_host("cl-s2").check_output("cat /etc/prometheus/file_sd/node.json"))
    assert sorted(t for group in node_file for t in group["targets"]) == sorted("%s:9100" % n for n in NODES)
    # In the store, each target's series of the shards is there once, with its shard label.
    per_target = store_query(host, 'count by (job, instance) (up{shard!=""})')
    assert {(r["metric"]["job"], r["metric"]["instance"]) for r in per_target} == everything
    assert {r["value"][1] for r in per_target} == {"1"}


# --------------------------------------------------------------------------- replicas and the store


def test_replicas_are_deduplicated_in_the_store(host):
    # The stores themselves are watched (their metrics behind the store's user).
    poll(lambda: sorted(r["metric"]["instance"] for r in query(host, "http://cl-a1:9090", 'up{job="victoriametrics"}')
                        if r["value"][1] == "1") == ["cl-a%d:8428" % i for i in (1, 2, 3)],
         timeout=60, interval=3, what="the three stores scraped")
    for replica in REPLICAS:
        config = yaml.safe_load(other_host(replica).check_output("cat /etc/prometheus/prometheus.yml"))
        assert config["global"]["external_labels"]["replica"] == replica
        assert {"regex": "replica", "action": "labeldrop"} in config["alerting"]["alert_relabel_configs"]
    # No series in the store carries a replica label; the replicas' node series are there once per target.
    assert store_query(host, 'count({__name__="up", replica!=""})') == []
    node = store_query(host, 'count by (instance) (up{job="node", shard=""})')
    assert {r["metric"]["instance"]: r["value"][1] for r in node} == {"%s:9100" % n: "1" for n in NODES}
    # One sample per 5 s scrape interval survives, not two: 60 s hold at most 13 (both replicas wrote ~24).
    counts = [value(store_query(host, 'count_over_time(up{job="node", instance="%s:9100", shard=""}[60s])' % n))
              for n in NODES]
    assert all(8 <= c <= 13 for c in counts), counts
    metrics = host.check_output("curl -sf -u %s %s/metrics", STORE_AUTH, STORE)
    dedup = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith("vm_deduplicated_samples_total"))
    print("samples the raw store dropped as duplicates so far: %d" % dedup)
    assert dedup > 0


def _caught_up(host):
    """Every replica and shard has sent the raw store everything it holds (its queue at most 10 s behind)."""
    for prometheus in REPLICAS + SHARDS:
        body = host.run("curl -sf --max-time 10 http://%s:9090/metrics" % prometheus).stdout
        appended = samples(body, "prometheus_remote_storage_highest_timestamp_in_seconds")
        sent = [v for labels, v in samples(body, "prometheus_remote_storage_queue_highest_sent_timestamp_seconds").items()
                if 'remote_name="store-raw-' in labels]
        if not appended or not sent or max(appended.values()) - sent[0] > 10:
            return False
    return True


def test_stopping_the_store_for_a_minute_loses_no_sample(host):
    store = host
    series = 'up{job="node", instance="cl-s2:9100", shard=""}'
    poll(lambda: _caught_up(host), timeout=60, interval=3, what="the remote-write queues caught up")
    start = time.time()
    store.check_output("systemctl stop victoriametrics")
    time.sleep(60)
    store.check_output("systemctl start victoriametrics")
    poll(lambda: host.run("curl -sf http://127.0.0.1:8428/health").rc == 0, timeout=60, interval=1,
         what="VictoriaMetrics back")
    # The replicas replay their write-ahead log: the queues catch up without dropping anything.
    poll(lambda: _caught_up(host), timeout=180, interval=3, what="the queues caught up after the outage")
    retried = sum(value(query(host, "http://%s:9090" % p,
                              'sum(prometheus_remote_storage_samples_retried_total{remote_name=~"store-raw-.*"})'))
                  for p in REPLICAS)
    # Lost samples would be failed (given up) or dropped for another reason than the tiers' write relabelling.
    lost = sum(value(query(host, "http://%s:9090" % p,
                           'sum(prometheus_remote_storage_samples_failed_total{remote_name=~"store-raw-.*"})'
                           ' + (sum(prometheus_remote_storage_samples_dropped_total'
                           '{remote_name=~"store-raw-.*", reason!="dropped_series"}) or vector(0))'))
               for p in REPLICAS)
    # Both sides are read at the same moment 45 s in the past: VictoriaMetrics shifts an instant query near
    # "now" back by its -search.latencyOffset (30 s), and the queues may still be up to 10 s behind. That
    # moment must lie after the outage, and the window reaches 30 s before it.
    time.sleep(max(0.0, start + 60 + 50 - time.time()))
    moment = time.time() - 45
    window = int(moment - start) + 30
    at = {"time": "%.3f" % moment}
    local = value(query(host, "http://cl-a1:9090", 'count_over_time(%s[%ds])' % (series.replace(', shard=""', ""), window),
                        **at))
    stored = value(store_query(host, "count_over_time(%s[%ds])" % (series, window), nocache="1", **at))
    print("store stopped 60 s: %d samples in cl-a1's own TSDB over %d s, %d in the store (deduplicated), "
          "%d retried, %d failed or dropped" % (local, window, stored, retried, lost))
    assert retried > 0, "the outage was not seen by remote write"
    assert lost == 0
    # One sample per 5 s interval in both: the store may keep one fewer at the window's edge, never the 12 of a minute.
    assert stored >= local - 1, (local, stored)


# --------------------------------------------------------------------------- tiers


def _names(host, base):
    return get_json(host, base + "/api/v1/label/__name__/values", auth=STORE_AUTH)["data"]


def test_each_tier_holds_only_its_aggregates_and_the_raw_store_none(host):
    for tier, base in TIER_STORES.items():
        names = poll(lambda base=base: _names(host, base), timeout=120, interval=5, what="series in tier " + tier)
        assert all(n.endswith(":" + tier) for n in names), (tier, names)
        assert "up:" + tier in names and "instance:node_memory_utilisation:ratio:" + tier in names, names
    raw = _names(host, STORE)
    assert "up" in raw and not [n for n in raw if n.endswith((":t20s", ":t40s"))], raw
    # The averages are right: the tier's up:<tier> is 1 for the targets that were up all along.
    assert value(store_query(host, 'min(up:t20s{job="alertmanager", shard=""})', base=TIER_STORES["t20s"])) == 1
    sizes = {}
    for tier, base in dict(TIER_STORES, raw=STORE).items():
        metrics = host.check_output("curl -sf -u %s %s/metrics", STORE_AUTH, base)
        sizes[tier] = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                          if line.startswith("vm_data_size_bytes"))
        rows = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("vm_rows{"))
        print("store %s: %d bytes on disk, %d rows" % (tier, sizes[tier], rows))
    assert sizes["raw"] > sizes["t40s"]


# --------------------------------------------------------------------------- bad input

MIRROR_VARS = {
    "monitoring_stack_mirror_url": "file://{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/mirror",
    "monitoring_stack_cache_dir": "{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/controller-cluster",
    "monitoring_stack_promtool": "{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/tools/bin/promtool",
}
SHARD_SPEC = {"shards": {"count": 2, "group": "prometheus_shards"},
              "store": "{{ __cluster_store }}", "tiers": "{{ __cluster_tiers }}"}
BAD = [
    ("a shard count of 0", dict(SHARD_SPEC, shards={"count": 0}), "shards.count"),
    ("a replica label missing on one replica",
     dict(SHARD_SPEC, replica={"value": "cl-s2", "group": "prometheus_shards"}), "missing on cl-a3"),
    ("a remote_write URL without scheme", SHARD_SPEC, "url 'cl-a1:8428/api/v1/write' needs a scheme"),
    ("a tier that keeps data shorter than the tier below",
     dict(SHARD_SPEC, store={"group": "victoriametrics", "retention_var": "cluster_bad_retention"}),
     "tier t20s on cl-a2 keeps data 2160 hours, shorter than tier raw"),
]


def test_bad_scale_out_input_fails_early_and_keeps_the_running_prometheus(host):
    shard = other_host("cl-s2")
    files = ["/etc/prometheus/prometheus.yml", "/etc/prometheus/rules/monitoring-stack-tiers.yml"]
    before = shard.check_output("sha256sum %s" % " ".join(files))
    pid = shard.check_output("systemctl show -p MainPID --value prometheus")
    cases = [{"role": "monitoring.stack.prometheus",
              "vars": {"prometheus_scale_out": spec,
                       "prometheus_remote_write": [{"url": "cl-a1:8428/api/v1/write"}] if "scheme" in message else []}}
             for _name, spec, message in BAD]
    with tempfile.TemporaryDirectory(prefix="bad-scale-out-") as outdir:
        playbook = os.path.join(outdir, "bad.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            yaml.safe_dump(bad_input_playbook(cases, outdir, MIRROR_VARS, hosts="cl-s2"), handle, sort_keys=False)
        rc, output = run_playbook(playbook, inventory=molecule_inventory(), connection=None, timeout=600)
        assert rc == 0, "the rescues should have kept the run going:\n" + output[-4000:]
        for number, (name, _spec, message) in enumerate(BAD):
            with open(os.path.join(outdir, "%d.json" % number), encoding="utf-8") as handle:
                failure = json.load(handle)
            assert failure is not None, "%s: the run should have failed" % name
            text = failure_text(failure)
            assert message in text, "%s: %r not in:\n%s" % (name, message, text[-2000:])
            print("%s: refused with %r" % (name, message))
    assert shard.check_output("sha256sum %s" % " ".join(files)) == before
    assert shard.check_output("systemctl show -p MainPID --value prometheus") == pid
    assert shard.service("prometheus").is_running
