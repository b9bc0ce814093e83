"""Unit tests for monitoring.stack.unknown_role_vars (plugins/filter/role_vars.py, module_utils/_role_vars.py)."""

import os
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.role_vars import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._role_vars import RoleVarsError, unknown_role_vars

F = FilterModule().filters()
ROOT = pathlib.Path(__file__).resolve().parents[4]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))


def _role(root, name, options, entry_point="main"):
    meta = root / "roles" / name / "meta"
    meta.mkdir(parents=True)
    spec = {"argument_specs": {entry_point: {"short_description": name, "options": options}}}
    (meta / "argument_specs.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")


@pytest.fixture(name="tree")
def fixture_tree(tmp_path):
    """A fake collection: roles log and log_shipper share the prefix log_; role _private is not public."""
    _role(tmp_path, "log", {
        "log_level": {"type": "str"},
        "log_format": {"type": "str"},
        "log_tls": {"type": "dict", "options": {"cert_file": {"type": "path"}, "key_file": {"type": "path"}}},
    })
    _role(tmp_path, "log_shipper", {"log_shipper_agent": {"type": "str"}, "log_shipper_sources": {"type": "list"}})
    _role(tmp_path, "_private", {"_private_x": {"type": "str"}})
    return tmp_path


def _msg(name, role, hint=None):
    text = "`%s` is not a variable of monitoring.stack.%s" % (name, role)
    return text + ("; did you mean `%s`?" % hint if hint else ".")


# --------------------------------------------------------------------------- fake collection tree


def test_known_options_and_other_prefixes_give_nothing(tree):
    names = ["log_level", "log_format", "_log_private", "__log_registered", "logger", "prometheus_x", "inventory_hostname"]
    assert unknown_role_vars(names, "log", root=str(tree)) == []


def test_unknown_name_names_the_closest_option(tree):
    assert unknown_role_vars(["log_levle"], "log", root=str(tree)) == [_msg("log_levle", "log", "log_level")]


def test_nothing_close_gives_no_suggestion(tree):
    assert unknown_role_vars(["log_zzzzzzzz"], "log", root=str(tree)) == [_msg("log_zzzzzzzz", "log")]


def test_an_extended_or_shortened_option_is_suggested(tree):
    assert unknown_role_vars(["log_level_enabled", "log_form"], "log", root=str(tree)) == [
        _msg("log_form", "log", "log_format"), _msg("log_level_enabled", "log", "log_level")]


def test_a_key_of_a_dict_option_written_as_a_variable(tree):
    assert unknown_role_vars(["log_cert_file", "log_tls_key_file"], "log", root=str(tree)) == [
        _msg("log_cert_file", "log", "log_tls.cert_file"), _msg("log_tls_key_file", "log", "log_tls.key_file")]


def test_option_of_a_longer_prefix_role_is_not_an_error(tree):
    # log_shipper_agent starts with log_, but it is an option of log_shipper, a longer prefix match.
    assert unknown_role_vars(["log_shipper_agent", "log_shipper_sources"], "log", root=str(tree)) == []


def test_longer_prefix_alone_is_not_enough(tree):
    # log_shipper_agnt matches the prefix of log_shipper but is not one of its options: reported for log too,
    # with the other role's option as the suggestion.
    assert unknown_role_vars(["log_shipper_agnt"], "log", root=str(tree)) == [
        _msg("log_shipper_agnt", "log", "log_shipper_agent")]
    assert unknown_role_vars(["log_shipper_agnt"], "log_shipper", root=str(tree)) == [
        _msg("log_shipper_agnt", "log_shipper", "log_shipper_agent")]


def test_option_of_a_shorter_prefix_role_is_still_an_error(tmp_path):
    # log_shipper_mode is an option of the role log, whose name is a shorter prefix than log_shipper:
    # for log_shipper it is an unknown variable all the same.
    _role(tmp_path, "log", {"log_level": {"type": "str"}, "log_shipper_mode": {"type": "str"}})
    _role(tmp_path, "log_shipper", {"log_shipper_agent": {"type": "str"}})
    assert unknown_role_vars(["log_shipper_mode"], "log", root=str(tmp_path)) == []
    assert unknown_role_vars(["log_shipper_mode"], "log_shipper", root=str(tmp_path)) == [_msg("log_shipper_mode", "log_shipper")]


