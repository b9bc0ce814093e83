# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the provisioned Grafana datasources, whoever wrote them (the inventory or the user).

:func:`dashboard_datasource_uids` picks the uid behind each dashboard datasource variable, :func:`datasources_check`
is the grafana role's preflight (URL schemes, Loki tenants, dashboard uids), :func:`health_requests` the request
each datasource's own health check sends (URL, credentials, CA, headers), :func:`health_failures` the messages
of the ones that did not answer. Pure Python, no Ansible imports.
"""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.monitoring.stack.plugins.module_utils._dashboard_panels import DATASOURCE_TYPES
from ansible_collections.monitoring.stack.plugins.module_utils._grafana_provisioning import (
    TENANT_HEADER,
    check_ca_cert,
    check_tenants,
    datasource_headers,
    loki_auth_enabled,
    source_target,
)
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

# The read-only request that proves a datasource of each type answers (like Grafana's "Save & test"),
# appended to the datasource URL.
HEALTH_PATHS = {
    "prometheus": "/api/v1/query?query=1",
    "alertmanager": "/api/v2/status",
    "loki": "/loki/api/v1/labels",
}
# Datasource types whose url is an HTTP URL (SQL datasources take host:port).
URL_TYPES = frozenset(HEALTH_PATHS) | frozenset(("tempo", "jaeger", "zipkin", "elasticsearch", "graphite", "influxdb"))
_HTTP_URL = re.compile(r"^https?://[^/?#\s]+")


def _entries(datasources):
    if not isinstance(datasources, list):
        raise SpecError("datasources must be a list, got %s" % type(datasources).__name__)
    for index, datasource in enumerate(datasources):
        if not isinstance(datasource, dict) or not isinstance(datasource.get("name"), str):
            raise SpecError("datasource %d must be a mapping with a name, got %r" % (index, datasource))
    return datasources


def check_url(datasource):
    """SpecError when an HTTP datasource's url has no http:// or https:// scheme and host."""
    url = datasource.get("url")
    if datasource.get("type") in URL_TYPES and url not in (None, "") and not _HTTP_URL.match(str(url)):
        raise SpecError("datasource %r: URL %r has no http:// or https:// scheme and host"
                        % (datasource["name"], url))


def dashboard_datasource_uids(datasources):
    """``{type: uid}`` behind the dashboards' ``${DS_<TYPE>}``: per type the default datasource, else the first one.

    A type without a datasource keeps its own name as uid (the default uids of the collection).
    """
    uids = {}
    for ds_type in DATASOURCE_TYPES:
        of_type = [d for d in _entries(datasources) if d.get("type") == ds_type and d.get("uid")]
        chosen = [d for d in of_type if d.get("isDefault")] or of_type
        uids[ds_type] = str(chosen[0]["uid"]) if chosen else ds_type
    return uids


def _tenant_check(datasources, tenants, sources, groups, hostvars):
    auth = [(host, role) for source in sources or [] if isinstance(source, dict) and source.get("type") == "loki"
            for host, role in [source_target(source, groups)] if host and loki_auth_enabled(hostvars, host, role)]
    if not tenants or not auth:
        return
    covered = set()
    for datasource in datasources:
        if datasource.get("type") == "loki":
            covered.update(value for name, value in datasource_headers(datasource).items()
                           if name.lower() == TENANT_HEADER.lower())
    missing = [tenant for tenant in tenants if tenant not in covered]
    if missing:
        raise SpecError("Loki tenant(s) %s: the log shippers send their logs as %s (log_shipper_tenant_id) and Loki on "
                        "%s needs a tenant with every query (%s_auth_enabled), but no Loki datasource sends %s: %s. Add "
                        "one Loki datasource per tenant (jsonData.httpHeaderName1: %s, secureJsonData.httpHeaderValue1: "
                        "<tenant>), or leave grafana_datasources to its default, which does"
                        % (", ".join(missing), "this tenant" if len(missing) == 1 else "these tenants", auth[0][0],
                           auth[0][1], TENANT_HEADER, ", ".join(missing), TENANT_HEADER))


def _uid_check(datasources, dashboard_uids):
    for ds_type, uid in sorted((dashboard_uids or {}).items()):
        of_type = [str(d["uid"]) for d in datasources if d.get("type") == ds_type and d.get("uid")]
        if of_type and uid not in of_type:
            raise SpecError("grafana_dashboard_datasource_uids.%s is %r, but no %s datasource has that uid (%s): the "
                            "dashboards would query nothing" % (ds_type, uid, ds_type, ", ".join(of_type)))


