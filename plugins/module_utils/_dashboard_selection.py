# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which dashboards of the grafana role's library a site gets: the ones for the components its inventory runs.

An entry of the library list is ``{name, groups, packs}``. Without ``groups`` and ``packs`` the dashboard is always
provisioned; otherwise when one of its ``groups`` has hosts, or when Prometheus renders one of its rule ``packs``.
The packs Prometheus renders are read from the hosts of the Prometheus group as the prometheus role selects them:
their ``prometheus_rule_packs`` when it is a list, else (null, the default) the ``rule_packs`` of the scrape jobs
that have targets. Only jobs the inventory can show are seen here (``prometheus_scrape_jobs`` when the inventory
sets it, ``prometheus_extra_scrape_jobs``, with ``prometheus_scrape_job_overrides`` applied to them): the role's
default jobs name infrastructure packs that follow their groups, which ``groups`` covers.
"""

from __future__ import annotations

import re

# The inventory readers of the scrape plan (one copy, shared with the Prometheus scrape targets).
from ansible_collections.monitoring.stack.plugins.module_utils._scrape import _group_hosts, _hostvar, _rule_packs
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, did_you_mean, plain

LIBRARY_KEYS = ("name", "groups", "packs")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _names(entry, key, index):
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
        raise SpecError("dashboard %r (entry %d): %s must be a list of names, got %r"
                        % (entry.get("name"), index, key, value))
    return list(value)


def check_library(library):
    """The library entries as ``[{name, groups, packs}]``; SpecError for a malformed or repeated entry."""
    if not isinstance(library, (list, tuple)):
        raise SpecError("the dashboard library must be a list of {name, groups, packs}, got %s"
                        % type(library).__name__)
    result, seen = [], set()
    for index, entry in enumerate(library):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise SpecError("entry %d of the dashboard library must be a mapping {name, groups, packs}, got %r"
                            % (index, entry))
        unknown = sorted(str(key) for key in entry if key not in LIBRARY_KEYS)
        if unknown:
            raise SpecError("dashboard %r (entry %d): unknown key %s%s; allowed: %s"
                            % (entry.get("name"), index, unknown[0], did_you_mean(unknown[0], LIBRARY_KEYS),
                               ", ".join(LIBRARY_KEYS)))
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise SpecError("entry %d of the dashboard library needs a name (a file name of files/dashboards "
                            "without .yml), got %r" % (index, name))
        if name in seen:
            raise SpecError("dashboard %r is listed twice in the dashboard library" % name)
        seen.add(name)
        result.append({"name": name, "groups": _names(entry, "groups", index), "packs": _names(entry, "packs", index)})
    return result


def _job_has_targets(job, groups):
    return bool(_group_hosts(groups, job.get("group"))) or bool(job.get("targets"))


def _visible_jobs(hostvars, host):
    """The scrape jobs of a Prometheus host that its inventory shows, with the overrides that name them applied."""
    jobs = [dict(job) for job in plain(_hostvar(hostvars, host, "prometheus_scrape_jobs", [])) or [] if isinstance(job, dict)]
    for extra in plain(_hostvar(hostvars, host, "prometheus_extra_scrape_jobs", [])) or []:
        if not isinstance(extra, dict):
            continue
        jobs = [job for job in jobs if job.get("name") != extra.get("name")] + [dict(extra)]
    overrides = plain(_hostvar(hostvars, host, "prometheus_scrape_job_overrides", {})) or {}
    if isinstance(overrides, dict):
        for job in jobs:
            change = overrides.get(job.get("name"))
            if isinstance(change, dict):
                job.update(change)
    return jobs


def prometheus_packs(groups, hostvars, prometheus_group="prometheus"):
    """The rule packs the hosts of ``prometheus_group`` render, as far as the inventory shows them (sorted names)."""
    packs = set()
    for host in _group_hosts(groups, prometheus_group):
        enabled = plain(_hostvar(hostvars, host, "prometheus_rule_packs"))
        if enabled is not None:
            if isinstance(enabled, str) or not isinstance(enabled, (list, tuple)):
                raise SpecError("prometheus_rule_packs of %s must be a list of pack names or null, got %r"
                                % (host, enabled))
            packs.update(str(name) for name in enabled)
            continue
        for job in _visible_jobs(hostvars, host):
            if job.get("enabled") is False or not _job_has_targets(job, groups):
                continue
            try:
                packs.update(_rule_packs(str(job.get("name")), job))
            except SpecError as exc:
                raise SpecError("%s (in the inventory of Prometheus host %s)" % (exc, host)) from exc
    return sorted(packs)


def library_dashboards(library, groups, hostvars, prometheus_group="prometheus"):
    """The names of the library dashboards the inventory calls for, in library order."""
    entries = check_library(library)
    packs = None
    selected = []
    for entry in entries:
        wanted = not entry["groups"] and not entry["packs"]
        if not wanted and any(_group_hosts(groups, group) for group in entry["groups"]):
            wanted = True
        if not wanted and entry["packs"]:
            if packs is None:
                packs = set(prometheus_packs(groups, hostvars, prometheus_group))
            wanted = any(pack in packs for pack in entry["packs"])
        if wanted:
            selected.append(entry["name"])
    return selected
