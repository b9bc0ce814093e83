# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue #13, log side: one reader per file, the host's time zone, per-OS paths, agent switch handover, Promtail gRPC.

(plugins/module_utils/_log_host.py, _log_sources.py, _log_agents.py, plugins/plugin_utils/_log_handover.py through the filters.)
"""

from __future__ import annotations

import base64

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.logs import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils import _log_host as H

FILTERS = FilterModule().filters()

SEEDS = [  # the catalogue of molecule/logs and of the seeds
    {"name": "nginx_access", "type": "nginx_access"},
    {"name": "nginx_error", "type": "nginx_error"},
    {"name": "postgresql", "type": "postgresql"},
    {"name": "journal", "type": "journal", "units": ["nginx.service"]},
    {"name": "odoo", "type": "odoo"},
    {"name": "django", "type": "django"},
    {"name": "audit", "type": "audit", "paths": ["/var/log/odoo/audit.log"]},
]


def _by_name(sources):
    return {s["name"]: s for s in sources}


# --------------------------------------------------------------------------- 3. one reader per file

def test_default_odoo_glob_leaves_the_audit_log_to_the_audit_source():
    by = _by_name(FILTERS["log_sources"](SEEDS))
    assert by["odoo"]["exclude"] == ["/var/log/odoo/audit.log"]
    assert by["audit"]["exclude"] == []
    promtail = FILTERS["promtail_config"](list(by.values()), {})
    odoo = [j for j in promtail["scrape_configs"] if j["job_name"] == "odoo"][0]
    assert odoo["static_configs"][0]["labels"]["__path_exclude__"] == "/var/log/odoo/audit.log"
    alloy = FILTERS["alloy_config"](list(by.values()), {})
    assert '"__path__" = "/var/log/odoo/*.log", "__path_exclude__" = "/var/log/odoo/audit.log"' in alloy


def test_own_exclusions_are_kept_and_not_repeated():
    catalogue = [{"name": "odoo", "type": "odoo", "exclude": ["/var/log/odoo/audit*.log"]},
                 {"name": "audit", "type": "audit", "paths": ["/var/log/odoo/audit.log"]}]
    assert _by_name(FILTERS["log_sources"](catalogue))["odoo"]["exclude"] == ["/var/log/odoo/audit*.log"]


def _custom(name, *paths):
    return {"name": name, "type": "custom", "paths": list(paths)}


def test_the_more_general_glob_excludes_the_more_specific_one():
    by = _by_name(FILTERS["log_sources"]([_custom("a", "/var/log/app/*.log"), _custom("b", "/var/log/app/*")]))
    assert by["b"]["exclude"] == ["/var/log/app/*.log"] and by["a"]["exclude"] == []
    by = _by_name(FILTERS["log_sources"]([_custom("a", "/var/log/app/**/*.log"), _custom("b", "/var/log/app/x/*.log")]))
    assert by["a"]["exclude"] == ["/var/log/app/x/*.log"]


@pytest.mark.parametrize("catalogue", [
    [_custom("a", "/var/log/app/x.log"), _custom("b", "/var/log/app/x.log")],
    [_custom("a", "/var/log/app/*.log"), _custom("b", "/var/log/app/*.log")],
    [_custom("a", "/var/log/app/*.log", "/var/log/other/y.log"), _custom("b", "/var/log/other/*.log", "/var/log/app/*.log")],
])
def test_sources_that_still_overlap_fail_early(catalogue):
    overlaps = FILTERS["log_source_overlaps"](catalogue)
    assert overlaps and "'a' and 'b' both read" in overlaps[0]
    with pytest.raises(AnsibleFilterError, match="shipped twice"):
        FILTERS["log_sources"](catalogue)


def test_disjoint_globs_do_not_overlap():
    assert FILTERS["log_source_overlaps"](SEEDS) == []
    assert not H.overlap("/var/log/nginx/*access.log", "/var/log/nginx/*error.log")
    assert H.overlap("/var/log/odoo/*.log", "/var/log/odoo/audit.log")
    assert H.covers("/var/log/{a,b}/*.log", "/var/log/b/x.log")
    assert not H.covers("/var/log/*.log", "/var/log/sub/x.log")
    assert H.covers("/var/log/**", "/var/log/sub/x.log")


def test_overlap_check_honours_enabled_sources():
    catalogue = SEEDS + [{"name": "all_odoo", "type": "custom", "paths": ["/var/log/odoo/*.log"], "enabled": False}]
    assert FILTERS["log_source_overlaps"](catalogue) == []
    assert FILTERS["log_source_overlaps"](catalogue, ["odoo", "all_odoo"]) != []


# --------------------------------------------------------------------------- 2. time zone

def _timestamp(src):
    return [st for st in src["pipeline"] if st["type"] == "timestamp"][0]


def test_nginx_error_and_postgresql_times_are_read_in_the_host_zone():
    by = _by_name(FILTERS["log_sources"](SEEDS, None, "web1", "prod", "Europe/Paris"))
    assert _timestamp(by["nginx_error"]) == {"type": "timestamp", "source": "time", "format": "2006/01/02 15:04:05",
                                             "location": "Europe/Paris"}
    assert _timestamp(by["postgresql"])["location"] == "Europe/Paris"
    assert _timestamp(by["odoo"])["location"] == "UTC"  # Odoo logs in UTC whatever the host zone
    promtail = FILTERS["promtail_config"](list(by.values()), {})
    stage = [s["timestamp"] for j in promtail["scrape_configs"] if j["job_name"] == "nginx_error"
             for s in j["pipeline_stages"] if "timestamp" in s][0]
    assert stage["location"] == "Europe/Paris"
    assert 'location          = "Europe/Paris"' in FILTERS["alloy_config"](list(by.values()), {})


def test_regex_sources_get_the_zone_unless_they_set_one():
    catalogue = [{"name": "a", "type": "custom", "format": "regex", "paths": ["/a/*.log"], "expression": "^(?P<t>\\S+)",
                  "timestamp": {"source": "t", "format": "2006-01-02T15:04:05"}},
                 {"name": "b", "type": "custom", "format": "regex", "paths": ["/b/*.log"], "expression": "^(?P<t>\\S+)",
                  "timestamp": {"source": "t", "format": "2006-01-02T15:04:05", "location": "America/New_York"}}]
    by = _by_name(FILTERS["log_sources"](catalogue, None, "", "", "Europe/Paris"))
    assert _timestamp(by["a"])["location"] == "Europe/Paris"
    assert _timestamp(by["b"])["location"] == "America/New_York"


def test_no_zone_keeps_the_old_pipeline():
    assert "location" not in _timestamp(_by_name(FILTERS["log_sources"](SEEDS))["nginx_error"])


@pytest.mark.parametrize("link, timezone_file, expected", [
    ("../usr/share/zoneinfo/Europe/Paris", "", "Europe/Paris"),
    ("/usr/share/zoneinfo/America/Argentina/Buenos_Aires", "", "America/Argentina/Buenos_Aires"),
    ("/usr/share/zoneinfo/Etc/UTC", "Europe/Berlin\n", "Etc/UTC"),
    ("", "Europe/Berlin\n", "Europe/Berlin"),
    ("", "# comment\nAsia/Tokyo\n", "Asia/Tokyo"),
    ("/usr/share/zoneinfo/posix/Europe/Rome", "", "Europe/Rome"),
    ("", "", "UTC"),
    ("/somewhere/else", "CET\n", "UTC"),  # an abbreviation is not an IANA name Go resolves the same way
])
def test_host_timezone(link, timezone_file, expected):
    assert FILTERS["host_timezone"](link, timezone_file) == expected


@pytest.mark.parametrize("zone", ["CET", "EST5EDT", "Europe/Paris extra", "../etc/passwd", ""])
def test_bad_zones_refused(zone):
    with pytest.raises(AnsibleFilterError, match="IANA"):
        FILTERS["log_sources"](SEEDS, None, "", "", zone or "-")


# --------------------------------------------------------------------------- 5. per OS family

def test_debian_paths_and_groups():
    by = _by_name(FILTERS["log_sources"](SEEDS, None, "", "", "", "Debian"))
    assert by["postgresql"]["paths"] == ["/var/log/postgresql/postgresql-*.log"]
    assert by["nginx_access"]["acl"] is False and by["nginx_access"]["acl_paths"] == []
    assert by["postgresql"]["traverse_paths"] == []


@pytest.mark.parametrize("family", ["RedHat", "Rocky", "AlmaLinux"])
def test_el_paths_and_acls(family):
    by = _by_name(FILTERS["log_sources"](SEEDS, None, "", "", "", family))
    assert by["postgresql"]["paths"] == ["/var/lib/pgsql/data/log/postgresql-*.log"]
    assert by["postgresql"]["acl_paths"] == ["/var/lib/pgsql/data/log"]
    assert by["postgresql"]["traverse_paths"] == ["/var/lib/pgsql", "/var/lib/pgsql/data"]
    # /var/log/nginx is 0711 root on EL9: no adm group, the agent needs a read ACL to list it.
    assert by["nginx_access"]["acl"] is True and by["nginx_access"]["acl_paths"] == ["/var/log/nginx"]
    assert by["nginx_error"]["acl_paths"] == ["/var/log/nginx"]


def test_own_paths_win_over_the_os_defaults():
    catalogue = [{"name": "pg", "type": "postgresql", "paths": ["/srv/pg/log/*.log"]}]
    src = FILTERS["log_sources"](catalogue, None, "", "", "", "RedHat")[0]
    assert src["paths"] == ["/srv/pg/log/*.log"] and src["traverse_paths"] == []


def test_unknown_family_refused():
    with pytest.raises(AnsibleFilterError, match="os_family"):
        FILTERS["log_sources"](SEEDS, None, "", "", "", "Windows")


# --------------------------------------------------------------------------- 4. Promtail gRPC

def test_promtail_grpc_listens_on_loopback_only():
    server = FILTERS["promtail_config"](FILTERS["log_sources"](SEEDS), {})["server"]
    assert server["grpc_listen_address"] == "127.0.0.1"
    assert server["grpc_listen_port"] == 0


# --------------------------------------------------------------------------- 1. agent switch handover

def test_alloy_converts_promtail_positions_on_a_switch():
    sources = FILTERS["log_sources"](SEEDS)
    text = FILTERS["alloy_config"](sources, {"legacy_positions_file": "/var/lib/alloy/promtail-positions.yaml"})
    files = [s["name"] for s in sources if s["kind"] == "file"]
    assert text.count('legacy_positions_file = "/var/lib/alloy/promtail-positions.yaml"') == len(files)
    assert "legacy_positions_file" not in FILTERS["alloy_config"](sources, {})
    # Promtail ignores the Alloy-only setting.
    assert "legacy_positions_file" not in yaml.safe_dump(FILTERS["promtail_config"](sources, {"legacy_positions_file": "/x"}))


# What Alloy 1.x writes (yaml.v2 of map[Entry]string, Entry{path, labels}) in <storage>/<component>/positions.yml.
ALLOY_ODOO = """positions:
  ? path: /var/log/odoo/odoo-server.log
    labels: '{environment="molecule", host="lg-loki", job="odoo"}'
  : "4711"
  ? path: /var/log/odoo/odoo-server.log
    labels: '{}'
  : "100"