def datasources_check(datasources, tenants=None, sources=None, groups=None, hostvars=None, dashboard_uids=None):
    """True, or SpecError: for an HTTP datasource URL without scheme, for a Loki tenant of the log shippers that no
    Loki datasource queries while Loki needs tenants, and for a dashboard uid that no datasource of its type has.

    ``sources``, ``groups`` and ``hostvars`` tell whether Loki needs tenants (the ``<role>_auth_enabled`` of the first
    host of a loki source's group); ``dashboard_uids`` is ``{type: uid}`` (checked when that type has datasources).
    """
    datasources = _entries(datasources)
    for datasource in datasources:
        check_url(datasource)
    _tenant_check(datasources, check_tenants(tenants), sources, groups, hostvars)
    _uid_check(datasources, dashboard_uids)
    return True


def _tls(datasource, request, ca_path, ca_cert):
    json_data = datasource.get("jsonData") or {}
    request["validate_certs"] = not json_data.get("tlsSkipVerify", False)
    if not json_data.get("tlsAuthWithCACert") or not request["validate_certs"]:
        return
    name = datasource["name"]
    if not ca_path:
        raise SpecError("datasource %r trusts its own CA (jsonData.tlsAuthWithCACert), but there is no CA file to check "
                        "it with: set grafana_datasources_ca_file, or leave the datasource out of the check "
                        "(grafana_datasources_check_exclude)" % (name,))
    own = str((datasource.get("secureJsonData") or {}).get("tlsCACert") or "").strip()
    if ca_cert and own and own != ca_cert.strip():
        raise SpecError("datasource %r trusts a CA (secureJsonData.tlsCACert) other than grafana_datasources_ca_file: "
                        "the check cannot verify it; leave it out of the check (grafana_datasources_check_exclude)"
                        % (name,))
    request["ca_path"] = ca_path


def health_requests(datasources, exclude=None, ca_path="", ca_cert=""):
    """The health request of every Prometheus, Alertmanager and Loki datasource not in ``exclude``.

    ``exclude`` holds names or uids, or shell patterns of them (``Loki*`` leaves out every tenant's Loki).

    Each is ``{name, uid, url, label, user, password, headers, validate_certs, ca_path}``: the datasource URL with the
    path of its type's health check, its basic-auth user and password (empty without basic auth), its custom headers
    (the Loki tenant), and for https the CA file on the Grafana host (``ca_path``, the copy of the PEM ``ca_cert``)
    when the datasource trusts its own CA. ``label`` names the datasource and the URL, never a credential.
    """
    patterns = [str(item) for item in exclude or []]
    ca_cert = check_ca_cert(ca_cert)
    requests = []
    for datasource in _entries(datasources):
        ds_type = datasource.get("type")
        keys = (datasource["name"], str(datasource.get("uid") or ""))
        if ds_type not in HEALTH_PATHS or any(fnmatch.fnmatchcase(key, pattern) for key in keys for pattern in patterns):
            continue
        if not datasource.get("url"):
            raise SpecError("datasource %r has no url to check: give it one, or leave it out of the check "
                            "(grafana_datasources_check_exclude)" % (datasource["name"],))
        check_url(datasource)
        url = str(datasource["url"]).rstrip("/") + HEALTH_PATHS[ds_type]
        request = {"name": datasource["name"], "uid": str(datasource.get("uid") or ""), "url": url,
                   "label": "Grafana datasource %r (%s)" % (datasource["name"], url), "user": "", "password": "",
                   "headers": datasource_headers(datasource), "validate_certs": True, "ca_path": ""}
        if datasource.get("basicAuth"):
            if not datasource.get("basicAuthUser"):
                raise SpecError("datasource %r has basicAuth but no basicAuthUser" % (datasource["name"],))
            request["user"] = str(datasource["basicAuthUser"])
            request["password"] = str((datasource.get("secureJsonData") or {}).get("basicAuthPassword") or "")
        if url.startswith("https://"):
            _tls(datasource, request, ca_path, ca_cert)
        requests.append(request)
    return requests


def health_failures(results):
    """One message per health request that did not answer HTTP 200, from the registered loop ``results``.

    Only the request's label (datasource name and URL) and the HTTP status are used: never the credentials.
    """
    messages = []
    for result in results or []:
        if not isinstance(result, dict) or result.get("skipped"):
            continue
        item = result.get(result.get("ansible_loop_var") or "item")
        item = item if isinstance(item, dict) else {}
        label = item.get("label") or "Grafana datasource %r" % (item.get("name", "?"),)
        status = result.get("status", -1)
        if status == 200:
            continue
        if status in (None, -1):
            messages.append("%s did not answer over HTTP (connection refused, unknown name, TLS verification failed "
                            "or timeout)" % label)
        else:
            messages.append("%s answered HTTP %s" % (label, status))
    return messages
