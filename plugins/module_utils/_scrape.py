# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus scrape jobs from inventory groups.

:func:`scrape_plan` turns a list of compact job specs (one per exporter kind,
each naming an inventory group and a port) into everything the prometheus role
writes: the ``scrape_configs`` of prometheus.yml (each reading one file_sd JSON
file), the content of those file_sd files, the ``alerting`` and ``remote_write``
sections, and the secret files that hold passwords and tokens (the config only
ever refers to them through ``password_file`` / ``credentials_file``).

Bad input raises :class:`SpecError` whose message names the job and the field.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._scrape_secrets import KIND, Secrets, scrape_error as _error
from ansible_collections.monitoring.stack.plugins.module_utils._spec import (
    SpecError,
    check_duration,
    check_keys,
    check_labels,
)

JOB_KEYS = ("name", "group", "port", "port_var", "path_var", "metrics_path", "scheme", "basic_auth", "authorization", "tls",
            "labels", "scrape_interval", "scrape_timeout", "honor_labels", "params", "type", "module",
            "targets_var", "targets", "enabled", "rule_packs", "relabel_configs", "metric_relabel_configs", "use_defaults")
ALERTMANAGER_KEYS = ("group", "port", "port_var", "path_var", "scheme", "path_prefix", "basic_auth", "authorization", "tls",
                     "timeout", "api_version", "targets", "enabled")
JOB_TYPES = ("exporter", "blackbox")
# Keys of scrape_plan's ``defaults``: what every job and the alertmanagers take unless they set it.
DEFAULT_KEYS = ("scheme", "tls", "basic_auth", "authorization")

# Hostvars read from the target hosts.
ADDRESS_VAR = "prometheus_target_address"
HOST_LABELS_VAR = "prometheus_target_labels"
DEFAULT_BLACKBOX_TARGETS_VAR = "blackbox_exporter_targets"
DEFAULT_BLACKBOX_MODULE = "http_2xx"
PROBER_LABEL = "__tmp_prober"

_JOB_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")
_PORT_SUFFIX = re.compile(r":(\d{1,5})$")
# --------------------------------------------------------------------------- checks


def _check_keys(job, spec, allowed, field="job"):
    check_keys(job, spec, allowed, field, kind=KIND)


