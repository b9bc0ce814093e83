# -*- coding: utf-8 -*-
"""Unit tests of monitoring.stack.grafana_access_plan: the compact grafana_access spec as module arguments."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.grafana_access import FilterModule

grafana_access_plan = FilterModule().filters()["grafana_access_plan"]

INI = {"server": {"protocol": "http", "http_addr": "", "http_port": 3000, "domain": "grafana.example.org"}}
FOLDERS = [{"uid": "monitoring-stack", "title": "Monitoring stack"}]
# As the seeds want it: developers read-only (Viewer, with Explore through grafana.ini), operations admin.
SEEDS = {
    "users": [
        {"login": "dev1", "email": "dev1@example.org", "password": "dev1-S3cret", "role": "Viewer"},
        {"login": "ops1", "name": "Ops One", "email": "ops1@example.org", "password": "ops1-S3cret", "role": "Admin"},
    ],
    "teams": [
        {"name": "developers", "members": ["dev1"]},
        {"name": "operations", "email": "ops@example.org", "members": ["ops1", "oncall@example.org"]},
    ],
    "folders": [
        {"uid": "monitoring-stack", "permissions": [
            {"team": "developers", "permission": "View"},
            {"team": "operations", "permission": "Admin"}]},
    ],
}


def plan(access=None, check_mode=False, **kwargs):
    args = {"ini": INI, "dashboard_folders": FOLDERS, "check_mode": check_mode}
    args.update(kwargs)
    return grafana_access_plan(SEEDS if access is None else access, **args)


def test_off_by_default():
    for access in ({}, {"teams": [], "users": [], "folders": []}):
        result = plan(access)
        assert result["enabled"] is False
        assert result["users"] == result["teams"] == result["folders"] == result["folder_permissions"] == []
        assert result["unchecked"] == []


def test_real_mode_module_arguments():
    result = plan()
    assert result["enabled"] is True
    assert result["url"] == "http://127.0.0.1:3000"
    assert result["validate_certs"] is True
    assert result["users"] == [
        {"login": "dev1", "name": "dev1", "email": "dev1@example.org", "password": "dev1-S3cret", "is_admin": False,
         "state": "present"},
        {"login": "ops1", "name": "Ops One", "email": "ops1@example.org", "password": "ops1-S3cret", "is_admin": False,
         "state": "present"},
    ]
    # community.grafana.grafana_organization_user takes the role in lower case.
    assert result["org_users"] == [{"login": "dev1", "role": "viewer", "org_id": 1},
                                   {"login": "ops1", "role": "admin", "org_id": 1}]
    # grafana_team compares members by email: logins of the spec's users become their emails.
    assert result["teams"] == [
        {"name": "developers", "email": "", "members": ["dev1@example.org"], "enforce_members": True, "org_id": 1},
        {"name": "operations", "email": "ops@example.org", "members": ["oncall@example.org", "ops1@example.org"],
         "enforce_members": True, "org_id": 1},
    ]
    assert result["folders"] == [{"uid": "monitoring-stack", "title": "Monitoring stack", "org_id": 1}]
    assert result["folder_permissions"] == [{"folder_uid": "monitoring-stack", "permissions": [
        {"team": "developers", "permission": "View"}, {"team": "operations", "permission": "Admin"}]}]
    assert result["external_teams"] == []
    # Real mode: every call is made.
    assert result["unchecked"] == []
    assert "user dev1 (Viewer)" in result["summary"]
    assert "folder monitoring-stack: team developers View, team operations Admin" in result["summary"]


def test_check_mode_names_the_calls_that_cannot_check():
    result = plan(check_mode=True)
    # The same arguments: check mode changes what runs, not what would be sent.
    assert {k: v for k, v in result.items() if k != "unchecked"} == {k: v for k, v in plan().items() if k != "unchecked"}
    assert result["unchecked"] == [
        "community.grafana.grafana_user dev1", "community.grafana.grafana_user ops1",
        "community.grafana.grafana_organization_user dev1 viewer", "community.grafana.grafana_organization_user ops1 admin",
        "community.grafana.grafana_team developers", "community.grafana.grafana_team operations",
        "community.grafana.grafana_folder monitoring-stack",
    ]
    # Folder permissions are checked by monitoring.stack.grafana_folder_permissions (check mode: full).
    assert not any("permission" in line for line in result["unchecked"])


def test_passwords_stay_in_the_user_calls():
    result = plan()
    for key in ("org_users", "teams", "folders", "folder_permissions", "summary", "unchecked"):
        assert "S3cret" not in repr(result[key])


def test_url_follows_grafana_ini_or_is_given():
    https = {"server": {"protocol": "https", "http_port": 3443, "domain": "grafana.example.org"}}
    assert plan(ini=https)["url"] == "https://grafana.example.org:3443"
    assert plan(ini={"server": {"protocol": "http", "http_addr": "10.0.0.5", "http_port": 3000}})["url"] == "http://10.0.0.5:3000"
    given = dict(SEEDS, url="https://grafana.internal/", validate_certs=False)
    result = plan(given)
    assert result["url"] == "https://grafana.internal" and result["validate_certs"] is False


def test_a_folder_of_its_own_and_role_and_user_grants():
    access = {"users": [{"login": "dev1", "email": "dev1@example.org", "password": "x"}],
              "folders": [{"uid": "team-a", "title": "Team A", "permissions": [
                  {"role": "Viewer"}, {"user": "dev1", "permission": "Edit"}, {"team": "sso-team"}]}]}
    result = plan(access)
    assert result["folders"] == [{"uid": "team-a", "title": "Team A", "org_id": 1}]
    assert result["folder_permissions"][0]["permissions"] == [
        {"role": "Viewer", "permission": "View"}, {"user": "dev1", "permission": "Edit"}, {"team": "sso-team", "permission": "View"}]
    assert result["external_teams"] == ["sso-team"]


def test_an_absent_user_gets_no_org_role():
    result = plan({"users": [{"login": "gone", "state": "absent"}]})
    assert result["users"][0]["state"] == "absent"
    assert result["org_users"] == []


@pytest.mark.parametrize("access, fragment", [
    ({"team": []}, "unknown key(s) team"),
    ({"users": [{"login": "a", "password": "x"}]}, "users[0].email"),
    ({"users": [{"login": "a", "email": "a@b"}]}, "password"),
    ({"users": [{"login": "a", "email": "a@b", "password": "x", "role": "viewer"}]}, "users[0].role"),
    ({"users": [{"login": "a", "email": "a@b", "password": "x"}, {"login": "a", "email": "a@c", "password": "y"}]}, "twice"),
    ({"teams": [{"name": "t", "members": ["nobody"]}]}, "neither an email address nor the login"),
    ({"folders": [{"uid": "other", "permissions": []}]}, "needs a title"),
    ({"folders": [{"uid": "monitoring-stack", "permissions": [{"team": "t", "role": "Viewer"}]}]}, "exactly one of"),
    ({"folders": [{"uid": "monitoring-stack", "permissions": [{"role": "Admin"}]}]}, "role must be one of Viewer, Editor"),
    ({"folders": [{"uid": "monitoring-stack", "permissions": [{"team": "t", "permission": "Read"}]}]}, "permission must be one of"),
    ({"folders": [{"uid": "monitoring-stack", "permissions": [{"team": "t"}, {"team": "t", "permission": "Edit"}]}]}, "twice"),
    ({"folders": [{"uid": "bad uid", "title": "x"}]}, "uid must be"),
    (dict(SEEDS, url="grafana:3000"), "url must be"),
])
def test_wrong_specs_are_refused_with_the_entry(access, fragment):
    with pytest.raises(AnsibleFilterError) as info:
        plan(access)
    assert "grafana_access_plan" in str(info.value) and fragment in str(info.value), str(info.value)
