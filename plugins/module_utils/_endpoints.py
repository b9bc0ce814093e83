# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a daemon of this collection answers on its own host, for the runbooks and hooks that call its API."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._scrape import _port_of, route_prefix
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

# Component: (default port, default config dir, has an external URL / route prefix).
COMPONENTS = {
    "prometheus": (9090, "/etc/prometheus", True),
    "alertmanager": (9093, "/etc/alertmanager", True),
    "pushgateway": (9091, "/etc/pushgateway", False),
    "node_exporter": (9100, "/etc/node_exporter", False),
    "blackbox_exporter": (9115, "/etc/blackbox_exporter", False),
    "postgres_exporter": (9187, "/etc/postgres_exporter", False),
    "nginx_exporter": (9113, "/etc/nginx_exporter", False),
}


def _get(host_vars, key, default=None):
    try:
        value = host_vars.get(key, default)
    except AttributeError:
        return default
    return default if value is None else value


def local_api(host_vars, component, host):
    """``{url, ca_path, scheme}`` of ``component`` on ``host``, from that host's variables.

    Plain HTTP goes to 127.0.0.1. HTTPS (``monitoring_stack_tls`` or ``<component>_tls.cert_file``)
    goes to the host's inventory name, which its certificate carries, and is verified with the site CA
    the engine copied to ``<config_dir>/tls/ca.crt`` (or ``runbook_ca_file`` when the component has a
    TLS setup of its own; empty means the system's trust store). The external URL's path is kept.
    """
    if component not in COMPONENTS:
        raise SpecError("local_api: unknown component %r; one of %s" % (component, ", ".join(sorted(COMPONENTS))))
    port, config_dir, prefixed = COMPONENTS[component]
    port = _port_of(_get(host_vars, component + "_listen_address")) or port
    config_dir = _get(host_vars, component + "_config_dir") or config_dir
    own_tls = _get(host_vars, component + "_tls", {}) or {}
    site_tls = _get(host_vars, "monitoring_stack_tls", {}) or {}
    ca_path = ""
    if isinstance(own_tls, dict) and own_tls.get("cert_file"):
        scheme = "https"
        ca_path = _get(host_vars, "runbook_ca_file", "")
    elif site_tls:
        scheme = "https"
        ca_path = config_dir.rstrip("/") + "/tls/ca.crt"
    else:
        scheme = "http"
    address = str(host) if scheme == "https" else "127.0.0.1"
    path = route_prefix("%s_external_url of %s" % (component, host),
                        _get(host_vars, component + "_external_url")) if prefixed else ""
    return {"url": "%s://%s:%d%s" % (scheme, address, port, path), "ca_path": ca_path, "scheme": scheme}