def test_messages_are_sorted_unique_and_skip_non_strings(tree):
    names = ["log_zz2", "log_zz1", "log_zz1", 42, None]
    assert unknown_role_vars(names, "log", root=str(tree)) == [_msg("log_zz1", "log"), _msg("log_zz2", "log")]


def test_a_mapping_gives_its_keys_and_ignore_takes_patterns(tree):
    names = {"log_levle": 1, "log_site_a": 2, "log_site_b": 3}
    assert unknown_role_vars(names, "log", root=str(tree), ignore=["log_site_*"]) == [_msg("log_levle", "log", "log_level")]


def test_fully_qualified_role_name(tree):
    assert unknown_role_vars(["log_levle"], "monitoring.stack.log", root=str(tree)) == [_msg("log_levle", "log", "log_level")]


def test_other_entry_point(tree):
    _role(tree, "agent", {"agent_main_only": {"type": "str"}})
    spec_file = tree / "roles" / "agent" / "meta" / "argument_specs.yml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec["argument_specs"]["configure"] = {"options": {"agent_port": {"type": "int"}}}
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert unknown_role_vars(["agent_port", "agent_main_only"], "agent", root=str(tree), entry_point="configure") == [
        _msg("agent_main_only", "agent")]


def test_a_changed_spec_is_read_again(tree):
    assert len(unknown_role_vars(["log_new"], "log", root=str(tree))) == 1
    spec_file = tree / "roles" / "log" / "meta" / "argument_specs.yml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec["argument_specs"]["main"]["options"]["log_new"] = {"type": "str"}
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    stat = spec_file.stat()
    os.utime(spec_file, (stat.st_atime, stat.st_mtime + 10))
    assert unknown_role_vars(["log_new"], "log", root=str(tree)) == []


@pytest.mark.parametrize("role, names, message", [
    ("nope", [], "has no meta/argument_specs.yml"),
    ("../log", [], "is not a role name"),
    (42, [], "must be a role name"),
    ("log", "log_level", "expected a list of variable names"),
    ("log", 7, "expected a list of variable names"),
])
def test_bad_input_is_refused(tree, role, names, message):
    with pytest.raises(RoleVarsError, match=message):
        unknown_role_vars(names, role, root=str(tree))


def test_missing_entry_point_is_refused(tree):
    with pytest.raises(RoleVarsError, match="no entry point 'install'"):
        unknown_role_vars([], "log", root=str(tree), entry_point="install")


# --------------------------------------------------------------------------- the real roles, through the filter


def test_real_node_exporter_suggests_the_plural():
    assert F["unknown_role_vars"](["node_exporter_basic_auth_user"], "node_exporter") == [
        _msg("node_exporter_basic_auth_user", "node_exporter", "node_exporter_basic_auth_users")]


def test_real_prometheus_scrape_interval_points_at_the_global_section():
    assert F["unknown_role_vars"](["prometheus_scrape_interval"], "prometheus") == [
        _msg("prometheus_scrape_interval", "prometheus", "prometheus_global.scrape_interval")]


def test_real_prometheus_rule_packs_enabled():
    assert F["unknown_role_vars"](["prometheus_rule_packs_enabled"], "monitoring.stack.prometheus") == [
        _msg("prometheus_rule_packs_enabled", "prometheus", "prometheus_rule_packs")]


def test_real_prometheus_knows_the_target_hostvars():
    assert F["unknown_role_vars"](["prometheus_target_address", "prometheus_target_labels"], "prometheus") == []


@pytest.mark.parametrize("role", ROLES)
def test_real_roles_know_their_own_options(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = list(spec["argument_specs"]["main"]["options"])
    defaults = list(yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")) or {})
    others = [name for other in ROLES if other != role
              for name in yaml.safe_load((ROOT / "roles" / other / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
              ["argument_specs"]["main"]["options"]]
    assert F["unknown_role_vars"](options + defaults + others, role) == []


def test_filter_errors_are_ansible_filter_errors():
    with pytest.raises(AnsibleFilterError, match="unknown_role_vars: role 'no_such_role' has no meta/argument_specs.yml"):
        F["unknown_role_vars"]([], "no_such_role")
