# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus scrape jobs of applications that serve their own /metrics, from the inventory.

Each host of the applications group lists what it runs in its ``app_metrics`` hostvar::

    app_metrics:
      - {name: django-finance, port: 8000, framework: django, labels: {team: finance}}

:func:`application_scrape_jobs` turns these lists into job specs of
:func:`~._scrape.scrape_plan` (one job per application name, one target per host that runs it), so the
applications get what the exporters get: file_sd files, TLS and credentials through the scrape
defaults, stale targets removed. Each job brings the ``http_app`` rule pack with the metric and label
names of its framework; jobs whose pack parameters agree share one instance of the pack.

Bad input raises :class:`SpecError` naming the host, the application and the field.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._scrape import HOST_LABELS_VAR, host_address
from ansible_collections.monitoring.stack.plugins.module_utils._spec import (
    SpecError,
    check_duration,
    check_keys,
    check_labels,
)

KIND = "application"
HOSTVAR = "app_metrics"
APP_KEYS = ("name", "port", "path", "scheme", "tls", "auth", "framework", "labels", "scrape_interval",
            "scrape_timeout", "honor_labels", "rule_packs")
# Settings of a job: every host that runs the application must give the same ones.
JOB_FIELDS = ("path", "scheme", "tls", "auth", "framework", "scrape_interval", "scrape_timeout", "honor_labels", "rule_packs")
PACK = "http_app"
# Metric and label names of the http_app pack per framework (the pack's own defaults: the conventional
# names of docs/applications.md, which django with custom middleware and plain prometheus_client use).
FRAMEWORKS = {
    "generic": {},
    "django": {},
    # django-prometheus' own metric names.
    "django_prometheus": {"requests_metric": "django_http_responses_total_by_status_view_method_total",
                          "duration_metric": "django_http_requests_latency_seconds_by_view_method",
                          "endpoint_label": "view"},
    # prometheus-fastapi-instrumentator: status grouped as 2xx/5xx, route in "handler".
    "fastapi": {"endpoint_label": "handler"},
    # prometheus_flask_exporter.
    "flask": {"requests_metric": "flask_http_request_total", "duration_metric": "flask_http_request_duration_seconds",
              "endpoint_label": "path"},
    # OpenTelemetry SDK semantic conventions (HTTP server metrics, through OTLP or a Collector).
    "opentelemetry": {"requests_metric": "http_server_request_duration_seconds_count",
                      "duration_metric": "http_server_request_duration_seconds",
                      "status_label": "http_response_status_code", "endpoint_label": "http_route"},
}
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]*$")


def _error(owner, field, message):
    return SpecError(owner, field, message, kind=KIND)


def _hostvar(hostvars, host, key):
    try:
        return hostvars[host].get(key)
    except (KeyError, AttributeError, TypeError):
        return None


def _auth(owner, auth):
    """``auth`` -> the job keys it sets: default (the scrape defaults), none, or {basic_auth} / {authorization}."""
    if auth in (None, "default"):
        return {}
    if auth == "none":
        return {"use_defaults": ["scheme", "tls"]}
    if isinstance(auth, dict) and len(auth) == 1 and set(auth) <= {"basic_auth", "authorization"}:
        return dict(auth)
    raise _error(owner, "auth", "expected default, none, {basic_auth: {username, password}} or "
                                "{authorization: {credentials}}, got %r" % (auth,))


def _check_app(host, app):
    if not isinstance(app, dict) or not isinstance(app.get("name"), str) or not _NAME.match(app["name"]):
        raise _error(host, "name", "every entry of %s needs a name matching [a-zA-Z_][a-zA-Z0-9_-]* (the job name)" % HOSTVAR)
    owner = "%s on %s" % (app["name"], host)
    check_keys(owner, app, APP_KEYS, kind=KIND)
    port = app.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _error(owner, "port", "expected a port number 1-65535, got %r" % (port,))
    if app.get("framework", "generic") not in FRAMEWORKS:
        raise _error(owner, "framework", "expected one of %s, got %r" % (", ".join(sorted(FRAMEWORKS)), app["framework"]))
    if app.get("scheme") not in (None, "http", "https"):
        raise _error(owner, "scheme", "expected http or https, got %r" % (app["scheme"],))
    path = app.get("path", "/metrics")
    if not isinstance(path, str) or not path.startswith("/"):
        raise _error(owner, "path", "expected a path starting with /, got %r" % (path,))
    for key in ("scrape_interval", "scrape_timeout"):
        check_duration(owner, key, app.get(key), kind=KIND)
    if not isinstance(app.get("rule_packs", {}), dict):
        raise _error(owner, "rule_packs", "expected a mapping of rule pack name to pack parameters ({} for none)")
    _auth(owner, app.get("auth"))
    return owner


