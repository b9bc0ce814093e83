# -*- coding: utf-8 -*-
"""Unit tests of monitoring.stack.grafana_library_dashboards: the grafana role's library dashboards chosen from the
inventory (groups with hosts, the rule packs the Prometheus hosts render), with the role's default library and with
the example inventory loaded by Ansible itself."""

from __future__ import annotations

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.dashboards import FilterModule

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
choose = FilterModule().filters()["grafana_library_dashboards"]

with open(os.path.join(ROOT, "roles", "grafana", "defaults", "main.yml"), encoding="utf-8") as _handle:
    LIBRARY = yaml.safe_load(_handle)["grafana_dashboards_library"]
CORE = ["infrastructure", "containers", "postgresql", "http", "backups", "alerts", "logs", "prometheus"]


def _bad(fragments, *args, **kwargs):
    with pytest.raises(AnsibleFilterError) as info:
        choose(*args, **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_a_site_without_the_components_gets_the_core_dashboards_only():
    assert choose(LIBRARY, {"prometheus": ["mon1"], "grafana": ["mon1"]}, {"mon1": {}}) == CORE


def test_exporter_groups_with_hosts_bring_their_dashboards():
    groups = {"prometheus": ["mon1"], "postgres_exporter": ["db1"], "redis_exporter": ["db1"], "kafka_exporter": ["k1"]}
    assert choose(LIBRARY, groups, {}) == CORE + ["postgresql_tables", "redis", "kafka"]


def test_an_empty_group_brings_nothing():
    assert choose(LIBRARY, {"prometheus": ["mon1"], "redis_exporter": [], "kafka_exporter": []}, {}) == CORE


def test_packs_listed_in_prometheus_rule_packs_bring_the_contract_dashboards():
    hostvars = {"mon1": {"prometheus_rule_packs": ["node", "business", "mobile_sync"]}}
    assert choose(LIBRARY, {"prometheus": ["mon1"]}, hostvars) == CORE + ["business", "mobile_sync"]


def test_packs_of_any_prometheus_replica_count():
    hostvars = {"mon1": {"prometheus_rule_packs": ["node"]}, "mon2": {"prometheus_rule_packs": ["notifications"]}}
    assert choose(LIBRARY, {"prometheus": ["mon1", "mon2"]}, hostvars) == CORE + ["notifications"]


def test_an_application_scrape_job_with_targets_brings_its_contract_packs():
    """docs/contracts.md: the usual way to turn a contract on is a job in prometheus_extra_scrape_jobs."""
    job = {"name": "app", "group": "app_servers", "port": 8000,
           "rule_packs": {"notifications": {"job": "app"}, "mobile_sync": {"job": "app"}, "business": {"job": "app"}}}
    hostvars = {"mon1": {"prometheus_extra_scrape_jobs": [job]}}
    assert choose(LIBRARY, {"prometheus": ["mon1"], "app_servers": ["app1"]}, hostvars) == CORE + [
        "business", "notifications", "mobile_sync"]
    # The same job without hosts in its group scrapes nothing and renders no pack.
    assert choose(LIBRARY, {"prometheus": ["mon1"], "app_servers": []}, hostvars) == CORE
    # Static targets are targets too; a list of pack names works like a mapping.
    static = dict(job, group=None, targets=["app.example.org:8000"], rule_packs=["business"])
    assert choose(LIBRARY, {"prometheus": ["mon1"]}, {"mon1": {"prometheus_extra_scrape_jobs": [static]}}) == CORE + ["business"]


def test_scrape_jobs_set_in_the_inventory_and_their_overrides_count():
    jobs = [{"name": "app", "group": "app_servers", "port": 8000, "rule_packs": {"business": {}}}]
    groups = {"prometheus": ["mon1"], "app_servers": ["app1"]}
    assert choose(LIBRARY, groups, {"mon1": {"prometheus_scrape_jobs": jobs}}) == CORE + ["business"]
    off = {"prometheus_scrape_jobs": jobs, "prometheus_scrape_job_overrides": {"app": {"enabled": False}}}
    assert choose(LIBRARY, groups, {"mon1": off}) == CORE
    more = {"prometheus_scrape_jobs": jobs, "prometheus_scrape_job_overrides": {"app": {"rule_packs": {"notifications": {}}}}}
    assert choose(LIBRARY, groups, {"mon1": more}) == CORE + ["notifications"]
    # An override of one of the role's default jobs (not in the inventory) is no error here.
    assert choose(LIBRARY, groups, {"mon1": {"prometheus_scrape_job_overrides": {"node": {"port": 9200}}}}) == CORE


def test_an_explicit_pack_list_wins_over_the_scrape_jobs():
    """As in roles/prometheus: prometheus_rule_packs set (even empty) replaces the packs of the scrape jobs."""
    job = {"name": "app", "group": "app_servers", "port": 8000, "rule_packs": {"business": {}}}
    hostvars = {"mon1": {"prometheus_rule_packs": [], "prometheus_extra_scrape_jobs": [job]}}
    assert choose(LIBRARY, {"prometheus": ["mon1"], "app_servers": ["app1"]}, hostvars) == CORE


def test_without_prometheus_hosts_no_pack_is_rendered():
    assert choose(LIBRARY, {"redis_exporter": ["r1"]}, {"x": {"prometheus_rule_packs": ["business"]}}) == CORE + ["redis"]


def test_another_prometheus_group_can_be_named():
    hostvars = {"p1": {"prometheus_rule_packs": ["business"]}}
    assert choose(LIBRARY, {"metrics": ["p1"]}, hostvars, prometheus_group="metrics") == CORE + ["business"]


def test_either_condition_is_enough_and_order_is_the_library_order():
    library = [{"name": "redis", "groups": ["redis_exporter"], "packs": ["redis"]}, "infrastructure",
               {"name": "kafka", "groups": "kafka_exporter"}]
    hostvars = {"mon1": {"prometheus_rule_packs": ["redis"]}}
    assert choose(library, {"prometheus": ["mon1"]}, hostvars) == ["redis", "infrastructure"]
    assert choose(library, {"kafka_exporter": ["k1"]}, {}) == ["infrastructure", "kafka"]


@pytest.mark.parametrize("library, fragments", [
    ("infrastructure", ["must be a list of {name, groups, packs}"]),
    ([{"name": "redis", "group": ["redis_exporter"]}], ["dashboard 'redis'", "unknown key group", "did you mean 'groups'"]),
    ([{"groups": ["x"]}], ["entry 0", "needs a name"]),
    ([{"name": "Redis Board"}], ["needs a name", "'Redis Board'"]),
    ([{"name": "redis"}, {"name": "redis"}], ["'redis' is listed twice"]),
    ([{"name": "redis", "packs": [1]}], ["packs must be a list of names"]),
    ([42], ["entry 0", "must be a mapping"]),
])
def test_bad_library_entries_are_named(library, fragments):
    _bad(["monitoring.stack.grafana_library_dashboards"] + fragments, library, {}, {})


def test_a_pack_variable_that_is_not_a_list_is_named():
    _bad(["prometheus_rule_packs of mon1 must be a list"], LIBRARY, {"prometheus": ["mon1"]},
         {"mon1": {"prometheus_rule_packs": "business"}})


def test_bad_rule_packs_of_a_job_name_the_job_and_host():
    job = {"name": "app", "group": "app_servers", "rule_packs": "business"}
    _bad(["'app'", "rule_packs", "Prometheus host mon1"], LIBRARY, {"prometheus": ["mon1"], "app_servers": ["a"]},
         {"mon1": {"prometheus_extra_scrape_jobs": [job]}})


# --------------------------------------------------------------------------- the example inventory, as Ansible reads it


def _example(host_vars=None):
    """groups and hostvars of inventories/example as Ansible's own inventory and variable managers give them, with
    ``host_vars`` ({host: {name: value}}) set on hosts as include_vars sets them (molecule/production's mapping)."""
    from ansible.inventory.manager import InventoryManager  # pylint: disable=import-outside-toplevel
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
    from ansible.parsing.vault import VaultSecret  # pylint: disable=import-outside-toplevel
    from ansible.vars.hostvars import HostVars  # pylint: disable=import-outside-toplevel
    from ansible.vars.manager import VariableManager  # pylint: disable=import-outside-toplevel

    loader = DataLoader()
    # The example's vault (group_vars/all/vault.yml) opens with the example password, as in molecule/production.
    with open(os.path.join(ROOT, "inventories", "example", "vault-password.example"), "rb") as handle:
        loader.set_vault_secrets([("default", VaultSecret(handle.read().strip()))])
    inventory = InventoryManager(loader=loader, sources=[os.path.join(ROOT, "inventories", "example", "hosts.yml")])
    variables = VariableManager(loader=loader, inventory=inventory)
    for host, values in (host_vars or {}).items():
        for name, value in values.items():
            variables.set_host_variable(host, name, value)
    groups = {name: [h.name for h in group.get_hosts()] for name, group in inventory.groups.items()}
    return groups, HostVars(inventory=inventory, variable_manager=variables, loader=loader)


def test_the_example_inventory_gets_the_core_postgresql_tables_and_redis():
    """db1/db2 are in postgres_exporter and redis_exporter; no Kafka, and no contract pack is turned on."""
    groups, hostvars = _example()
    assert choose(LIBRARY, groups, hostvars) == CORE + ["postgresql_tables", "redis"]


def test_an_application_job_on_the_prometheus_hosts_adds_its_contract_dashboard():
    job = {"name": "notify_app", "group": "nginx", "port": 9500, "rule_packs": {"notifications": {"job": "notify_app"}}}
    groups, hostvars = _example({host: {"prometheus_extra_scrape_jobs": [job]} for host in ("mon1.example.org", "mon2.example.org")})
    assert choose(LIBRARY, groups, hostvars) == CORE + ["postgresql_tables", "redis", "notifications"]
