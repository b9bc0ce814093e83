# -*- coding: utf-8 -*-
"""The grafana role's dashboard library is one list: the spec files of roles/grafana/files/dashboards, the entries of
grafana_dashboards_library (defaults and argument_specs) and the choices of grafana_dashboards_builtin name the same
dashboards, so a new spec cannot be left unprovisioned or a listed one be missing.

Rendering, the structure checks and promtool over every query of every file are in test_check_dashboards.py
(`make dashboards`); the choice of dashboards from the inventory in
tests/unit/plugins/filter/test_grafana_library_dashboards.py.
"""

from __future__ import annotations

import glob
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check_dashboards  # noqa: E402  pylint: disable=wrong-import-position

ROLE = os.path.join(check_dashboards.REPO, "roles", "grafana")
FILES = sorted(os.path.basename(path)[:-4] for path in glob.glob(os.path.join(check_dashboards.LIBRARY_DIR, "*.yml")))


def _load(*parts):
    with open(os.path.join(ROLE, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_library_holds_the_service_and_contract_dashboards():
    assert {"redis", "kafka", "postgresql_tables", "business", "notifications", "mobile_sync"} <= set(FILES)
    assert not os.path.exists(os.path.join(check_dashboards.REPO, "dashboards")), "dashboard specs belong in the library"


def test_library_entries_name_every_file_once():
    library = _load("defaults", "main.yml")["grafana_dashboards_library"]
    names = [entry["name"] for entry in library]
    assert sorted(names) == FILES
    assert len(names) == len(set(names))


def test_argument_specs_allow_exactly_the_library():
    options = _load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options["grafana_dashboards_builtin"]["choices"]) == FILES
    assert sorted(options["grafana_dashboards_library"]["options"]["name"]["choices"]) == FILES


def test_every_library_file_renders_with_a_unique_uid():
    dashboards, errors = check_dashboards.render_library()
    assert errors == []
    assert sorted(os.path.basename(path)[:-4] for path, _d in dashboards) == FILES
    assert check_dashboards.check_structure(dashboards) == []
