# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus beyond one server: HA replicas, hashmod shards, a long-term store and retention tiers.

:func:`scale_out_plan` turns the prometheus role's compact settings and the inventory into what the role adds
to prometheus.yml:

- ``external_labels``: the replica label (``replica: <host>``) on HA replicas, the shard label on shards;
- ``scrape_relabel``: on a shard, the ``hashmod`` relabelling put first in every scrape job, so the shard keeps its
  share of every job's targets (the file_sd files stay whole: every shard reads the same targets);
- ``alert_relabel_configs``: drop the replica and shard labels from alerts, so Alertmanager sees one alert from
  the replicas and the shard that scrape a target;
- ``remote_write``: one entry per host of the store group, in the input shape of ``prometheus_remote_write``
  (the scrape plan moves its password to a file). The replica label is dropped before sending (the store
  deduplicates identical series, VictoriaMetrics with ``-dedup.minScrapeInterval``); the raw tier gets every series
  except the tier aggregates, each longer tier only its own aggregates;
- ``rule_groups``: one recording-rule group per tier, evaluated at the tier's interval,
  ``<series>:<tier name>`` = ``avg_over_time(<series>[<interval>])``.

Bad input (a shard count of 0, a replica label on some replicas only, a remote_write URL without a scheme, a tier
whose retention is shorter than the tier below it) raises :class:`SpecError` naming the setting.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._scrape import _hostvar, _join_host_port, _port_of, host_address
from ansible_collections.monitoring.stack.plugins.module_utils._spec import (
    SpecError,
    check_duration,
    check_keys,
    is_label_name,
    parse_duration,
)
from ansible_collections.monitoring.stack.plugins.module_utils._victoriametrics import DEFAULT_TIER as RAW_TIER, retention_hours

KEYS = ("shards", "replica", "store", "tiers", "tier_series")
SHARD_KEYS = ("count", "index", "group", "label")
REPLICA_KEYS = ("label", "value", "group")
STORE_KEYS = ("group", "scheme", "port", "port_var", "path", "tier_var", "retention_var", "default_retention",
              "basic_auth", "tls", "queue_config", "remote_timeout", "enabled")
TIER_KEYS = ("name", "interval")
QUEUE_KEYS = ("capacity", "max_shards", "min_shards", "max_samples_per_send", "batch_send_deadline", "min_backoff",
              "max_backoff", "retry_on_http_429", "sample_age_limit")
