# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule packs: named sets of recording rules and compact alerts, switched on and off, overridden and parameterised."""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._rules import (
    ALERT_KEYS,
    RECORD_KEYS,
    SLUG,
    GroupSet,
    alert_rule_groups,
    build_alert,
    build_record,
    check_duration,
    check_keys,
    is_enabled,
    named_spec,
    rule_error,
)
from ansible_collections.monitoring.stack.plugins.module_utils._slo import slo_rule_groups

PACK_KEYS = ("pack", "description", "params", "interval", "recording_rules", "alerts")


def _index_packs(packs):
    """A list (or name -> pack mapping) of pack dicts -> ordered ``{name: pack}``, validated."""
    items = list(packs.values()) if isinstance(packs, dict) and "pack" not in packs else packs
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise rule_error("<packs>", "packs", "expected a list of rule pack mappings")
    index = {}
    for pack in items:
        name = named_spec(pack, "pack", SLUG, "every rule pack needs a 'pack' name matching [a-z0-9][a-z0-9_-]*", PACK_KEYS)
        if name in index:
            raise rule_error(name, "pack", "two rule packs have this name")
        index[name] = pack
    return index


def _pack_specs(pack):
    """``[(kind, spec), ...]`` of a pack: recording rules first, then alerts."""
    name = pack["pack"]
    specs = []
    for kind, key in (("record", "recording_rules"), ("alert", "alerts")):
        entries = pack.get(key) or []
        if not isinstance(entries, list):
            raise rule_error(name, key, "expected a list")
        specs.extend((kind, entry) for entry in entries)
    return specs


def _rule_key(kind, spec):
    return spec.get("record") if kind == "record" else spec.get("name")


def _known_rule_names(index):
    names = {}
    for pack_name, pack in index.items():
        for kind, spec in _pack_specs(pack):
            key = _rule_key(kind, spec) if isinstance(spec, dict) else None
            if kind == "alert" and key in names:
                raise rule_error(key, "name", "alert name used twice (packs %s and %s)" % (names[key], pack_name))
            names[key] = pack_name
    return names


def _merge_override(kind, spec, override):
    """A spec with an override applied; labels and annotations are merged key by key."""
    key = _rule_key(kind, spec)
    check_keys(key, override, RECORD_KEYS[1:] if kind == "record" else ALERT_KEYS[1:], "override key")
    merged = dict(spec)
    for field, value in override.items():
        if field in ("labels", "annotations") and isinstance(value, dict):
            merged[field] = dict(spec.get(field) or {}, **value)
        elif field in ("expr", "metric"):
            merged.pop("expr", None)
            merged.pop("metric", None)
            merged[field] = value
        else:
            merged[field] = value
    return merged


def _check_overrides(overrides, known):
    if not isinstance(overrides, dict):
        raise rule_error("<overrides>", "overrides", "expected a mapping of rule name to changes")
    for name in overrides:
        if name not in known:
            raise rule_error(name, "overrides", "no rule of this name in any rule pack")


def _check_enabled(enabled, index):
    if enabled is None:
        return list(index)
    if not isinstance(enabled, list):
        raise rule_error("<packs>", "enabled", "expected a list of pack names")
    unknown = [name for name in enabled if _base(name) not in index]
    if unknown:
        raise rule_error(unknown[0], "enabled", "no rule pack of this name; known packs: %s" % ", ".join(index))
    return enabled


def _base(name):
    """The pack of an enabled name: ``http_app@shop`` (an instance of pack http_app) -> ``http_app``."""
    base, _sep, instance = str(name).partition("@")
    if _sep and not SLUG.match(instance):
        raise rule_error(name, "enabled", "the instance after @ must match [a-z0-9][a-z0-9_-]*")
    return base


def _pack_params(name, pack, params):
    """Params of a pack instance: the pack's defaults, those given for the pack, then those for the instance."""
    defaults = pack.get("params") or {}
    given = params.get(_base(name)) or {}
    instance = (params.get(name) or {}) if name != _base(name) else {}
    if not isinstance(defaults, dict) or not isinstance(given, dict) or not isinstance(instance, dict):
        raise rule_error(name, "params", "expected a mapping of parameter name to value")
    given = dict(given, **instance)
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise rule_error(name, "params", "unknown parameter %r; the pack knows: %s" % (unknown[0], ", ".join(sorted(defaults)) or "none"))
    return dict(defaults, **given)


def _pack_groups(pack, overrides, ctx, groups, name=None):
    """Add the rules of one pack to ``groups``: one group named after the pack (or its instance), recording
    rules first, so alerts read recording rules of the same evaluation cycle (rules of a group run in order)."""
    name = name or pack["pack"]
    interval = check_duration(name, "interval", pack.get("interval"))
    for kind, spec in _pack_specs(pack):
        key = _rule_key(kind, spec) if isinstance(spec, dict) else None
        if key in overrides:
            spec = _merge_override(kind, spec, overrides[key])
        if is_enabled(key, spec):
            group, rule = build_record(spec, ctx) if kind == "record" else build_alert(spec, ctx)
            groups.add(group or name, rule, interval)


def rule_pack_groups(packs, ctx, enabled=None, overrides=None, extra_rules=None, slos=None, params=None):
    """Rule packs (+ user rules and SLOs) -> rule groups, with packs switched on/off and rules overridden."""
    index = _index_packs(packs)
    overrides = overrides or {}
    _check_overrides(overrides, _known_rule_names(index))
    params = params or {}
    if not isinstance(params, dict):
        raise rule_error("<packs>", "params", "expected a mapping of pack name to parameters")
    for pack_name in params:
        if _base(pack_name) not in index:
            raise rule_error(pack_name, "params", "no rule pack of this name")
    groups = GroupSet()
    for pack_name in _check_enabled(enabled, index):
        pack = index[_base(pack_name)]
        _pack_groups(pack, overrides, ctx.with_params(_pack_params(pack_name, pack, params)), groups, pack_name)
    groups.extend(alert_rule_groups(extra_rules or [], ctx, default_group="custom.alerts"))
    groups.extend(slo_rule_groups(slos or [], ctx))
    return groups.as_list()
