"""Every role's meta/argument_specs.yml matches its defaults/main.yml key for key and types every option."""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))
PY_TYPES = {
    "str": str, "path": str, "int": int, "bool": bool, "float": (int, float),
    "dict": dict, "list": list, "raw": object,
}


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _options(role):
    spec = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    return spec.get("options", {})


def test_there_are_roles():
    assert ROLES, "no roles found"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_spec_keys_match_defaults(role):
    defaults = _load(role / "defaults" / "main.yml")
    options = _options(role)
    missing = sorted(set(defaults) - set(options))
    extra = sorted(k for k, v in options.items() if k not in defaults and not v.get("required"))
    assert not missing, "%s: defaults without an argument spec: %s" % (role.name, missing)
    assert not extra, "%s: optional specs without a default in defaults/main.yml: %s" % (role.name, extra)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_every_option_is_typed_and_described(role):
    for name, option in _options(role).items():
        assert name.startswith(role.name + "_"), "%s: option %s lacks the role prefix" % (role.name, name)
        assert option.get("type") in PY_TYPES, "%s: option %s has no valid type" % (role.name, name)
        assert option.get("description"), "%s: option %s has no description" % (role.name, name)
        if option["type"] == "list":
            assert option.get("elements"), "%s: list option %s needs elements" % (role.name, name)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_have_the_declared_type_and_value(role):
    defaults = _load(role / "defaults" / "main.yml")
    for name, option in _options(role).items():
        if name not in defaults:
            continue
        value = defaults[name]
        if isinstance(value, str) and "{{" in value:
            continue  # templated: its type is only known at run time
        if value is not None:
            assert isinstance(value, PY_TYPES[option["type"]]), (
                "%s: default of %s is %s, spec says %s" % (role.name, name, type(value).__name__, option["type"]))
        if "default" in option:
            assert option["default"] == value, "%s: spec default of %s differs from defaults/main.yml" % (role.name, name)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_layout(role):
    for rel in ("defaults/main.yml", "meta/main.yml", "meta/argument_specs.yml", "tasks/main.yml", "README.md"):
        assert (role / rel).is_file(), "%s lacks %s" % (role.name, rel)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_readme_variables_table_is_generated_from_specs(role):
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "harness" / "role_readme.py"), "--check", role.name],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