def _check_port(job, field, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise _error(job, field, "expected a port number 1-65535, got %r" % (value,))
    return value


def _check_duration(job, field, value):
    return check_duration(job, field, value, kind=KIND)


def _check_labels(job, field, labels):
    return check_labels(job, field, labels, kind=KIND, reserved=False)


def _check_scheme(job, value):
    if value not in ("http", "https"):
        raise _error(job, "scheme", "expected http or https, got %r" % (value,))
    return value


def _port_of(address):
    """The port of ``[host]:port`` (a listen address such as ``:9100``) or of a bare port number, or None."""
    if isinstance(address, int) and not isinstance(address, bool):
        return address
    if isinstance(address, str) and address.isdigit():
        return int(address)
    match = _PORT_SUFFIX.search(str(address or ""))
    return int(match.group(1)) if match else None


def _hostvar(hostvars, host, key, default=None):
    try:
        value = hostvars[host].get(key, default)
    except (KeyError, AttributeError, TypeError):
        return default
    return default if value is None else value


def host_address(hostvars, host):
    """The address Prometheus uses for a host: prometheus_target_address, ansible_host, or the inventory name."""
    address = _hostvar(hostvars, host, ADDRESS_VAR) or _hostvar(hostvars, host, "ansible_host") or host
    return str(address)


def route_prefix(owner, url):
    """The path of an external URL (``https://mon1/prometheus/`` -> ``/prometheus``), ``""`` for none."""
    if not url:
        return ""
    url = str(url)
    match = re.match(r"^(https?)://[^/?#]+(?P<path>/[^?#]*)?$", url)
    if not match:
        raise SpecError("%s: external URL %r has no http:// or https:// scheme and host" % (owner, url))
    return (match.group("path") or "").rstrip("/")


def _target_prefix(job, spec, hostvars, host):
    var = spec.get("path_var")
    return route_prefix("%s: %s of %s" % (job, var, host), _hostvar(hostvars, host, var)) if var else ""


def _join_host_port(address, port):
    return "[%s]:%d" % (address, port) if ":" in address and not address.startswith("[") else "%s:%d" % (address, port)


# --------------------------------------------------------------------------- jobs


def merge_jobs(jobs, overrides=None, extra=None):
    """Default jobs, with ``overrides`` (job name -> changes, dicts merged one level) applied and ``extra`` jobs added.

    An extra job with the name of an existing one replaces it.
    """
    if not isinstance(jobs, list):
        raise _error("<jobs>", "jobs", "expected a list of job specs")
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise _error("<overrides>", "overrides", "expected a mapping of job name to changes")
    merged = []
    names = []
    for spec in list(jobs) + list(extra or []):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not _JOB_NAME.match(spec["name"]):
            raise _error(spec.get("name", "<unnamed>") if isinstance(spec, dict) else "<unnamed>", "name",
                         "every job needs a name matching [a-zA-Z_][a-zA-Z0-9_-]*")
        if spec["name"] in names:
            merged[names.index(spec["name"])] = dict(spec)
        else:
            names.append(spec["name"])
            merged.append(dict(spec))
    for name, change in overrides.items():
        if name not in names:
            raise _error(name, "overrides", "no scrape job of this name; jobs: %s" % ", ".join(names))
        _check_keys(name, change, JOB_KEYS[1:], "override")
        job = merged[names.index(name)]
        for key, value in change.items():
            if isinstance(value, dict) and isinstance(job.get(key), dict) and key not in ("basic_auth", "authorization"):
                job[key] = dict(job[key], **value)
            else:
                job[key] = value
    return merged


def _group_hosts(groups, group):
    hosts = (groups or {}).get(group) or []
    seen = []
    for host in hosts:
        if host not in seen:
            seen.append(host)
    return sorted(seen)


def _job_port(job, spec, hostvars, host):
    port_var = spec.get("port_var")
    if port_var:
        port = _port_of(_hostvar(hostvars, host, port_var))
        if port:
            return port
    return _check_port(job, "port", spec.get("port"))


def _exporter_groups(job, spec, groups, hostvars, labels):
    target_groups = []
    metrics_path = str(spec.get("metrics_path") or "/metrics")
    for host in _group_hosts(groups, spec.get("group")):
        address = _join_host_port(host_address(hostvars, host), _job_port(job, spec, hostvars, host))
        host_labels = dict(labels, **_check_labels(job, "%s.%s" % (host, HOST_LABELS_VAR), _hostvar(hostvars, host, HOST_LABELS_VAR)))
        prefix = _target_prefix(job, spec, hostvars, host)
        if prefix:
            # The target serves under its route prefix (the path of its external URL).
            host_labels["__metrics_path__"] = prefix + metrics_path
        target_groups.append({"targets": [address], "labels": dict(sorted(host_labels.items()))})
    for target in spec.get("targets") or []:
        # A static target: "host:port", or {target, labels} with labels of its own.
        own = {}
        if isinstance(target, dict):
            _check_keys(job, target, ("target", "labels"), "targets")
            own = _check_labels(job, "targets.labels", target.get("labels"))
            target = target.get("target") or ""
        target_groups.append({"targets": [str(target)], "labels": dict(sorted(dict(labels, **own).items()))})
    return target_groups


def _probe_items(job, host, items):
    """``(target, module, labels)`` of each probe: a URL, or ``{url|target, module, name, labels}`` (name -> ``probe`` label)."""
    if not isinstance(items, list):
        raise _error(job, "%s of %s" % (DEFAULT_BLACKBOX_TARGETS_VAR, host), "expected a list of URLs or {url, module, name, labels}")
    for item in items:
        if isinstance(item, str):
            yield item, None, {}
        elif isinstance(item, dict) and (item.get("url") or item.get("target")):
            _check_keys(job, item, ("url", "target", "module", "name", "labels"), "probe target of %s" % host)
            labels = _check_labels(job, "probe labels", item.get("labels"))
            if item.get("name"):
                labels["probe"] = str(item["name"])
            yield str(item.get("url") or item["target"]), item.get("module"), labels
        else:
            raise _error(job, "probe target of %s" % host, "expected a URL or {url, module, name, labels}, got %r" % (item,))


def _blackbox_groups(job, spec, groups, hostvars, labels):
    """One target group per (prober host, probed target); the prober address travels in a __tmp label."""
    targets_var = spec.get("targets_var") or DEFAULT_BLACKBOX_TARGETS_VAR
    default_module = spec.get("module") or DEFAULT_BLACKBOX_MODULE
    target_groups = []
    for host in _group_hosts(groups, spec.get("group")):
        prober = _join_host_port(host_address(hostvars, host), _job_port(job, spec, hostvars, host))
        for target, module, probe_labels in _probe_items(job, host, _hostvar(hostvars, host, targets_var, [])):
            module = module or default_module
            group_labels = dict(labels, **probe_labels)
            group_labels.update({"module": module, "prober": host, "__param_module": module, PROBER_LABEL: prober})
            target_groups.append({"targets": [target], "labels": dict(sorted(group_labels.items()))})
    return target_groups


def _blackbox_relabel():
    return [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {"source_labels": [PROBER_LABEL], "target_label": "__address__"},
    ]


def _scrape_config(job, spec, file_sd_dir, secrets):
    config = {"job_name": job}
    for key in ("scrape_interval", "scrape_timeout"):
        if spec.get(key) is not None:
            config[key] = _check_duration(job, key, spec[key])
    kind = spec.get("type") or "exporter"
    config["metrics_path"] = str(spec.get("metrics_path") or ("/probe" if kind == "blackbox" else "/metrics"))
    config["scheme"] = _check_scheme(job, spec.get("scheme") or "http")
    if spec.get("honor_labels"):
        config["honor_labels"] = True
    if spec.get("params"):
        if not isinstance(spec["params"], dict):
            raise _error(job, "params", "expected a mapping of URL parameter to list of values")
        config["params"] = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in spec["params"].items()}
    secrets.http_auth(job, spec, config)
    secrets.tls(job, spec, config)
    config["file_sd_configs"] = [{"files": ["%s/%s.json" % (file_sd_dir.rstrip("/"), job)]}]
    relabel = _blackbox_relabel() if kind == "blackbox" else []
    relabel += list(spec.get("relabel_configs") or [])
    if relabel:
        config["relabel_configs"] = relabel
    if spec.get("metric_relabel_configs"):
        config["metric_relabel_configs"] = list(spec["metric_relabel_configs"])
    return config


