# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana's alerting provisioning file, including what it must take back.

Grafana keeps what a provisioning file once created: deleting the file leaves the contact points and the
notification policy tree in its database, locked against edits in the UI. Grafana's file provisioning takes
them back only when told to (docs: "Create and manage alerting resources using file provisioning"):
``deleteContactPoints: [{orgId, uid}]`` deletes a contact point integration, ``resetPolicies: [orgId]``
resets an organisation's policy tree to the default.

:func:`alerting_content` compares what is wanted now with the file the role wrote last time (read from the
host) and writes the removals next to what stays provisioned. A removal stays in the file until the same uid
or organisation is provisioned again, so running the role twice writes the same file (Grafana applies both on
every start: deleting a contact point that is gone and resetting a default tree change nothing).
Controller side only: the monitoring.stack.grafana_plan filter uses it.
"""

from __future__ import annotations

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError


def _org(item):
    org = item.get("orgId", 1) if isinstance(item, dict) else 1
    return org if isinstance(org, int) and not isinstance(org, bool) else 1


def _previous(previous):
    """The previous alerting file as a mapping ({} when there was none or it cannot be read)."""
    if isinstance(previous, (bytes, bytearray)):
        previous = previous.decode("utf-8", "replace")
    if isinstance(previous, str):
        if not previous.strip():
            return {}
        if not HAS_YAML:
            raise SpecError("PyYAML is needed on the controller to read the previous alerting provisioning file")
        try:
            previous = yaml_load(previous)
        except Exception:  # pylint: disable=broad-exception-caught  # a file we cannot read takes nothing back
            return {}
    return previous if isinstance(previous, dict) else {}


def _receivers(contact_points):
    keys = set()
    for point in contact_points or []:
        if not isinstance(point, dict):
            continue
        for receiver in point.get("receivers") or []:
            if isinstance(receiver, dict) and isinstance(receiver.get("uid"), str) and receiver["uid"]:
                keys.add((_org(point), receiver["uid"]))
    return keys


def alerting_content(contact_points=None, policies=None, previous=None):
    """The content of the alerting provisioning file, or None when there is nothing to provision or take back.

    ``previous`` is the file the role wrote last time (YAML text or parsed), empty when there is none.
    """
    for name, value in (("contact_points", contact_points), ("policies", policies)):
        if value is not None and not isinstance(value, list):
            raise SpecError("grafana_alerting_%s must be a list, got %s" % (name, type(value).__name__))
    contact_points = list(contact_points or [])
    policies = list(policies or [])
    old = _previous(previous)
    wanted = _receivers(contact_points)
    provisioned = _receivers(old.get("contactPoints"))
    for item in old.get("deleteContactPoints") or []:
        if isinstance(item, dict) and isinstance(item.get("uid"), str) and item["uid"]:
            provisioned.add((_org(item), item["uid"]))
    policy_orgs = {_org(policy) for policy in policies}
    old_orgs = {_org(policy) for policy in old.get("policies") or []}
    old_orgs.update(org for org in old.get("resetPolicies") or [] if isinstance(org, int) and not isinstance(org, bool))
    delete = [{"orgId": org, "uid": uid} for org, uid in sorted(provisioned - wanted)]
    reset = sorted(old_orgs - policy_orgs)
    if not (contact_points or policies or delete or reset):
        return None
    content = {"apiVersion": 1}
    if contact_points or policies:
        content.update({"contactPoints": contact_points, "policies": policies})
    if delete:
        content["deleteContactPoints"] = delete
    if reset:
        content["resetPolicies"] = reset
    return content
