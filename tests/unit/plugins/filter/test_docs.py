# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter of the collection has its own sidecar doc <filter>.yml that matches its signature."""

from __future__ import annotations

import glob
import importlib
import inspect
import os

import pytest
import yaml

FILTER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "plugins", "filter")


def _filters():
    found = {}
    for path in sorted(glob.glob(os.path.join(FILTER_DIR, "*.py"))):
        module = importlib.import_module("ansible_collections.monitoring.stack.plugins.filter." + os.path.basename(path)[:-3])
        for name, function in module.FilterModule().filters().items():
            assert name not in found, "filter %s is defined twice" % name
            found[name] = (module, function)
    return found


FILTERS = _filters()


def _sidecar(name):
    with open(os.path.join(FILTER_DIR, name + ".yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filter_has_its_own_sidecar_doc(name):
    module, function = FILTERS[name]
    assert not hasattr(module, "DOCUMENTATION"), "%s: DOCUMENTATION in the .py hides the sidecar docs" % module.__name__
    sidecar = _sidecar(name)
    doc = sidecar["DOCUMENTATION"]
    assert doc["name"] == name
    assert doc["short_description"] and doc["description"]
    assert "_input" in doc["options"]
    assert isinstance(yaml.safe_load(sidecar["EXAMPLES"]), list)
    assert "monitoring.stack.%s" % name in sidecar["EXAMPLES"]
    assert "_value" in sidecar["RETURN"]
    parameters = inspect.signature(function).parameters
    if any(p.kind == p.VAR_POSITIONAL for p in parameters.values()):
        return  # nothing to compare with
    named = list(parameters)[1:]
    options = set(doc["options"]) - {"_input"}
    if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        assert options <= set(named), "%s documents options it does not take: %s" % (name, sorted(options - set(named)))
    documented = [p for p in named if parameters[p].kind != parameters[p].VAR_KEYWORD]
    assert set(documented) <= options, "%s takes undocumented options: %s" % (name, sorted(set(documented) - options))


def test_short_descriptions_are_distinct():
    seen = {}
    for name in FILTERS:
        text = _sidecar(name)["DOCUMENTATION"]["short_description"]
        assert text not in seen, "%s and %s share the short_description %r" % (seen[text], name, text)
        seen[text] = name
