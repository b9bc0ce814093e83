# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue #15, log rotation per log source (plugins/module_utils/_log_rotation.py through monitoring.stack.logrotate_configs)."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.logs import FilterModule

ROTATE = FilterModule().filters()["logrotate_configs"]

SEED = {"enabled": True, "frequency": "daily", "keep": 14, "compress": True, "create_mode": "0640"}
CATALOGUE = [
    {"name": "nginx_access", "type": "nginx_access"},
    {"name": "nginx_error", "type": "nginx_error"},
    {"name": "postgresql", "type": "postgresql"},
    {"name": "journal", "type": "journal"},
    {"name": "django", "type": "django", "rotate": {"enabled": True}},
    {"name": "fastapi", "type": "fastapi", "paths": ["/srv/fastapi/logs/*.json"]},
    {"name": "audit", "type": "audit", "paths": ["/var/log/odoo/audit.log"], "rotate": {"enabled": True, "keep": 30}},
]


def _directives(content):
    body = content.split("{", 1)[1].rsplit("}", 1)[0]
    return [line.strip() for line in body.strip().splitlines()]


def test_seed_002_daily_14_compress_create_0640():
    out = ROTATE(CATALOGUE, None, dict(SEED, enabled=False))
    assert [f["name"] for f in out["files"]] == ["django", "audit"]
    django = out["files"][0]
    assert django["dest"] == "/etc/logrotate.d/monitoring-stack-django"
    assert django["content"].splitlines()[3] == "/var/log/django/*.log {"
    assert _directives(django["content"]) == [
        "daily", "rotate 14", "missingok", "notifempty", "nocopytruncate", "create 0640", "compress", "delaycompress"]
    assert "rotate 30" in _directives(out["files"][1]["content"])
    assert out["keep"] == ["/etc/logrotate.d/monitoring-stack-django", "/etc/logrotate.d/monitoring-stack-audit"]
    assert out["skipped"] == []


def test_rename_and_create_never_copytruncate():
    for options in ({}, {"compress": False}, {"postrotate": "systemctl kill -s HUP odoo.service"}):
        content = ROTATE([{"name": "django", "type": "django", "rotate": dict(options, enabled=True)}], None, SEED)["files"][0]["content"]
        directives = _directives(content)
        assert "copytruncate" not in directives and "nocopytruncate" in directives
        assert any(d.startswith("create 0640") for d in directives)
        assert ("delaycompress" in directives) == options.get("compress", True)


def test_defaults_turn_rotation_on_for_every_file_source_and_a_source_can_opt_out():
    catalogue = [dict(s) for s in CATALOGUE]
    catalogue[4] = {"name": "django", "type": "django", "rotate": {"enabled": False}}
    out = ROTATE(catalogue, None, SEED)
    # journal: nothing to rotate; nginx/postgresql: no package file given, so rotated here; django opted out.
    assert [f["name"] for f in out["files"]] == ["nginx_access", "nginx_error", "postgresql", "fastapi", "audit"]


def test_packaged_nginx_and_postgresql_are_skipped_and_said():
    out = ROTATE(CATALOGUE, None, SEED, ["nginx", "postgresql-common", "dpkg"])
    assert [f["name"] for f in out["files"]] == ["django", "fastapi", "audit"]
    assert out["skipped"] == [
        "nginx_access: not rotated here, the nginx package already does (/etc/logrotate.d/nginx)",
        "nginx_error: not rotated here, the nginx package already does (/etc/logrotate.d/nginx)",
        "postgresql: not rotated here, the PostgreSQL packages already does (/etc/logrotate.d/postgresql-common)",
    ]


def test_el_postgresql_rotates_itself():
    out = ROTATE([{"name": "postgresql", "type": "postgresql"}], None, SEED, [], "RedHat")
    assert out["files"] == [] and "logging collector" in out["skipped"][0]


def test_owner_group_su_size_and_postrotate():
    rotate = {"enabled": True, "owner": "odoo", "group": "odoo", "su": "odoo adm", "max_size": "100M",
              "postrotate": "systemctl kill -s HUP odoo.service", "frequency": "weekly", "create_mode": "640"}
    content = ROTATE([{"name": "odoo", "type": "odoo", "rotate": rotate}], None, SEED)["files"][0]["content"]
    directives = _directives(content)
    assert "weekly" in directives and "create 0640 odoo odoo" in directives and "su odoo adm" in directives
    assert "maxsize 100M" in directives
    assert directives[-4:] == ["sharedscripts", "postrotate", "systemctl kill -s HUP odoo.service", "endscript"]


def test_only_the_sources_read_on_the_host():
    out = ROTATE(CATALOGUE, ["django"], SEED)
    assert [f["name"] for f in out["files"]] == ["django"]


@pytest.mark.parametrize("rotate, message", [
    ({"enabled": True, "frequncy": "daily"}, "unknown key(s) frequncy (did you mean 'frequency'?)"),
    ({"enabled": True, "frequency": "fortnightly"}, "frequency must be one of"),
    ({"enabled": True, "keep": 0}, "keep must be"),
    ({"enabled": True, "create_mode": "rw-r-----"}, "create_mode must be an octal mode"),
    ({"enabled": True, "owner": "odoo"}, "give owner and group together"),
    ({"enabled": True, "su": "odoo"}, "su must be 'user group'"),
    ({"enabled": True, "max_size": "lots"}, "max_size must be a size"),
    ({"enabled": True, "postrotate": "true\nendscript\nrm -rf /"}, "must not contain an 'endscript' line"),
    ("yes", "must be a mapping"),
])
def test_bad_rotate_options_are_refused(rotate, message):
    with pytest.raises(AnsibleFilterError, match="monitoring.stack.logrotate_configs: log source 'django' rotate: .*" + re.escape(message)):
        ROTATE([{"name": "django", "type": "django", "rotate": rotate}], None, SEED)


def test_a_glob_that_covers_another_source_cannot_be_rotated():
    """The default Odoo glob /var/log/odoo/*.log leaves audit.log to the audit source; logrotate cannot."""
    catalogue = [{"name": "odoo", "type": "odoo", "rotate": {"enabled": True}},
                 {"name": "audit", "type": "audit", "paths": ["/var/log/odoo/audit.log"]}]
    with pytest.raises(AnsibleFilterError, match="also match /var/log/odoo/audit.log, which logrotate cannot leave out"):
        ROTATE(catalogue, None, SEED)
    catalogue[0]["paths"] = ["/var/log/odoo/odoo-*.log"]
    assert ROTATE(catalogue, None, SEED)["files"][0]["content"].splitlines()[3] == "/var/log/odoo/odoo-*.log {"


def test_journal_rotation_is_refused_when_asked_for_explicitly():
    with pytest.raises(AnsibleFilterError, match="a journal source has no files to rotate"):
        ROTATE([{"name": "journal", "type": "journal", "rotate": {"enabled": True}}], None, SEED)


def test_bad_defaults_are_named_as_the_role_variable():
    with pytest.raises(AnsibleFilterError, match="log_shipper_rotate: keep must be"):
        ROTATE(CATALOGUE, None, dict(SEED, keep="fourteen"))
