# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager routing from a severity policy; documentation is in the sidecar alertmanager_config.yml and alertmanager_cluster_peers.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._alertmanager import (
    AlertmanagerSpecError,
    alertmanager_config as _alertmanager_config,
    cluster_peers as _cluster_peers,
)


def alertmanager_config(policy, **kwargs):
    """Severity policy + channels -> Alertmanager config, secret files and unconfigured channel names."""
    try:
        return _alertmanager_config(policy, **kwargs)
    except (AlertmanagerSpecError, TypeError) as exc:
        raise AnsibleFilterError("alertmanager_config: %s" % exc) from exc


def alertmanager_cluster_peers(hosts, hostvars, port, **kwargs):
    """Hosts of the cluster group -> ``--cluster.peer`` addresses of the other peers."""
    try:
        return _cluster_peers(hosts, hostvars, port, **kwargs)
    except (AlertmanagerSpecError, TypeError) as exc:
        raise AnsibleFilterError("alertmanager_cluster_peers: %s" % exc) from exc


class FilterModule:
    """Alertmanager configuration filters."""

    def filters(self):
        return {
            "alertmanager_config": alertmanager_config,
            "alertmanager_cluster_peers": alertmanager_cluster_peers,
        }
