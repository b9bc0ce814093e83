"""Unit tests for the filters of exporters configured through environment files (plugins/filter/exporters.py)."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.exporters import FilterModule

F = FilterModule().filters()
SITE = {"cert_file": "/etc/redis_exporter/tls/server.crt", "key_file": "/etc/redis_exporter/tls/server.key", "min_version": "TLS12"}


def test_nothing_set_gives_an_empty_environment():
    assert F["redis_exporter_environment"]({}) == {}


def test_site_tls_is_used_when_the_role_sets_none():
    env = F["redis_exporter_environment"]({}, {}, SITE)
    assert env == {"REDIS_EXPORTER_TLS_SERVER_CERT_FILE": SITE["cert_file"],
                   "REDIS_EXPORTER_TLS_SERVER_KEY_FILE": SITE["key_file"],
                   "REDIS_EXPORTER_TLS_SERVER_MIN_VERSION": "TLS1.2"}


def test_own_tls_wins_over_site_tls_and_maps_versions_and_client_ca():
    own = {"cert_file": "/x.crt", "key_file": "/x.key", "client_ca_file": "/ca.crt", "min_version": "TLS13"}
    env = F["redis_exporter_environment"](own, {}, SITE)
    assert env["REDIS_EXPORTER_TLS_SERVER_CERT_FILE"] == "/x.crt"
    assert env["REDIS_EXPORTER_TLS_SERVER_CA_CERT_FILE"] == "/ca.crt"
    assert env["REDIS_EXPORTER_TLS_SERVER_MIN_VERSION"] == "TLS1.3"


def test_one_user_and_the_password_file():
    env = F["redis_exporter_environment"]({}, {"prometheus": "s3cret"}, {}, "/etc/redis_exporter/password.json")
    assert env == {"REDIS_EXPORTER_BASIC_AUTH_USERNAME": "prometheus", "REDIS_EXPORTER_BASIC_AUTH_PASSWORD": "s3cret",
                   "REDIS_PASSWORD_FILE": "/etc/redis_exporter/password.json"}


@pytest.mark.parametrize("tls, users", [
    ({"cert_file": "/x.crt"}, {}),
    ({"cert_file": "/x.crt", "key_file": "/x.key", "min_version": "TLS11"}, {}),
    ({"cert_file": "/x.crt", "key_file": "/x.key", "client_auth_type": "RequireAndVerifyClientCert"}, {}),
    ({}, {"a": "1", "b": "2"}),
    ({}, {"a": ""}),
    ({}, {"a:b": "x"}),
])
def test_bad_settings_are_refused(tls, users):
    with pytest.raises(AnsibleFilterError, match="redis_exporter_environment"):
        F["redis_exporter_environment"](tls, users)


def test_password_file_maps_the_address():
    text = F["redis_password_file"]("pw\"x", "redis://127.0.0.1:6379")
    assert json.loads(text) == {"redis://127.0.0.1:6379": "pw\"x"}
    assert json.loads(F["redis_password_file"]("", "unix:///run/redis/redis.sock")) == {}


def test_password_file_refuses_an_address_without_scheme():
    with pytest.raises(AnsibleFilterError, match="redis://"):
        F["redis_password_file"]("pw", "127.0.0.1:6379")


def test_env_file_quotes_and_escapes():
    text = F["env_file"]({"B": 'a"b$c\\d`e', "A": "plain"})
    assert text == 'A="plain"\nB="a\\"b\\$c\\\\d\\`e"\n'
    assert F["env_file"]({}) == ""


@pytest.mark.parametrize("bad", [{"1BAD": "x"}, {"A": "line\nbreak"}, ["A"]])
def test_env_file_refuses_bad_input(bad):
    with pytest.raises(AnsibleFilterError):
        F["env_file"](bad)


def test_kafka_tls_flags_off_own_and_site():
    assert F["kafka_exporter_tls_flags"]({}) == {}
    own = F["kafka_exporter_tls_flags"]({"cert_file": "/a.crt", "key_file": "/a.key", "client_ca_file": "/ca.crt"})
    assert own == {"server.tls.enabled": True, "server.tls.cert-file": "/a.crt", "server.tls.key-file": "/a.key",
                   "server.tls.mutual-auth-enabled": True, "server.tls.ca-file": "/ca.crt"}
    site = F["kafka_exporter_tls_flags"]({}, {"ca_file": "ca.crt", "cert_file": "h.crt", "key_file": "h.key"}, "/etc/kafka_exporter")
    assert site == {"server.tls.enabled": True, "server.tls.cert-file": "/etc/kafka_exporter/tls/server.crt",
                    "server.tls.key-file": "/etc/kafka_exporter/tls/server.key"}


@pytest.mark.parametrize("tls", [{"cert_file": "/a.crt"}, {"cert_file": "/a", "key_file": "/b", "min_version": "TLS13"}])
def test_kafka_tls_flags_refuse_bad_tls(tls):
    with pytest.raises(AnsibleFilterError, match="kafka_exporter_tls_flags"):
        F["kafka_exporter_tls_flags"](tls)
