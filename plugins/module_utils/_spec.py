# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks every spec-driven builder of monitoring.stack shares.

One error class (:class:`SpecError`, which the filters turn into an AnsibleFilterError), one meaning of a
duration (Prometheus's), one label-name rule, one allowed-keys check with a "did you mean" hint, one deep merge.
Pure Python, no Ansible imports: the filters, the unit tests and the stand-alone checkers under tests/ all use it.
"""

from __future__ import annotations

import copy
import difflib
import re

# Alert severities, highest first: the rule builders set them, Alertmanager routes and inhibits on them.
SEVERITIES = ("critical", "warning", "info")

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# Prometheus durations (prometheus/common model.ParseDuration): each unit at most once, largest first,
# "0" alone is the zero duration. Loki and Alertmanager read durations with the same function.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_MS = (365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1)
_MAX_MS = (2 ** 63 - 1) // 1000000  # time.Duration is int64 nanoseconds
DURATION_HELP = ("Prometheus durations use the units y, w, d, h, m, s, ms, each at most once and largest first, "
                 "such as 30s, 5m, 1h30m or 30d")


class SpecError(ValueError):
    """Input a user must correct.

    ``SpecError(message)`` carries a message that already says where; ``SpecError(item, field, message, kind)``
    reads ``<kind> <item!r>, field <field!r>: <message>`` (``<item>, field ...`` without a kind), and keeps
    ``item`` and ``field`` for callers that want them.
    """

    def __init__(self, item, field=None, message=None, kind=None):
        self.item = item
        self.field = field
        self.kind = kind
        if field is None and message is None:
            self.item = None
            super().__init__(item)
            return
        where = "%s %r" % (kind, item) if kind else str(item)
        super().__init__("%s, field %r: %s" % (where, field, message))


# --------------------------------------------------------------------------- durations


def _duration_ms(value):
    """Milliseconds of a Prometheus duration, or None when ``value`` is not one."""
    if value == 0 and not isinstance(value, bool):
        return 0  # YAML reads a bare 0 as an integer; Prometheus takes it as the zero duration
    if not isinstance(value, str) or not value:
        return None
    if value == "0":
        return 0
    match = _DURATION.match(value)
    if not match:
        return None
    total = sum(int(number) * unit for number, unit in zip(match.groups(), _UNIT_MS) if number is not None)
    return total if total <= _MAX_MS else None


def is_duration(value):
    """True when ``value`` is a Prometheus duration: ``1h30m`` is one, ``30m1h`` and ``90`` are not."""
    return _duration_ms(value) is not None


def parse_duration(value, where="duration"):
    """Seconds (an int, or a float below one second precision) of a Prometheus duration; SpecError otherwise."""
    total = _duration_ms(value)
    if total is None:
        raise SpecError("%s: %r is not a duration; %s" % (where, value, DURATION_HELP))
    return total // 1000 if total % 1000 == 0 else total / 1000.0


def check_duration(item, field, value, required=False, kind=None):
    """``value`` when it is a Prometheus duration, None when it is absent and optional; SpecError otherwise."""
    if value is None and not required:
        return None
    if not is_duration(value):
        raise SpecError(item, field, "%r is not a duration; %s" % (value, DURATION_HELP), kind)
    return value


# --------------------------------------------------------------------------- labels


def is_label_name(name, reserved=True):
    """True for a Prometheus label name; with ``reserved=False`` names starting with ``__`` are refused."""
    return isinstance(name, str) and bool(LABEL_NAME.match(name)) and (reserved or not name.startswith("__"))


def check_label_names(item, field, names, kind=None, extra=()):
    """A list of label names (``None`` is the empty list); ``extra`` lists special values also allowed."""
    if names is None:
        return []
    if not isinstance(names, (list, tuple)) or not all(n in extra or is_label_name(n) for n in names):
        raise SpecError(item, field, "expected a list of label names, got %r" % (names,), kind)
    return list(names)


def format_number(value):
    """A float without float noise: ``1 - 0.999`` -> ``0.001``, ``80.0`` -> ``80``."""
    return "%.12g" % value


def scalar_text(value):
    """A label or parameter value as text: booleans in lower case, floats without float noise."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def check_labels(item, field, labels, kind=None, reserved=True):
    """A mapping of label name to scalar, returned with text values (``None`` is the empty mapping)."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise SpecError(item, field, "expected a mapping of label name to value", kind)
    result = {}
    for key, value in labels.items():
        if not is_label_name(key, reserved):
            raise SpecError(item, field, "%r is not a valid label name%s" % (key, "" if reserved else " (reserved names start with __)"), kind)
        if isinstance(value, (dict, list)) or value is None:
            raise SpecError(item, field, "the value of label %r must be a scalar" % (key,), kind)
        result[key] = scalar_text(value)
    return result


# --------------------------------------------------------------------------- keys


def did_you_mean(name, allowed):
    """`` (did you mean 'x'?)`` for the allowed name closest to ``name``, or an empty string."""
    close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1)
    return " (did you mean %r?)" % close[0] if close else ""


def _names(allowed):
    return list(allowed) if isinstance(allowed, (list, tuple)) else sorted(allowed)


def unknown_keys_text(spec, allowed, what="key"):
    """``unknown key(s) a, b (did you mean 'x'?)`` for the keys of ``spec`` outside ``allowed``; '' when none."""
    unknown = sorted(str(key) for key in spec if key not in allowed)
    if not unknown:
        return ""
    return "unknown %s(s) %s%s" % (what, ", ".join(unknown), did_you_mean(unknown[0], allowed))


def check_keys(item, spec, allowed, field="keys", what="key", kind=None):
    """Refuse a ``spec`` that is not a mapping (as ``field``) or has a key outside ``allowed`` (as that key)."""
    if not isinstance(spec, dict):
        raise SpecError(item, field, "expected a mapping, got %s" % type(spec).__name__, kind)
    unknown = sorted(str(key) for key in spec if key not in allowed)
    if unknown:
        raise SpecError(item, unknown[0], "unknown %s%s; allowed: %s"
                        % (what, did_you_mean(unknown[0], allowed), ", ".join(_names(allowed))), kind)


# --------------------------------------------------------------------------- data


def deep_merge(base, override):
    """A copy of ``base`` with ``override`` merged in: mappings merge key by key, anything else replaces."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def plain(value):
    """Ansible's tagged and lazy containers as plain dicts and lists (other values unchanged)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
