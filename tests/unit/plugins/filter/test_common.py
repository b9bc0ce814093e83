"""Unit tests for the engine filters (plugins/filter/common.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.common import FilterModule

F = FilterModule().filters()


def test_flag_args_kinds_and_order():
    flags = {"web.listen-address": ":9100", "collector.systemd": True, "collector.wifi": False,
             "skip": None, "web.route": ["/a", "/b"], "port": 8080}
    assert F["flag_args"](flags) == [
        "--web.listen-address=:9100", "--collector.systemd", "--no-collector.wifi",
        "--web.route=/a", "--web.route=/b", "--port=8080"]


def test_flag_args_single_dash_prefix_uses_go_booleans():
    assert F["flag_args"]({"port": 8080, "docker_only": True, "store_container_labels": False}, prefix="-") == [
        "-port=8080", "-docker_only=true", "-store_container_labels=false"]


@pytest.mark.parametrize("bad", [{"bad name": 1}, {"x": {"nested": 1}}, {"x": "a\nb"}, ["not", "a", "dict"]])
def test_flag_args_rejects_bad_input(bad):
    with pytest.raises(AnsibleFilterError):
        F["flag_args"](bad)


def test_systemd_directives_merge_remove_and_lists():
    out = F["systemd_directives"]({"B": "1", "A": True, "C": ["x", "y"], "E": None}, {"B": None, "D": False})
    assert out == [("A", "yes"), ("C", "x"), ("C", "y"), ("D", "no")]


def test_web_config_hashes_deterministically():
    one = F["web_config"]({}, {"prom": "s3cret"}, "host-a")
    two = F["web_config"]({}, {"prom": "s3cret"}, "host-a")
    other_host = F["web_config"]({}, {"prom": "s3cret"}, "host-b")
    assert one == two
    assert one["basic_auth_users"]["prom"].startswith("$2b$10$")
    assert one["basic_auth_users"]["prom"] != other_host["basic_auth_users"]["prom"]
    import bcrypt  # pylint: disable=import-outside-toplevel
    assert bcrypt.checkpw(b"s3cret", one["basic_auth_users"]["prom"].encode())
    assert not bcrypt.checkpw(b"wrong", one["basic_auth_users"]["prom"].encode())


def test_web_config_empty_when_nothing_enabled():
    assert F["web_config"]({}, {}, "h") == {}


def test_web_config_tls_defaults_and_client_ca():
    cfg = F["web_config"]({"cert_file": "/c", "key_file": "/k", "client_ca_file": "/ca"}, {}, "h")
    tls = cfg["tls_server_config"]
    assert tls["min_version"] == "TLS12"
    assert tls["client_auth_type"] == "RequireAndVerifyClientCert"


@pytest.mark.parametrize("tls,message", [
    ({"cert_file": "/c"}, "both cert_file and key_file"),
    ({"cert_file": "/c", "key_file": "/k", "min_version": "TLS11"}, "below TLS12"),
    ({"cert_file": "/c", "key_file": "/k", "min_version": "TLS99"}, "must be one of"),
    ({"cert_file": "/c", "key_file": "/k", "client_auth_type": "RequireAndVerifyClientCert"}, "needs client_ca_file"),
    ({"cert_file": "/c", "key_file": "/k", "bogus": 1}, "unknown tls option"),
])
def test_web_config_refuses_bad_tls(tls, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F["web_config"](tls, {}, "h")


def test_web_config_refuses_empty_or_long_password():
    with pytest.raises(AnsibleFilterError, match="empty password"):
        F["web_config"]({}, {"u": ""}, "h")
    with pytest.raises(AnsibleFilterError, match="72 bytes"):
        F["web_config"]({}, {"u": "x" * 73}, "h")


def test_web_config_for_check_maps_paths_or_drops_tls():
    cfg = F["web_config"]({"cert_file": "/etc/x/c", "key_file": "/etc/x/k"}, {}, "h")
    mapped = F["web_config_for_check"](cfg, [{"src": "/ctl/c", "dest": "/etc/x/c"}, {"src": "/ctl/k", "dest": "/etc/x/k"}])
    assert mapped["tls_server_config"]["cert_file"] == "/ctl/c"
    assert mapped["tls_server_config"]["key_file"] == "/ctl/k"
    assert cfg["tls_server_config"]["cert_file"] == "/etc/x/c"  # input untouched
    unmapped = F["web_config_for_check"](cfg, [])
    assert "tls_server_config" not in unmapped


@pytest.mark.parametrize("machine,arch", [("x86_64", "amd64"), ("aarch64", "arm64"), ("armv7l", "armv7")])
def test_go_arch(machine, arch):
    assert F["go_arch"](machine) == arch


def test_go_arch_unknown():
    with pytest.raises(AnsibleFilterError, match="unsupported CPU architecture"):
        F["go_arch"]("sparc64")


def test_collector_flags():
    from ansible_collections.monitoring.stack.plugins.module_utils._common import CommonError, collector_flags
    assert collector_flags(["systemd"], ["wifi"]) == {"collector.systemd": True, "collector.wifi": False}
    with pytest.raises(CommonError, match="wifi are both enabled and disabled"):
        collector_flags(["wifi", "systemd"], ["wifi"])
