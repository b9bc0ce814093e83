"""Unit tests for the PostgreSQL settings filters (plugins/filter/postgres.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.postgres import FilterModule

F = FilterModule().filters()


@pytest.mark.parametrize("current, expected", [
    ("", ["pg_stat_statements"]),
    (None, ["pg_stat_statements"]),
    ("timescaledb, pg_cron", ["timescaledb", "pg_cron", "pg_stat_statements"]),
    ('"timescaledb",pg_stat_statements', ["timescaledb", "pg_stat_statements"]),
    (["auto_explain", "auto_explain"], ["auto_explain", "pg_stat_statements"]),
])
def test_adds_only_what_is_missing_and_keeps_the_order(current, expected):
    assert F["pg_preload_libraries"](current, ["pg_stat_statements"]) == expected


def test_nothing_to_add_keeps_the_setting():
    assert F["pg_preload_libraries"]("a,b") == ["a", "b"]
    assert F["pg_preload_libraries"]("a", "b") == ["a", "b"]


@pytest.mark.parametrize("bad", ["a;drop", "x y", {"a": 1}])
def test_refuses_what_is_not_a_library(bad):
    with pytest.raises(AnsibleFilterError, match="pg_preload_libraries"):
        F["pg_preload_libraries"](bad, "pg_stat_statements")