def _check_defaults(defaults):
    if not defaults:
        return {}
    if not isinstance(defaults, dict):
        raise _error("<defaults>", "defaults", "expected a mapping of %s" % ", ".join(DEFAULT_KEYS))
    _check_keys("<defaults>", defaults, DEFAULT_KEYS, "defaults")
    return defaults


def _with_defaults(spec, defaults):
    """``spec`` with the ``defaults`` it does not set; ``use_defaults`` (a list of keys) limits which ones apply."""
    if not defaults or not isinstance(spec, dict):
        return spec
    result = dict(spec)
    wanted = spec.get("use_defaults", list(DEFAULT_KEYS))
    if not isinstance(wanted, list) or set(wanted) - set(DEFAULT_KEYS):
        raise _error(spec.get("name", "<unnamed>"), "use_defaults", "expected a list of %s" % ", ".join(DEFAULT_KEYS))
    for key, value in defaults.items():
        if key not in wanted:
            continue
        if key in ("basic_auth", "authorization") and (spec.get("basic_auth") or spec.get("authorization")):
            continue
        if key == "tls" and isinstance(spec.get("tls"), dict):
            result["tls"] = dict(value, **spec["tls"])
        elif spec.get(key) in (None, "", {}):
            result[key] = value
    return result


def _rule_packs(job, spec):
    packs = spec.get("rule_packs") or {}
    if isinstance(packs, list):
        packs = {name: {} for name in packs}
    if not isinstance(packs, dict):
        raise _error(job, "rule_packs", "expected a mapping of rule pack name to pack parameters")
    return {str(name): dict(params or {}) for name, params in packs.items()}


