# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/_spec.py: durations, label names, keys, deep merge, the error class."""

from __future__ import annotations

import pytest

from ansible_collections.monitoring.stack.plugins.module_utils import _spec as s


# ----------------------------------------------------------------------------- durations


@pytest.mark.parametrize("text, seconds", [
    ("0", 0),
    (0, 0),
    ("0s", 0),
    ("15s", 15),
    ("5m", 300),
    ("1h30m", 5400),
    ("1h30m15s", 5415),
    ("2d12h", 216000),
    ("1w", 604800),
    ("1y", 31536000),
    ("1y2w3d4h5m6s", 31536000 + 2 * 604800 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6),
    ("30d", 2592000),
    ("720h", 2592000),
    ("90m", 5400),
    ("1500ms", 1.5),
    ("1s500ms", 1.5),
    ("5m0s", 300),
])
def test_valid_durations(text, seconds):
    assert s.is_duration(text)
    assert s.parse_duration(text) == seconds
    assert s.check_duration("job", "interval", text) == text


@pytest.mark.parametrize("text", [
    "30m1h",      # units out of order
    "1s1h",
    "1m1m",       # a unit twice
    "5ms1s",
    "",
    "90",         # no unit
    300,
    "1.5h",       # no fractions
    "-5m",
    " 5m",
    "5 m",
    "5M",
    "1d 2h",
    "5min",
    "1x",
    "293y",       # beyond time.Duration (int64 nanoseconds)
    None,
    True,
    False,
])
def test_invalid_durations(text):
    assert not s.is_duration(text)
    with pytest.raises(s.SpecError, match="is not a duration; Prometheus durations use the units y, w, d, h, m, s, ms"):
        s.parse_duration(text, "retention_period")
    with pytest.raises(s.SpecError) as err:
        s.check_duration("node", "scrape_interval", text, required=True, kind="scrape job")
    assert (err.value.item, err.value.field, err.value.kind) == ("node", "scrape_interval", "scrape job")
    assert str(err.value).startswith("scrape job 'node', field 'scrape_interval': %r is not a duration" % (text,))


def test_parse_duration_names_where():
    with pytest.raises(s.SpecError, match=r"^limits_config.retention_period: '30m1h' is not a duration"):
        s.parse_duration("30m1h", "limits_config.retention_period")


def test_check_duration_optional_and_required():
    assert s.check_duration("r", "for", None) is None
    with pytest.raises(s.SpecError):
        s.check_duration("r", "for", None, required=True)


def test_largest_duration_below_overflow():
    assert s.is_duration("292y")


# ----------------------------------------------------------------------------- label names


@pytest.mark.parametrize("name, reserved, valid", [
    ("job", True, True),
    ("_private", True, True),
    ("tenant_id2", True, True),
    ("__name__", True, True),
    ("__name__", False, False),
    ("2xx", True, False),
    ("bad-name", True, False),
    ("bad.name", True, False),
    ("", True, False),
    ("a:b", True, False),
    (None, True, False),
    (3, True, False),
])
def test_label_names(name, reserved, valid):
    assert s.is_label_name(name, reserved) is valid


def test_check_label_names():
    assert s.check_label_names("r", "group_by", None) == []
    assert s.check_label_names("r", "group_by", ("job", "instance")) == ["job", "instance"]
    assert s.check_label_names("route", "group_by", ["..."], extra=("...",)) == ["..."]
    for bad in ("job", ["job", "bad-name"], ["..."]):
        with pytest.raises(s.SpecError) as err:
            s.check_label_names("r", "group_by", bad)
        assert err.value.field == "group_by"


def test_check_labels_texts_and_reserved():
    assert s.check_labels("r", "labels", {"a": 1, "b": 2.50, "c": True, "d": "x", "e": 1234567890123}) == {
        "a": "1", "b": "2.5", "c": "true", "d": "x", "e": "1234567890123"}
    assert s.check_labels("r", "labels", None) == {}
    assert s.check_labels("r", "labels", {"__meta": "x"}) == {"__meta": "x"}
    with pytest.raises(s.SpecError, match="reserved names start with __"):
        s.check_labels("j", "labels", {"__meta": "x"}, reserved=False)
    with pytest.raises(s.SpecError, match="must be a scalar"):
        s.check_labels("r", "labels", {"a": [1]})
    with pytest.raises(s.SpecError, match="not a valid label name"):
        s.check_labels("r", "labels", {"a-b": 1})
    with pytest.raises(s.SpecError, match="expected a mapping"):
        s.check_labels("r", "labels", ["a"])


