"""The engine's daemon descriptor: defaults, checks and derived paths."""

import pytest

from ansible_collections.monitoring.stack.plugins.module_utils._common import CommonError
from ansible_collections.monitoring.stack.plugins.module_utils._daemon import daemon_plan, listen_parts

SHA = "a" * 64
BASE = {
    "role": "node_exporter", "service": "node_exporter", "user": "node-exp", "version": "1.12.1",
    "archive_url": "https://example.org/v1.12.1/node_exporter-1.12.1.linux-{arch}.tar.gz",
    "archive_checksums": {"amd64": SHA},
    "archive_binaries": [{"src": "node_exporter-1.12.1.linux-{arch}/node_exporter", "dest": "node_exporter"},
                         {"src": "node_exporter-1.12.1.linux-{arch}/tool", "dest": "tool"}],
    "listen": ":9100",
}


def plan(**changes):
    desc = dict(BASE, **changes)
    return daemon_plan(desc, architecture="x86_64", binary_dir="/usr/local/bin", cache_dir="/c/", mirror_url="")


def test_archive_paths_are_derived_from_the_descriptor():
    out = plan()
    assert out["arch"] == "amd64"
    assert out["binary"] == "/usr/local/bin/node_exporter"
    assert out["tools"] == {"tool": "/usr/local/bin/tool"}
    assert out["archive_name"] == "node_exporter-1.12.1.linux-amd64.tar.gz"
    assert out["download_url"] == BASE["archive_url"].replace("{arch}", "amd64")
    assert out["unpack_dir"] == "/c/node_exporter-1.12.1-amd64-" + SHA[:12]
    assert out["copies"][0] == {"src": out["unpack_dir"] + "/node_exporter-1.12.1.linux-amd64/node_exporter",
                                "dest": "/usr/local/bin/node_exporter"}
    assert out["group"] == "node-exp"
    assert (out["ready_host"], out["ready_port"]) == ("127.0.0.1", 9100)
    assert out["handlers"] == {"restart": "Restart node_exporter", "reload": "Reload node_exporter"}


def test_a_mirror_keeps_the_upstream_file_name():
    out = daemon_plan(BASE, architecture="x86_64", cache_dir="/c", mirror_url="file:///m/")
    assert out["download_url"] == "file:///m/node_exporter-1.12.1.linux-amd64.tar.gz"


def test_binary_format_copies_the_download_itself():
    out = plan(archive_format="binary", archive_binaries=[{"src": "x", "dest": "cadvisor"}],
               archive_url="https://example.org/cadvisor-v0.1-linux-{arch}")
    assert out["copies"] == [{"src": "/c/cadvisor-v0.1-linux-amd64", "dest": "/usr/local/bin/cadvisor"}]


def test_tree_format_runs_from_the_unpacked_tree():
    out = plan(archive_format="tree", archive_tree_dir="/opt/grafana",
               archive_binaries=[{"src": "bin/grafana", "dest": "grafana"}])
    assert out["binary"] == "/opt/grafana/bin/grafana"
    assert out["copies"] == []


def test_package_and_binary_sources():
    pkg = plan(install_source="package", package_name="prometheus", package_binary="/usr/bin/prometheus",
               package_tools={"promtool": "/usr/bin/promtool"})
    assert pkg["binary"] == "/usr/bin/prometheus" and pkg["tools"] == {"promtool": "/usr/bin/promtool"}
    sup = plan(install_source="binary", binary_path="/opt/x/node_exporter")
    assert sup["binary"] == "/opt/x/node_exporter" and sup["tools"] == {"tool": "/opt/x/tool"}


@pytest.mark.parametrize("changes, message", [
    ({"servce": "x"}, "unknown key(s) servce; did you mean 'service'"),
    ({"user": ""}, "'user' is required"),
    ({"install_source": "docker"}, "install source must be one of"),
    ({"install_source": "package"}, "needs a package name"),
    ({"install_source": "binary"}, "needs a binary path"),
    ({"archive_checksums": {}}, "no sha256 is pinned for architecture amd64"),
    ({"archive_format": "tree"}, "needs archive_tree_dir"),
    ({"web": {"tls": {}, "user": {}}}, "web takes the keys"),
    ({"listen": "9100"}, "is not [host]:port"),
])
def test_bad_descriptors_fail_early(changes, message):
    with pytest.raises(CommonError, match=None) as err:
        plan(**changes)
    assert message in str(err.value)


def test_missing_facts_are_explained():
    with pytest.raises(CommonError) as err:
        daemon_plan(BASE, architecture="")
    assert "gather facts" in str(err.value)


def test_handlers_need_no_architecture():
    out = daemon_plan(dict(BASE, archive_checksums={}), require_archive=False)
    assert out["binary"] == "/usr/local/bin/node_exporter" and out["ready_port"] == 9100