def _alerting(spec, groups, hostvars, secrets):
    if not spec or spec.get("enabled") is False:
        return None
    _check_keys("alertmanagers", spec, ALERTMANAGER_KEYS, "alertmanagers")
    targets = [_join_host_port(host_address(hostvars, host), _job_port("alertmanagers", spec, hostvars, host))
               for host in _group_hosts(groups, spec.get("group"))]
    targets += [str(t) for t in spec.get("targets") or []]
    if not targets:
        return None
    config = {"scheme": _check_scheme("alertmanagers", spec.get("scheme") or "http"),
              "api_version": str(spec.get("api_version") or "v2")}
    hosts = _group_hosts(groups, spec.get("group"))
    prefixes = sorted({_target_prefix("alertmanagers", spec, hostvars, host) for host in hosts})
    if len(prefixes) > 1:
        raise _error("alertmanagers", "path_var", "the hosts of group %s serve under different route prefixes "
                     "(%s): give them one external URL path" % (spec.get("group"), ", ".join(prefixes)))
    path_prefix = spec.get("path_prefix") or (prefixes[0] if prefixes else "")
    if path_prefix:
        config["path_prefix"] = str(path_prefix)
    if spec.get("timeout"):
        config["timeout"] = _check_duration("alertmanagers", "timeout", spec["timeout"])
    secrets.http_auth("alertmanagers", spec, config)
    secrets.tls("alertmanagers", spec, config)
    config["static_configs"] = [{"targets": targets}]
    return {"alertmanagers": [config]}


def _remote_write(entries, secrets):
    result = []
    if not isinstance(entries, list):
        raise _error("remote_write", "remote_write", "expected a list of remote_write entries")
    for index, entry in enumerate(entries):
        owner = "remote_write-%d" % index
        if not isinstance(entry, dict) or not entry.get("url"):
            raise _error(owner, "url", "every remote_write entry needs a url")
        config = {key: value for key, value in entry.items() if key not in ("basic_auth", "authorization", "tls")}
        secrets.http_auth(owner, entry, config)
        secrets.tls(owner, entry, config)
        result.append(config)
    return result


def scrape_plan(jobs, groups, hostvars, file_sd_dir="/etc/prometheus/file_sd", secrets_dir="/etc/prometheus/secrets",
                overrides=None, extra=None, alertmanagers=None, remote_write=None, keep_empty=False, defaults=None):
    """Build the scrape, alerting and remote_write parts of prometheus.yml from job specs and the inventory.

    Returns ``{scrape_configs, file_sd, alerting, remote_write, secrets, tls_files, active_jobs, rule_packs}``.
    A job whose group has no host (and no static targets) is left out, unless ``keep_empty``.
    ``defaults`` ({scheme, tls, basic_auth, authorization}) apply to every job and to the
    alertmanagers where they do not set the key (authorization and basic_auth count as one).
    """
    defaults = _check_defaults(defaults)
    secrets = Secrets(secrets_dir)
    scrape_configs = []
    file_sd = {}
    active = []
    rule_packs = {}
    for spec in merge_jobs(jobs, overrides, extra):
        spec = _with_defaults(spec, defaults)
        job = spec["name"]
        _check_keys(job, spec, JOB_KEYS)
        if spec.get("enabled") is False:
            continue
        kind = spec.get("type") or "exporter"
        if kind not in JOB_TYPES:
            raise _error(job, "type", "expected one of %s, got %r" % (", ".join(JOB_TYPES), kind))
        if not spec.get("group") and not spec.get("targets"):
            raise _error(job, "group", "name an inventory group (or give static targets)")
        if spec.get("honor_labels") is not None and not isinstance(spec["honor_labels"], bool):
            raise _error(job, "honor_labels", "expected true or false")
        labels = _check_labels(job, "labels", spec.get("labels"))
        builder = _blackbox_groups if kind == "blackbox" else _exporter_groups
        target_groups = builder(job, spec, groups, hostvars, labels)
        if not target_groups and not keep_empty:
            continue
        scrape_configs.append(_scrape_config(job, spec, file_sd_dir, secrets))
        file_sd[job] = target_groups
        if target_groups:
            active.append(job)
            for pack, params in _rule_packs(job, spec).items():
                rule_packs.setdefault(pack, {}).update(params)
    return {
        "scrape_configs": scrape_configs,
        "file_sd": file_sd,
        "alerting": _alerting(_with_defaults(alertmanagers, defaults) if alertmanagers else alertmanagers,
                              groups, hostvars, secrets),
        "remote_write": _remote_write(remote_write or [], secrets),
        "secrets": secrets.files,
        "tls_files": secrets.tls_files,
        "active_jobs": active,
        "rule_packs": rule_packs,
    }