def _collect(groups, hostvars, group):
    """``{name: {"settings": {...}, "hosts": [(host, app)], "owner": first owner}}`` in name order."""
    apps = {}
    for host in sorted(set((groups or {}).get(group) or [])):
        entries = _hostvar(hostvars, host, HOSTVAR) or []
        if not isinstance(entries, list):
            raise _error(host, HOSTVAR, "expected a list of {name, port, path, scheme, tls, auth, framework, labels}")
        seen = set()
        for app in entries:
            owner = _check_app(host, app)
            if app["name"] in seen:
                raise _error(owner, "name", "listed twice on this host")
            seen.add(app["name"])
            settings = {key: app.get(key) for key in JOB_FIELDS}
            entry = apps.setdefault(app["name"], {"settings": settings, "hosts": [], "owner": owner})
            if entry["settings"] != settings:
                field = next(key for key in JOB_FIELDS if entry["settings"][key] != settings[key])
                raise _error(owner, field, "differs from %s: every host of one application needs the same %s"
                             % (entry["owner"], ", ".join(JOB_FIELDS)))
            entry["hosts"].append((host, app))
    return dict(sorted(apps.items()))


def _pack_params(name, settings):
    """The http_app params of one job (without ``job``): the framework's names, then the app's own params."""
    packs = settings.get("rule_packs")
    packs = {PACK: {}} if packs is None else packs
    if PACK not in packs:
        return None
    own = packs.get(PACK) or {}
    if not isinstance(own, dict) or "job" in own:
        raise _error(name, "rule_packs.%s" % PACK, "expected a mapping of pack parameters (job is set from the name)")
    return dict(FRAMEWORKS[settings.get("framework") or "generic"], **own)


def _pack_instances(apps):
    """``{job name: (pack key, params)}``: jobs with equal params share one pack instance (job regex a|b)."""
    shared = []
    for name, entry in apps.items():
        params = _pack_params(name, entry["settings"])
        if params is None:
            continue
        for item in shared:
            if item[0] == params:
                item[1].append(name)
                break
        else:
            shared.append((params, [name]))
    result = {}
    for params, names in shared:
        key = PACK if len(shared) == 1 else "%s@%s" % (PACK, names[0])
        for name in names:
            result[name] = (key, dict(params, job="|".join(names)))
    return result


def _job(name, entry, instance, hostvars):
    settings = entry["settings"]
    job = {"name": name, "metrics_path": settings.get("path") or "/metrics", "targets": []}
    for key in ("scheme", "tls", "scrape_interval", "scrape_timeout", "honor_labels"):
        if settings.get(key) not in (None, "", {}):
            job[key] = settings[key]
    job.update(_auth(entry["owner"], settings.get("auth")))
    packs = {pack: dict(params or {}) for pack, params in (settings.get("rule_packs") or {}).items() if pack != PACK}
    if instance:
        packs[instance[0]] = instance[1]
    job["rule_packs"] = packs
    for host, app in entry["hosts"]:
        address = host_address(hostvars, host)
        address = "[%s]" % address if ":" in address and not address.startswith("[") else address
        labels = dict(check_labels("%s on %s" % (name, host), HOST_LABELS_VAR, _hostvar(hostvars, host, HOST_LABELS_VAR), kind=KIND),
                      **check_labels("%s on %s" % (name, host), "labels", app.get("labels"), kind=KIND))
        job["targets"].append({"target": "%s:%d" % (address, app["port"]), "labels": labels})
    return job


def application_scrape_jobs(groups, hostvars, group="applications", reserved=None):
    """Scrape job specs (for scrape_plan's ``extra``) of the applications listed in ``app_metrics`` of ``group``'s hosts.

    ``reserved``: job names an application may not take (the exporters' jobs).
    """
    apps = _collect(groups, hostvars, group)
    for name in apps:
        if name in (reserved or []):
            raise _error(apps[name]["owner"], "name", "is the name of a scrape job of the stack (%s); choose another"
                         % ", ".join(sorted(reserved)))
    instances = _pack_instances(apps)
    return [_job(name, entry, instances.get(name), hostvars) for name, entry in apps.items()]