_URL = re.compile(r"^https?://[^/?#\s]+")
_TIER_NAME = re.compile(r"^[a-zA-Z0-9_]+$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def _error(field, message):
    return SpecError("prometheus_scale_out", field, message)


def _int(field, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _error(field, "expected a whole number of at least %d, got %r" % (minimum, value))
    return value


def check_remote_write_urls(entries, field="prometheus_remote_write"):
    """Every remote_write entry has an http:// or https:// URL with a host."""
    for index, entry in enumerate(entries or []):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not _URL.match(url):
            raise SpecError("%s[%d]: url %r needs a scheme and a host, such as https://store.example:8428/api/v1/write"
                            % (field, index, url))
    return entries


# --------------------------------------------------------------------------- shards and replicas


def _shard(spec, groups, host):
    shards = dict(spec or {})
    check_keys("shards", shards, SHARD_KEYS, "shards", kind="prometheus_scale_out")
    count = _int("shards.count", shards.get("count", 1), 1)
    label = str(shards.get("label") or "shard")
    if not is_label_name(label):
        raise _error("shards.label", "%r is not a label name" % label)
    if count == 1:
        return None
    index = shards.get("index")
    if index is None:
        group = str(shards.get("group") or "prometheus")
        members = list(groups.get(group) or [])
        if host not in members:
            raise _error("shards.index", "%s is not in group %s: give its shard index" % (host, group))
        if len(members) != count:
            raise _error("shards.index", "group %s has %d hosts for %d shards: give every host its shard index "
                         "(replicas of one shard share it)" % (group, len(members), count))
        index = members.index(host)
    index = _int("shards.index", index, 0)
    if index >= count:
        raise _error("shards.index", "shard index %d is out of range for %d shards (0-%d)" % (index, count, count - 1))
    return {"count": count, "index": index, "label": label}


def shard_relabel(count, index):
    """The relabelling that keeps shard ``index`` of ``count``: hash of the target address, kept when it matches."""
    return [{"source_labels": ["__address__"], "modulus": count, "target_label": "__tmp_shard_hash", "action": "hashmod"},
            {"source_labels": ["__tmp_shard_hash"], "regex": str(index), "action": "keep"}]


def shard_scrape_configs(scrape_configs, relabel):
    """``scrape_configs`` with ``relabel`` put before each job's own relabelling (blackbox jobs rewrite the address)."""
    if not relabel:
        return scrape_configs
    return [dict(config, relabel_configs=list(relabel) + list(config.get("relabel_configs") or []))
            for config in scrape_configs]


def _replica(spec, groups, hostvars, host):
    if not spec:
        return None  # not a replica: nothing to check from this host
    replica = dict(spec)
    check_keys("replica", replica, REPLICA_KEYS, "replica", kind="prometheus_scale_out")
    label = str(replica.get("label") or "replica")
    if not is_label_name(label):
        raise _error("replica.label", "%r is not a label name" % label)
    value = replica.get("value")
    # The replicas of one Prometheus are the hosts of the group given; each sets prometheus_scale_out.replica.value.
    group_hosts = list(groups.get(str(replica.get("group") or "prometheus")) or [host])
    given = {h: (_hostvar(hostvars, h, "prometheus_scale_out") or {}).get("replica", {}) for h in group_hosts}
    given[host] = replica
    values = {h: (r or {}).get("value") for h, r in given.items()}
    with_value = sorted(h for h, v in values.items() if v not in (None, ""))
    if with_value and len(with_value) != len(values):
        missing = sorted(set(values) - set(with_value))
        raise _error("replica.value", "the replica label %r is set on %s but missing on %s: every replica needs its "
                     "own value" % (label, ", ".join(with_value), ", ".join(missing)))
    seen = {}
    for h in with_value:
        seen.setdefault(str(values[h]), []).append(h)
    clashes = [v for v, hs in seen.items() if len(hs) > 1]
    if clashes:
        raise _error("replica.value", "replicas %s share the replica value %r: each needs its own"
                     % (", ".join(seen[clashes[0]]), clashes[0]))
    if value in (None, ""):
        return None
    return {"label": label, "value": str(value)}


# --------------------------------------------------------------------------- store and tiers


def _tiers(spec):
    tiers = []
    if not isinstance(spec or [], list):
        raise _error("tiers", "expected a list of {name, interval}")
    for index, tier in enumerate(spec or []):
        if not isinstance(tier, dict):
            raise _error("tiers[%d]" % index, "expected {name, interval}")
        check_keys("tiers[%d]" % index, tier, TIER_KEYS, "tiers", kind="prometheus_scale_out")
        name = str(tier.get("name") or "")
        if not _TIER_NAME.match(name) or name == RAW_TIER:
            raise _error("tiers[%d].name" % index, "%r: a tier name is a word such as 5m or avg1h (not %r)" % (name, RAW_TIER))
        interval = check_duration("tiers[%d]" % index, "interval", tier.get("interval"), required=True,
                                  kind="prometheus_scale_out")
        if tiers and parse_duration(interval) <= parse_duration(tiers[-1]["interval"]):
            raise _error("tiers[%d].interval" % index, "tiers go from the shortest interval to the longest: %s is not "
                         "longer than %s" % (interval, tiers[-1]["interval"]))
        if name in [t["name"] for t in tiers]:
            raise _error("tiers[%d].name" % index, "tier %r is listed twice" % name)
        tiers.append({"name": name, "interval": interval})
    return tiers


def tier_rule_groups(tiers, series):
    """One recording-rule group per tier: ``<series>:<tier>`` = ``avg_over_time(<series>[<interval>])``."""
    groups = []
    for metric in series or []:
        if not isinstance(metric, str) or not _METRIC.match(metric):
            raise _error("tier_series", "%r is not a metric name (give gauges or recorded series)" % (metric,))
    for tier in tiers:
        groups.append({"name": "tier_%s" % tier["name"], "interval": tier["interval"],
                       "rules": [{"record": "%s:%s" % (metric, tier["name"]),
                                  "expr": "avg_over_time(%s[%s])" % (metric, tier["interval"])}
                                 for metric in series or []]})
    return [group for group in groups if group["rules"]]


def _tier_relabel(tier, tiers):
    if not tiers:
        return []
    names = "|".join(t["name"] for t in tiers)
    if tier == RAW_TIER:
        return [{"source_labels": ["__name__"], "regex": ".+:(%s)" % names, "action": "drop"}]
    return [{"source_labels": ["__name__"], "regex": ".+:%s" % tier, "action": "keep"}]


def _store_writes(spec, groups, hostvars, tiers, drop_labels, defaults):
    store = dict(spec or {})
    check_keys("store", store, STORE_KEYS, "store", kind="prometheus_scale_out")
    for key in ("scheme", "tls"):
        if not store.get(key) and (defaults or {}).get(key):
            store[key] = defaults[key]
    group = store.get("group")
    if not group or store.get("enabled") is False:
        return [], []
    hosts = list(groups.get(group) or [])
    tier_var = store.get("tier_var") or "victoriametrics_tier"
    retention_var = store.get("retention_var") or "victoriametrics_retention_period"
    known = [RAW_TIER] + [t["name"] for t in tiers]
    scheme = str(store.get("scheme") or "http")
    if scheme not in ("http", "https"):
        raise _error("store.scheme", "expected http or https, got %r" % scheme)
    writes, retention = [], {}
    # What every store host's entry shares: its path, port variable, credentials, TLS and queue settings.
    port_var = store.get("port_var") or "victoriametrics_listen_address"
    path = store.get("path") or "/api/v1/write"
    shared = {key: store[key] for key in ("basic_auth", "tls", "remote_timeout") if store.get(key)}
    if hosts and store.get("queue_config"):
        shared["queue_config"] = dict(store["queue_config"])
        check_keys("store.queue_config", shared["queue_config"], QUEUE_KEYS, "queue_config", kind="prometheus_scale_out")
    for host in hosts:
        tier = str(_hostvar(hostvars, host, tier_var, RAW_TIER))
        if tier not in known:
            raise _error("store", "%s of %s is %r; the tiers are %s" % (tier_var, host, tier, ", ".join(known)))
        hours = retention_hours(_hostvar(hostvars, host, retention_var, store.get("default_retention") or "90d"),
                                "%s of %s" % (retention_var, host))
        retention.setdefault(tier, []).append((hours, host))
        port = _port_of(_hostvar(hostvars, host, port_var)) or store.get("port") or 8428
        entry = {"url": "%s://%s%s" % (scheme, _join_host_port(host_address(hostvars, host), int(port)), path),
                 "name": "store-%s-%s" % (tier, host)}
        relabel = [{"regex": label, "action": "labeldrop"} for label in drop_labels] + _tier_relabel(tier, tiers)
        if relabel:
            entry["write_relabel_configs"] = relabel
        entry.update(shared)
        writes.append(entry)
    _check_retention_order(known, retention)
    return writes, [{"tier": t, "hosts": [pair[1] for pair in retention[t]]} for t in known if t in retention]


def _check_retention_order(known, retention):
    """A longer tier keeps its data at least as long as every tier below it."""
    below = None
    for tier in known:
        if tier not in retention:
            continue
        shortest = min(retention[tier])
        if below is not None and shortest[0] < below[0][0]:
            raise _error("store", "tier %s on %s keeps data %g hours, shorter than tier %s on %s (%g hours): a longer "
                         "tier must keep its data at least as long"
                         % (tier, shortest[1], shortest[0], below[1], below[0][1], below[0][0]))
        below = (max(retention[tier]), tier)


def scale_out_plan(spec, groups, hostvars, host, remote_write=None, defaults=None):
    """The HA, shard, store and tier parts of one Prometheus's config (see the module docstring).

    ``spec`` is ``{shards: {count, index, group, label}, replica: {label, value}, store: {...}, tiers: [...],
    tier_series: [...]}`` (the replicas are the hosts of ``replica.group``, checked together); ``remote_write`` the
    user's own entries (their URLs are checked); ``defaults`` the ``{scheme, tls}`` of a store that sets none.
    """
    spec = dict(spec or {})
    check_keys("prometheus_scale_out", spec, KEYS, "prometheus_scale_out", kind="prometheus_scale_out")
    check_remote_write_urls(remote_write)
    shard = _shard(spec.get("shards"), groups, host)
    replica = _replica(spec.get("replica"), groups, hostvars, host)
    tiers = _tiers(spec.get("tiers"))
    external = {}
    if replica:
        external[replica["label"]] = replica["value"]
    if shard:
        external[shard["label"]] = str(shard["index"])
    writes, store_tiers = _store_writes(spec.get("store"), groups, hostvars, tiers,
                                        [replica["label"]] if replica else [], defaults)
    return {
        "external_labels": external,
        "shard": shard,
        "scrape_relabel": shard_relabel(shard["count"], shard["index"]) if shard else [],
        # A target's alert is the same whichever replica or shard saw it: Alertmanager gets one alert.
        "alert_relabel_configs": [{"regex": label, "action": "labeldrop"}
                                  for label in ([replica["label"]] if replica else []) + ([shard["label"]] if shard else [])],
        "remote_write": writes,
        "store_tiers": store_tiers,
        "rule_groups": tier_rule_groups(tiers, spec.get("tier_series")) if writes else [],
    }
