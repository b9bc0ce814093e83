# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus scrape jobs from inventory groups; documentation is in the sidecar scrape_plan.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._scrape import (
    ScrapeSpecError,
    scrape_plan as _scrape_plan,
)


def scrape_plan(jobs, groups, hostvars, **kwargs):
    """Job specs + inventory -> scrape_configs, file_sd target groups, alerting, remote_write and secret files."""
    try:
        return _scrape_plan(jobs, groups, hostvars, **kwargs)
    except ScrapeSpecError as exc:
        raise AnsibleFilterError("scrape_plan: %s" % exc) from exc
    except TypeError as exc:
        raise AnsibleFilterError("scrape_plan: %s" % exc) from exc


class FilterModule:
    """Prometheus scrape configuration filters."""

    def filters(self):
        return {"scrape_plan": scrape_plan}
