# -*- coding: utf-8 -*-
"""Unit tests of monitoring.stack.grafana_ini."""

from __future__ import annotations

import configparser

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.grafana_ini import FilterModule

grafana_ini = FilterModule().filters()["grafana_ini"]


def test_sections_globals_and_types():
    text = grafana_ini({
        "instance_name": "grafana-1",
        "server": {"http_port": 3000, "protocol": "http", "enforce_domain": False},
        "auth.anonymous": {"enabled": False},
        "security": {"cookie_secure": True, "empty": None, "origins": ["a.example", "b.example"]},
    })
    assert text == (
        "instance_name = grafana-1\n"
        "\n[server]\nhttp_port = 3000\nprotocol = http\nenforce_domain = false\n"
        "\n[auth.anonymous]\nenabled = false\n"
        "\n[security]\ncookie_secure = true\nempty = \norigins = a.example,b.example\n"
    )
    parser = configparser.RawConfigParser()
    parser.read_string("[top]\n" + text)
    assert parser.get("auth.anonymous", "enabled") == "false"


def test_values_with_comment_characters_are_triple_quoted():
    text = grafana_ini({"security": {"admin_password": "p#ss;word", "plain": "abc", "spaced": " x "}})
    assert 'admin_password = """p#ss;word"""' in text
    assert "plain = abc\n" in text
    assert 'spaced = """ x """' in text


def test_env_and_file_expansion_is_kept():
    assert "password = $__file{/etc/grafana/db.pass}\n" in grafana_ini({"database": {"password": "$__file{/etc/grafana/db.pass}"}})


def test_refuses_triple_quotes():
    with pytest.raises(AnsibleFilterError, match="triple quotes"):
        grafana_ini({"security": {"admin_password": 'a"""b'}})


def test_refuses_nested_sections():
    with pytest.raises(AnsibleFilterError, match="auth.generic_oauth"):
        grafana_ini({"auth": {"generic_oauth": {"enabled": True}}})


def test_refuses_bad_keys_and_input():
    with pytest.raises(AnsibleFilterError, match="key"):
        grafana_ini({"server": {"http port": 1}})
    with pytest.raises(AnsibleFilterError, match="mapping"):
        grafana_ini(["server"])


def test_empty_settings():
    assert grafana_ini({}) == "\n"


def test_plugin_documentation_is_valid_yaml():
    import os  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel
    from ansible_collections.monitoring.stack.plugins.filter import grafana_ini as plugin  # pylint: disable=import-outside-toplevel
    with open(os.path.join(os.path.dirname(plugin.__file__), "grafana_ini.yml"), encoding="utf-8") as handle:
        sidecar = yaml.safe_load(handle)
    assert sidecar["DOCUMENTATION"]["name"] == "grafana_ini"
    assert yaml.safe_load(sidecar["EXAMPLES"])
    assert "_value" in sidecar["RETURN"]
