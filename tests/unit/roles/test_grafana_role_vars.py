# -*- coding: utf-8 -*-
"""The grafana role's own variables, templated by Ansible over its defaults: the grafana.ini it writes, and the
library dashboards it provisions.

The role's vars/main.yml and defaults/main.yml are loaded and templated the way a play does it (trusted
templates, Ansible's Templar), then written with the collection's grafana.ini renderer, so a test reads the
same text the role puts into /etc/grafana/grafana.ini.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.monitoring.stack.plugins.module_utils._grafana_provisioning import grafana_ini

ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                    "roles", "grafana")


def _rendered_ini(**overrides):
    loader = DataLoader()
    variables = {"inventory_hostname": "gf-1"}
    for rel in ("defaults/main.yml", "vars/main.yml"):
        variables.update(loader.load_from_file(os.path.join(ROLE, rel), trusted_as_template=True))
    variables.update(overrides)
    ini = Templar(loader=loader, variables=variables).template(variables["_grafana_ini"])
    parser = configparser.RawConfigParser(interpolation=None)
    parser.read_string("[__top__]\n" + grafana_ini(ini))
    return parser


def test_viewers_can_use_explore_by_default():
    """Read-only developers (Viewer) need Explore: Grafana 12 OSS grants Viewers the Explorer role only through
    [users] viewers_can_edit (issue #13); before, the role wrote viewers_can_edit = false."""
    ini = _rendered_ini()
    assert ini.get("users", "viewers_can_edit") == "true"
    assert ini.get("users", "auto_assign_org_role") == "Viewer"
    # Viewers get Explore, not a way to save: sign-up, org creation and anonymous access stay off.
    assert ini.get("users", "allow_sign_up") == "false"
    assert ini.get("auth.anonymous", "enabled") == "false"


def test_explore_for_viewers_can_be_turned_off():
    assert _rendered_ini(grafana_viewers_can_explore=False).get("users", "viewers_can_edit") == "false"


def test_grafana_ini_still_overrides_the_setting():
    ini = _rendered_ini(grafana_ini={"users": {"viewers_can_edit": False}})
    assert ini.get("users", "viewers_can_edit") == "false"
    assert ini.get("users", "auto_assign_org_role") == "Viewer"


# Templated in a fresh interpreter: Ansible's plugin loader finds the collection's filters only when it is set up
# before anything imports ansible_collections, which this test module (and pytest's other tests) already did.
_TEMPLATE_SCRIPT = """
import json, os, sys
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([sys.argv[1]])
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
args = json.load(sys.stdin)
loader = DataLoader()
variables = {"inventory_hostname": "gf-1"}
for rel in ("defaults/main.yml", "vars/main.yml"):
    variables.update(loader.load_from_file(os.path.join(args["role"], rel), trusted_as_template=True))
variables.update(args["overrides"])
print(json.dumps(Templar(loader=loader, variables=variables).template(variables[args["name"]])))
"""


def _templated(name, **overrides):
    """``name`` of the role's variables templated by Ansible over the role's defaults and vars, with ``overrides``."""
    collections = os.path.join(os.path.dirname(os.path.dirname(ROLE)), ".cache", "collections")
    result = subprocess.run([sys.executable, "-c", _TEMPLATE_SCRIPT, collections], capture_output=True, text=True,
                            input=json.dumps({"role": ROLE, "name": name, "overrides": overrides}), check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_library_dashboards_follow_the_inventory():
    """The default of grafana_dashboards_builtin through Ansible's templating: the core dashboards, and a component's
    or contract's dashboard only where the inventory runs it; the files the role reads follow."""
    groups = {"prometheus": ["mon1"], "grafana": ["mon1"], "redis_exporter": ["db1"]}
    hostvars = {"mon1": {"prometheus_rule_packs": ["node", "business"]}, "db1": {}}
    files = _templated("_grafana_dashboard_builtin_files", groups=groups, hostvars=hostvars)
    assert files == ["dashboards/%s.yml" % name for name in (
        "infrastructure", "containers", "postgresql", "http", "backups", "alerts", "logs", "prometheus", "redis", "business")]
    for path in files:
        assert os.path.isfile(os.path.join(ROLE, "files", path)), path


def test_a_list_of_library_dashboards_is_taken_as_it_is():
    files = _templated("_grafana_dashboard_builtin_files", groups={}, hostvars={}, grafana_dashboards_builtin=["kafka"])
    assert files == ["dashboards/kafka.yml"]
