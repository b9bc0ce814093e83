"""Unit tests for the filters of the victoriametrics role (plugins/filter/victoriametrics.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.common import FilterModule as CommonFilters
from ansible_collections.monitoring.stack.plugins.filter.victoriametrics import FilterModule

F = FilterModule().filters()
FLAG_ARGS = CommonFilters().filters()["flag_args"]
BASE = {"data_dir": "/var/lib/victoriametrics", "listen_address": ":8428", "retention_period": "90d",
        "dedup_min_scrape_interval": "15s", "tls": {}, "basic_auth_users": {}, "extra_flags": {}}
SITE = {"ca_file": "pki/ca.crt", "cert_file": "pki/vm1.crt", "key_file": "pki/vm1.key"}


def _flags(**changes):
    return F["victoriametrics_flags"](dict(BASE, **changes), {}, "/etc/victoriametrics")


@pytest.mark.parametrize("value", ["15d", "90d", "1y", "1.5y", "24h", "2w", "12", 3, "1d"])
def test_retention_periods_in_victoriametrics_units_pass(value):
    assert F["victoriametrics_retention"](value) == str(value)


@pytest.mark.parametrize("value", ["30m", "1y6m", "12h", "0", "", "d", "90 d", "-1d", None, True, "1M", "0.01"])
def test_bad_retention_periods_fail_early_with_the_units(value):
    with pytest.raises(AnsibleFilterError, match="victoriametrics_retention: .*(h \\(hours\\)|minimum of 24h)"):
        F["victoriametrics_retention"](value)


def test_plain_settings_give_the_flags_and_no_secret():
    args = FLAG_ARGS(_flags(basic_auth_users={"prometheus": "s3cret"}), prefix="-")
    assert args == ["-storageDataPath=/var/lib/victoriametrics", "-retentionPeriod=90d", "-httpListenAddr=:8428",
                    "-dedup.minScrapeInterval=15s", "-envflag.enable=true", "-httpAuth.username=prometheus"]
    assert not any("s3cret" in arg for arg in args)


@pytest.mark.parametrize("value", ["", "0", "0s", 0, None])
def test_no_dedup_interval_drops_the_flag(value):
    assert _flags(dedup_min_scrape_interval=value)["dedup.minScrapeInterval"] is None


@pytest.mark.parametrize("value", ["15", "15x", "1d", True, "s"])
def test_bad_dedup_interval_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="dedup_min_scrape_interval"):
        _flags(dedup_min_scrape_interval=value)


def test_own_tls_gives_the_tls_flags_and_tls13():
    flags = _flags(tls={"cert_file": "/etc/vm/tls.crt", "key_file": "/etc/vm/tls.key", "min_version": "TLS13"})
    assert flags["tls"] is True
    assert flags["tlsCertFile"] == "/etc/vm/tls.crt" and flags["tlsKeyFile"] == "/etc/vm/tls.key"
    assert flags["tlsMinVersion"] == "TLS13"


def test_site_tls_names_the_engine_copies():
    flags = F["victoriametrics_flags"](BASE, SITE, "/etc/victoriametrics")
    assert flags["tlsCertFile"] == "/etc/victoriametrics/tls/server.crt"
    assert flags["tlsKeyFile"] == "/etc/victoriametrics/tls/server.key"
    assert flags["tlsMinVersion"] is None


def test_no_tls_gives_no_tls_flags():
    assert "tls" not in _flags()


def test_extra_flags_are_merged_last():
    assert _flags(extra_flags={"search.maxUniqueTimeseries": 900000, "retentionPeriod": "2y"})["retentionPeriod"] == "2y"


@pytest.mark.parametrize("changes, match", [
    ({"tls": {"cert_file": "/x.crt"}}, "together"),
    ({"tls": {"cert_file": "/x.crt", "key_file": "/x.key", "min_version": "TLS11"}}, "min_version"),
    ({"tls": {"cert_file": "/x.crt", "key_file": "/x.key", "client_ca_file": "/ca"}}, "client_ca_file"),
    ({"basic_auth_users": {"a": "1", "b": "2"}}, "one basic-auth user"),
    ({"basic_auth_users": {"a": ""}}, "non-empty password"),
    ({"basic_auth_users": {"a:b": "x"}}, "without ':'"),
    ({"extra_flags": {"httpAuth.password": "x"}}, "secret flag"),
    ({"extra_flags": {"metricsAuthKey": "x"}}, "secret flag"),
    ({"extra_flags": {"selfScrapeInterval": True}}, "booleans"),
    ({"retention_period": "1y6m"}, "retention"),
    ({"listen_address": ""}, "listen_address"),
    ({"unknown": 1}, "unknown"),
])
def test_bad_settings_are_refused_with_a_message(changes, match):
    with pytest.raises(AnsibleFilterError, match=match):
        _flags(**changes)


def test_environment_holds_the_password_under_the_envflag_name():
    assert F["victoriametrics_environment"]({"prometheus": 's3"c$ret'}) == {"httpAuth_password": 's3"c$ret'}
    assert F["victoriametrics_environment"]({}) == {}


def test_environment_refuses_two_users():
    with pytest.raises(AnsibleFilterError, match="victoriametrics_environment: .*one basic-auth user"):
        F["victoriametrics_environment"]({"a": "1", "b": "2"})