"""
ALLOY_JOURNAL = """positions:
  ? path: journal-loki.source.journal.journal
    labels: '{}'
  : s=0123abcd;i=42
"""


def test_promtail_positions_from_alloy():
    doc = FILTERS["promtail_positions"]([
        {"path": "/var/lib/alloy/data/loki.source.file.odoo/positions.yml", "content": ALLOY_ODOO},
        {"path": "/var/lib/alloy/data/loki.source.journal.journal/positions.yml", "content": ALLOY_JOURNAL},
    ])
    assert doc == {"positions": {"/var/log/odoo/odoo-server.log": "4711", "journal-journal": "s=0123abcd;i=42"}}


def test_promtail_positions_from_slurp_results():
    slurped = [{"source": "/var/lib/alloy/data/loki.source.file.odoo/positions.yml", "encoding": "base64",
                "content": base64.b64encode(ALLOY_ODOO.encode()).decode(), "changed": False}]
    assert FILTERS["promtail_positions"](slurped) == {"positions": {"/var/log/odoo/odoo-server.log": "4711"}}
    assert FILTERS["promtail_positions"]([{"path": "p", "content": ""}]) == {"positions": {}}


@pytest.mark.parametrize("content, message", [
    ("positions:\n  ? path: /a\n    labels: '{}'\n  : abc\n", "not a number"),
    ("positions: [", "not a positions file"),
    ("positions:\n  /a: '1'\n", "keyed by"),
])
def test_promtail_positions_refuses_garbage(content, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["promtail_positions"]([{"path": "p", "content": content}])
