#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set the permissions of a Grafana folder (community.grafana has no module for them)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: grafana_folder_permissions
short_description: Set the permissions of a Grafana folder to exactly the given list
version_added: "0.2.0"
author: monitoring.stack contributors (@monitoring-stack)
description:
  - Reads the folder's own permissions (C(GET /api/folders/<uid>/permissions)), resolves team names
    (C(/api/teams/search)) and user logins (C(/api/users/lookup)) to ids, and replaces the permissions
    (C(POST /api/folders/<uid>/permissions)) only when they differ. Inherited permissions are left alone.
  - The permission list is the whole list; permissions not in it (such as Grafana's default Viewer View and
    Editor Edit on a new folder) are removed.
options:
  url:
    description: Grafana's URL, for example C(http://127.0.0.1:3000).
    type: str
    required: true
  url_username:
    description: User for basic auth (a Grafana server admin, to look up users).
    type: str
    default: admin
  url_password:
    description: Password of O(url_username).
    type: str
    required: true
  validate_certs:
    description: Check Grafana's TLS certificate.
    type: bool
    default: true
  org_id:
    description: Organisation the folder belongs to (sent as C(X-Grafana-Org-Id)).
    type: int
    default: 1
  folder_uid:
    description: The folder's uid.
    type: str
    required: true
  permissions:
    description: The folder's permissions, each naming exactly one of O(permissions[].team), O(permissions[].user) or O(permissions[].role).
    type: list
    elements: dict
    required: true
    suboptions:
      team:
        description: Team name.
        type: str
      user:
        description: User login.
        type: str
      role:
        description: Basic role.
        type: str
        choices: [Viewer, Editor]
      permission:
        description: Permission level.
        type: str
        choices: [View, Edit, Admin]
        default: View
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads only; a folder, team or user that does not exist yet (created by an earlier task that check mode skipped) is reported as a change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
notes:
  - Uses Grafana's folder permission API, which Grafana 12 still serves.
"""

EXAMPLES = r"""
- name: Developers read, operations administer the monitoring folder.
  monitoring.stack.grafana_folder_permissions:
    url: http://127.0.0.1:3000
    url_username: admin
    url_password: "{{ vault_grafana_admin_password }}"
    folder_uid: monitoring-stack
    permissions:
      - {team: developers, permission: View}
      - {team: operations, permission: Admin}
      - {role: Editor, permission: Edit}
"""

RETURN = r"""
permissions:
  description: The folder's own permission items after the run (in check mode, the ones it would have).
  returned: success
  type: list
  elements: dict
"""

import json  # noqa: E402
from urllib.parse import quote  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.urls import fetch_url  # noqa: E402

from ansible_collections.monitoring.stack.plugins.module_utils._grafana_access import (  # noqa: E402
    current_items,
    desired_items,
    items_text,
)


class _Api:
    def __init__(self, module):
        self.module = module
        self.base = module.params["url"].rstrip("/")
        module.params["force_basic_auth"] = True
        self.headers = {"Content-Type": "application/json", "Accept": "application/json",
                        "X-Grafana-Org-Id": str(module.params["org_id"])}

    def call(self, path, method="GET", body=None):
        """(status, parsed body); a connection error is status -1."""
        response, info = fetch_url(self.module, self.base + path, method=method, headers=self.headers,
                                   data=json.dumps(body) if body is not None else None, timeout=30)
        raw = response.read() if response else info.get("body", b"")
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return info["status"], data if data is not None else (info.get("msg") if info["status"] < 0 else raw)


def _resolve(api, module, permissions, missing):
    team_ids, user_ids, names = {}, {}, {}
    for grant in permissions:
        if grant.get("team") and grant["team"] not in team_ids:
            status, data = api.call("/api/teams/search?name=%s" % quote(grant["team"]))
            match = [t for t in (data or {}).get("teams", []) if t.get("name") == grant["team"]] if status == 200 else []
            if not match:
                missing.append("team %s" % grant["team"])
                team_ids[grant["team"]] = -1 - len(team_ids)
            else:
                team_ids[grant["team"]] = match[0]["id"]
            names[("teamId", team_ids[grant["team"]])] = grant["team"]
        if grant.get("user") and grant["user"] not in user_ids:
            status, data = api.call("/api/users/lookup?loginOrEmail=%s" % quote(grant["user"]))
            if status != 200 or not isinstance(data, dict) or "id" not in data:
                missing.append("user %s" % grant["user"])
                user_ids[grant["user"]] = -1 - len(user_ids)
            else:
                user_ids[grant["user"]] = data["id"]
            names[("userId", user_ids[grant["user"]])] = grant["user"]
    if missing and not module.check_mode:
        module.fail_json(msg="folder %s: %s not found in Grafana (create them first)" % (
            module.params["folder_uid"], ", ".join(missing)))
    return team_ids, user_ids, names


def main():
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "url_username": {"type": "str", "default": "admin"},
            "url_password": {"type": "str", "required": True, "no_log": True},
            "validate_certs": {"type": "bool", "default": True},
            "org_id": {"type": "int", "default": 1},
            "folder_uid": {"type": "str", "required": True},
            "permissions": {"type": "list", "elements": "dict", "required": True, "options": {
                "team": {"type": "str"},
                "user": {"type": "str"},
                "role": {"type": "str", "choices": ["Viewer", "Editor"]},
                "permission": {"type": "str", "choices": ["View", "Edit", "Admin"], "default": "View"},
            }, "mutually_exclusive": [["team", "user", "role"]], "required_one_of": [["team", "user", "role"]]},
        },
        supports_check_mode=True,
    )
    api = _Api(module)
    uid = module.params["folder_uid"]
    permissions = [{k: v for k, v in grant.items() if v is not None} for grant in module.params["permissions"]]
    status, data = api.call("/api/folders/%s/permissions" % quote(uid))
    if status == 404 or (status < 0 and module.check_mode):
        if module.check_mode:
            module.exit_json(changed=True, permissions=[], msg="folder %s does not exist yet (or Grafana does not "
                             "answer): its permissions would be set once it does" % uid)
        module.fail_json(msg="folder %s does not exist in Grafana" % uid)
    if status != 200:
        module.fail_json(msg="GET /api/folders/%s/permissions answered HTTP %s: %s" % (uid, status, data))
    missing = []
    team_ids, user_ids, names = _resolve(api, module, permissions, missing)
    before = current_items(data)
    after = desired_items(permissions, team_ids, user_ids)
    changed = before != after
    result = {"changed": changed, "permissions": after}
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = {"before": items_text(before, names), "after": items_text(after, names),
                          "before_header": "folder %s" % uid, "after_header": "folder %s" % uid}
    if missing:
        result["msg"] = "check mode: %s not found yet" % ", ".join(missing)
    if changed and not module.check_mode:
        status, data = api.call("/api/folders/%s/permissions" % quote(uid), method="POST", body={"items": after})
        if status != 200:
            module.fail_json(msg="POST /api/folders/%s/permissions answered HTTP %s: %s" % (uid, status, data))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