@pytest.mark.parametrize("address, expected", [
    (":9090", ("127.0.0.1", 9090)), ("0.0.0.0:9090", ("127.0.0.1", 9090)), ("[::]:9090", ("::1", 9090)),
    ("10.0.0.5:9100", ("10.0.0.5", 9100)), ("[fe80::1]:9100", ("fe80::1", 9100)),
])
def test_listen_parts(address, expected):
    assert listen_parts(address) == expected


@pytest.mark.parametrize("address", ["9090", "host:", ":99999", "a:b:9090"])
def test_bad_listen_addresses(address):
    with pytest.raises(CommonError):
        listen_parts(address)


SITE_TLS = {"ca_file": "pki/ca.crt", "cert_file": "pki/mon1.crt", "key_file": "pki/mon1.key"}
WEB = {"tls": {}, "tls_files": [], "users": {"prometheus": "pw"}}


def test_site_tls_serves_https_with_copies_in_the_config_dir():
    out = daemon_plan(dict(BASE, web=WEB, config_dir="/etc/node_exporter"), architecture="x86_64",
                      cache_dir="/c", tls=SITE_TLS)
    assert out["web"]["tls"] == {"cert_file": "/etc/node_exporter/tls/server.crt",
                                 "key_file": "/etc/node_exporter/tls/server.key", "min_version": "TLS12"}
    assert {"src": "pki/mon1.key", "dest": "/etc/node_exporter/tls/server.key", "secret": True} in out["web"]["tls_files"]
    assert out["ca_file"] == "/etc/node_exporter/tls/ca.crt"
    assert out["web"]["users"] == {"prometheus": "pw"}


def test_role_tls_wins_over_site_tls_and_no_site_tls_means_http():
    own = dict(WEB, tls={"cert_file": "/etc/x.crt", "key_file": "/etc/x.key"})
    out = daemon_plan(dict(BASE, web=own, config_dir="/etc/n"), architecture="x86_64", cache_dir="/c", tls=SITE_TLS)
    assert out["web"]["tls"] == own["tls"]
    assert out["ca_file"] == "/etc/n/tls/ca.crt"
    plain = daemon_plan(dict(BASE, web=WEB, config_dir="/etc/n"), architecture="x86_64", cache_dir="/c", tls={})
    assert plain["web"]["tls"] == {} and plain["ca_file"] == ""


@pytest.mark.parametrize("tls, message", [
    ({"ca_file": "a", "cert_file": "b"}, "needs key_file"),
    (dict(SITE_TLS, ca_fil="x"), "did you mean 'ca_file'"),
    ("pki/", "must be a dict"),
])
def test_bad_site_tls_is_refused(tls, message):
    with pytest.raises(CommonError, match=message):
        daemon_plan(dict(BASE, web=WEB, config_dir="/etc/n"), architecture="x86_64", cache_dir="/c", tls=tls)


def test_site_tls_adds_its_directory_and_works_without_a_web_config():
    out = daemon_plan(dict(BASE, site_tls=True, config_dir="/etc/loki", directories=[{"path": "/etc/loki"}]),
                      architecture="x86_64", cache_dir="/c", tls=SITE_TLS)
    assert out["directories"][-1] == {"path": "/etc/loki/tls", "owner": "root", "group": out["group"], "mode": "0750"}
    assert out["tls_server"]["cert_file"] == "/etc/loki/tls/server.crt"
    assert [f["dest"] for f in out["tls_files"]] == ["/etc/loki/tls/ca.crt", "/etc/loki/tls/server.crt", "/etc/loki/tls/server.key"]
    assert out["web"] is None


def test_directories_get_owner_group_and_mode_defaults():
    out = daemon_plan(dict(BASE, directories=[{"path": "/etc/n"}, {"path": "/var/lib/n", "owner": "n", "mode": "0700"}]),
                      architecture="x86_64", cache_dir="/c")
    assert out["directories"] == [{"path": "/etc/n", "owner": "root", "group": out["group"], "mode": "0750"},
                                  {"path": "/var/lib/n", "owner": "n", "group": out["group"], "mode": "0700"}]


def test_the_site_ready_timeout_applies_unless_the_role_sets_its_own():
    assert plan()["ready_timeout"] == 60
    assert daemon_plan(BASE, architecture="x86_64", cache_dir="/c", ready_timeout=15)["ready_timeout"] == 15
    own = dict(BASE, ready_timeout=180)
    assert daemon_plan(own, architecture="x86_64", cache_dir="/c", ready_timeout=15)["ready_timeout"] == 180


@pytest.mark.parametrize("value", [0, -1, "soon", True, 7200])
def test_a_ready_timeout_that_is_not_whole_seconds_is_refused(value):
    with pytest.raises(CommonError, match="ready_timeout"):
        daemon_plan(BASE, architecture="x86_64", cache_dir="/c", ready_timeout=value)
