# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Variables that carry a role's prefix but are not options of the role (typos, removed options).

:func:`unknown_role_vars` reads ``<collection root>/roles/<role>/meta/argument_specs.yml``
(one entry point) and returns one message per unknown name, naming the closest option.
Controller side only: the monitoring.stack.unknown_role_vars filter wraps it.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

COLLECTION = "monitoring.stack"

# Variables with a role's prefix that are not options of that role, yet legitimately set:
# hostvars that other roles' filters read, and facts a role sets for another one.
KNOWN_NON_OPTIONS = {
    # Read from every scrape target's hostvars by monitoring.stack.scrape_plan.
    "prometheus": ("prometheus_target_address", "prometheus_target_labels"),
}

_ROLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_CACHE = {}


class RoleVarsError(ValueError):
    """Bad input (role name, missing spec); the message says what to fix."""


def collection_root():
    """The collection root: three levels above this file (plugins/module_utils/_role_vars.py)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _spec_path(root, role):
    meta = os.path.join(root, "roles", role, "meta")
    for name in ("argument_specs.yml", "argument_specs.yaml"):
        if os.path.isfile(os.path.join(meta, name)):
            return os.path.join(meta, name)
    return None


def role_options(role, root=None, entry_point="main"):
    """The ``options`` of one entry point of a role's argument spec (cached per file version)."""
    root = root or collection_root()
    path = _spec_path(root, role)
    if path is None:
        raise RoleVarsError("role %r has no meta/argument_specs.yml under %s" % (role, os.path.join(root, "roles")))
    key = (path, os.path.getmtime(path), entry_point)
    if key not in _CACHE:
        if not HAS_YAML:
            raise RoleVarsError("PyYAML is needed to read %s" % path)
        with open(path, encoding="utf-8") as handle:
            data = yaml_load(handle) or {}
        entry = (data.get("argument_specs") or {}).get(entry_point)
        if not isinstance(entry, dict):
            raise RoleVarsError("role %r has no entry point %r in %s" % (role, entry_point, path))
        _CACHE[key] = dict(entry.get("options") or {})
    return _CACHE[key]


def _options_or_none(role, root, entry_point):
    try:
        return role_options(role, root, entry_point)
    except RoleVarsError:
        return {}


def role_names(root=None):
    """Public roles of the collection (directories under roles/ not starting with _)."""
    base = os.path.join(root or collection_root(), "roles")
    if not os.path.isdir(base):
        return []
    return sorted(name for name in os.listdir(base) if not name.startswith("_") and os.path.isdir(os.path.join(base, name)))


def _role(role, collection):
    if not isinstance(role, str):
        raise RoleVarsError("the role must be a role name such as 'node_exporter', got %r" % (role,))
    if role.startswith(collection + "."):
        role = role[len(collection) + 1:]
    if not _ROLE_NAME.match(role):
        raise RoleVarsError("%r is not a role name of %s" % (role, collection))
    return role


def _names(names):
    if isinstance(names, dict):
        names = list(names)
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise RoleVarsError("expected a list of variable names (such as vars.keys()), got %s" % type(names).__name__)
    return sorted({name for name in names if isinstance(name, str)})


def _suggestion(name, prefix, options, candidates):
    """The option a name most likely meant, or None when nothing is close.

    A key of a dict option written as a variable gives ``option.key``
    (``prometheus_scrape_interval``, ``prometheus_global_scrape_interval`` -> ``prometheus_global.scrape_interval``);
    else an option the name extends or shortens (``prometheus_rule_packs_enabled`` -> ``prometheus_rule_packs``);
    else the closest option by difflib.
    """
    rest = name[len(prefix):]
    for option, spec in options.items():
        keys = (spec.get("options") or {}) if isinstance(spec, dict) and spec.get("type") == "dict" else {}
        if rest in keys:
            return "%s.%s" % (option, rest)
        if name.startswith(option + "_") and name[len(option) + 1:] in keys:
            return "%s.%s" % (option, name[len(option) + 1:])
    # Compare what follows the shared prefix: the prefix alone would make every option look close.
    related = [c for c in candidates if c.startswith(name) or name.startswith(c)]
    tails = {candidate[len(prefix):]: candidate for candidate in (related or candidates)}
    close = difflib.get_close_matches(rest, list(tails), n=1, cutoff=0.0 if related else 0.6)
    return tails[close[0]] if close else None


def unknown_role_vars(names, role, root=None, entry_point="main", ignore=None, collection=COLLECTION):
    """One message per name with the prefix ``<role>_`` that is not an option of ``role``.

    A name that is an option of another role whose name is a longer prefix match (a role
    ``backup`` and the option ``backup_monitor_jobs`` of a role ``backup_monitor``) is not
    reported. ``ignore`` lists more names (fnmatch patterns) that are not reported.
    Returns the messages sorted by variable name; an empty list when every name is known.
    """
    role = _role(role, collection)
    root = root or collection_root()
    options = role_options(role, root, entry_point)
    ignore = list(ignore or []) + list(KNOWN_NON_OPTIONS.get(role, ()))
    prefix = role + "_"
    longer = [other for other in role_names(root) if other != role and other.startswith(prefix)]
    messages = []
    for name in _names(names):
        if not name.startswith(prefix) or name in options or any(fnmatch.fnmatchcase(name, p) for p in ignore):
            continue
        owners = [other for other in longer if name.startswith(other + "_")]
        if any(name in _options_or_none(other, root, entry_point) for other in owners):
            continue
        candidates = list(options) + [option for other in owners for option in _options_or_none(other, root, entry_point)]
        hint = _suggestion(name, prefix, options, candidates)
        message = "`%s` is not a variable of %s.%s" % (name, collection, role)
        messages.append(message + ("; did you mean `%s`?" % hint if hint else "."))
    return messages