# ----------------------------------------------------------------------------- keys


def test_check_keys_suggests_the_closest_key():
    with pytest.raises(s.SpecError) as err:
        s.check_keys("HighCpu", {"treshold": 1, "severity": "info"}, ("threshold", "severity", "summary"), kind="rule")
    assert (err.value.item, err.value.field) == ("HighCpu", "treshold")
    assert str(err.value) == ("rule 'HighCpu', field 'treshold': unknown key (did you mean 'threshold'?); "
                              "allowed: threshold, severity, summary")


def test_check_keys_without_a_close_match_lists_the_allowed_keys():
    with pytest.raises(s.SpecError) as err:
        s.check_keys("channel 'x'", {"zzz": 1}, frozenset(("url", "type")), field="channel")
    assert str(err.value) == "channel 'x', field 'zzz': unknown key; allowed: type, url"


def test_check_keys_refuses_a_non_mapping_and_accepts_allowed_keys():
    with pytest.raises(s.SpecError) as err:
        s.check_keys("node", ["port"], ("port",), field="override", kind="scrape job")
    assert err.value.field == "override" and "expected a mapping, got list" in str(err.value)
    s.check_keys("node", {"port": 1}, ("port",))


def test_unknown_keys_text():
    assert s.unknown_keys_text({"a": 1}, ("a", "b")) == ""
    assert s.unknown_keys_text({"colour": 1, "zz": 2}, ("color", "title")) == "unknown key(s) colour, zz (did you mean 'color'?)"
    assert s.unknown_keys_text({"retension_period": 1}, {"retention_period": 1}, "setting") == (
        "unknown setting(s) retension_period (did you mean 'retention_period'?)")


def test_did_you_mean():
    assert s.did_you_mean("critcal", s.SEVERITIES) == " (did you mean 'critical'?)"
    assert s.did_you_mean("urgent", s.SEVERITIES) == ""


# ----------------------------------------------------------------------------- deep merge and plain data


def test_deep_merge():
    base = {"server": {"port": 1, "tls": {"cert": "c", "key": "k"}}, "list": [1, 2], "keep": True}
    override = {"server": {"tls": {"key": "k2"}, "host": "h"}, "list": [3], "new": {"a": 1}}
    merged = s.deep_merge(base, override)
    assert merged == {"server": {"port": 1, "tls": {"cert": "c", "key": "k2"}, "host": "h"}, "list": [3], "keep": True,
                      "new": {"a": 1}}
    assert base["server"]["tls"]["key"] == "k" and "host" not in base["server"]  # inputs untouched
    merged["new"]["a"] = 2
    assert override["new"]["a"] == 1  # no shared containers
    assert s.deep_merge(base, None) == base
    assert s.deep_merge({"a": {"b": 1}}, {"a": 5}) == {"a": 5}


def test_plain():
    class Tagged(dict):
        pass
    value = s.plain(Tagged(a=(1, Tagged(b=[2]))))
    assert value == {"a": [1, {"b": [2]}]}
    assert not isinstance(value, Tagged) and not isinstance(value["a"][1], Tagged)


# ----------------------------------------------------------------------------- the error class


def test_spec_error_forms():
    plain = s.SpecError("loki config: schema_config.configs must hold at least one period")
    assert str(plain) == "loki config: schema_config.configs must hold at least one period"
    assert (plain.item, plain.field) == (None, None)
    located = s.SpecError("api-read", "objective", "too high", kind="rule")
    assert str(located) == "rule 'api-read', field 'objective': too high"
    assert str(s.SpecError("severity 'info'", "channels", "no channel")) == "severity 'info', field 'channels': no channel"
    assert isinstance(located, ValueError)
