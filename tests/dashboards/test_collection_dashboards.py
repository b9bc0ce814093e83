# -*- coding: utf-8 -*-
"""The dashboard specs under dashboards/ (Redis, Kafka, PostgreSQL tables, the application contracts).

They are checked like the grafana role's library (check_dashboards.py): rendered with the
grafana_dashboard filter's code, linted (grid, datasources, variables, unique uids, also against the
library's uids) and every PromQL expression validated with promtool. `make dashboards` covers only the
library; `check_dashboards.py --spec dashboards/<name>.yml` checks one of these by hand.
"""

from __future__ import annotations

import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check_dashboards  # noqa: E402  pylint: disable=wrong-import-position

SPECS = sorted(glob.glob(os.path.join(check_dashboards.REPO, "dashboards", "*.yml")))


def test_there_are_collection_dashboards():
    assert SPECS


@pytest.fixture(name="rendered", scope="module")
def fixture_rendered():
    dashboards, errors = check_dashboards.render_library(SPECS)
    assert not errors, errors
    return dashboards


def test_structure_and_uids_with_the_library(rendered):
    assert check_dashboards.check_structure(rendered) == []


def test_every_query_passes_promtool(rendered):
    ours = [(path, dashboard) for path, dashboard in rendered if path in SPECS]
    assert len(ours) == len(SPECS)
    passed, failures = check_dashboards.check_with_promtool(check_dashboards.collect_queries(ours))
    assert not failures, "\n".join(failures)
    assert passed > 0
