# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may do what in Grafana: the compact ``grafana_access`` spec as module calls, and folder permissions.

:func:`access_plan` (the monitoring.stack.grafana_access_plan filter) turns ``{url, teams, users, folders}`` into the
arguments of one call each of community.grafana.grafana_user (the account), grafana_organization_user (its
organisation role), grafana_team (name, email, members by email: the module compares members by email),
grafana_folder and monitoring.stack.grafana_folder_permissions. It checks the spec and resolves what the modules
need (a team member given as the login of a user of the spec becomes that user's email; a folder's title comes from
the dashboard folders). Secrets (user passwords) stay in the ``users`` calls only, which the role runs with no_log.

:func:`desired_items`, :func:`current_items` and :func:`items_text` are the pure part of the
grafana_folder_permissions module: Grafana's folder permission API items (``/api/folders/<uid>/permissions``)
compared as sets, so the module writes only when they differ.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

# Grafana's folder permission levels (the legacy permission API, still served by Grafana 12).
PERMISSIONS = {"View": 1, "Edit": 2, "Admin": 4}
PERMISSION_NAMES = {value: name for name, value in PERMISSIONS.items()}
ORG_ROLES = ("Viewer", "Editor", "Admin")
# Basic roles a folder permission can name (Admin always has every folder).
FOLDER_ROLES = ("Viewer", "Editor")
ACCESS_KEYS = frozenset(("url", "validate_certs", "teams", "users", "folders"))
TEAM_KEYS = frozenset(("name", "email", "members", "enforce_members"))
USER_KEYS = frozenset(("login", "name", "email", "password", "role", "state"))
FOLDER_KEYS = frozenset(("uid", "title", "permissions"))
GRANT_KEYS = frozenset(("team", "user", "role", "permission"))
UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def _fail(message):
    raise SpecError("grafana_access: " + message)


def _mapping(value, where, keys):
    if not isinstance(value, dict):
        _fail("%s must be a mapping, got %r" % (where, value))
    unknown = sorted(set(value) - keys)
    if unknown:
        _fail("%s has unknown key(s) %s; allowed: %s" % (where, ", ".join(unknown), ", ".join(sorted(keys))))
    return value


def _list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        _fail("%s must be a list, got %s" % (where, type(value).__name__))
    return value


def _text(value, where, required=True):
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        _fail("%s must be a non-empty string, got %r" % (where, value))
    return value


def default_url(ini):
    """The Grafana API URL on the Grafana host, from the merged grafana.ini (protocol, http_addr, http_port)."""
    server = (ini or {}).get("server") or {}
    protocol = server.get("protocol", "http")
    if protocol == "socket":
        _fail("Grafana listens on a Unix socket: set grafana_access.url")
    scheme = "https" if protocol in ("https", "h2") else "http"
    addr = str(server.get("http_addr") or "")
    host = server.get("domain") if scheme == "https" else (addr if addr not in ("", "0.0.0.0", "::") else "127.0.0.1")
    host = str(host or "127.0.0.1")
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s://%s:%s" % (scheme, host, server.get("http_port", 3000))


def _users(raw):
    users, emails = [], {}
    for index, user in enumerate(_list(raw, "users")):
        where = "users[%d]" % index
        user = _mapping(user, where, USER_KEYS)
        login = _text(user.get("login"), where + ".login")
        if login in emails:
            _fail("user %r is listed twice" % login)
        state = user.get("state", "present")
        if state not in ("present", "absent"):
            _fail("%s.state must be present or absent, got %r" % (where, state))
        email = _text(user.get("email"), where + ".email", required=state == "present")
        if state == "present":
            if not EMAIL_RE.match(email):
                _fail("%s.email must be an email address (Grafana and the team module compare members by it), got %r"
                      % (where, email))
            _text(user.get("password"), where + ".password (needed to create the account; vault it)")
        role = user.get("role", "Viewer")
        if role not in ORG_ROLES:
            _fail("%s.role must be one of %s, got %r" % (where, ", ".join(ORG_ROLES), role))
        emails[login] = email
        users.append({"login": login, "name": _text(user.get("name"), where + ".name", required=False) or login,
                      "email": email, "password": user.get("password") or "", "role": role, "state": state})
    return users, emails


def _teams(raw, emails, absent):
    teams = []
    for index, team in enumerate(_list(raw, "teams")):
        where = "teams[%d]" % index
        team = _mapping(team, where, TEAM_KEYS)
        name = _text(team.get("name"), where + ".name")
        if name in [t["name"] for t in teams]:
            _fail("team %r is listed twice" % name)
        email = _text(team.get("email"), where + ".email", required=False)
        members = []
        for member in _list(team.get("members"), where + ".members"):
            member = _text(member, where + ".members[]")
            if member in absent:
                _fail("%s: member %r is a user with state absent" % (where, member))
            if member in emails:
                member = emails[member]
            elif not EMAIL_RE.match(member):
                _fail("%s: member %r is neither an email address nor the login of a grafana_access.users entry"
                      % (where, member))
            if member not in members:
                members.append(member)
        enforce = team.get("enforce_members", True)
        if not isinstance(enforce, bool):
            _fail("%s.enforce_members must be a boolean, got %r" % (where, enforce))
        teams.append({"name": name, "email": email, "members": sorted(members), "enforce_members": enforce})
    return teams


def _grant(grant, where):
    grant = _mapping(grant, where, GRANT_KEYS)
    whom = [key for key in ("team", "user", "role") if key in grant]
    if len(whom) != 1:
        _fail("%s must name exactly one of team, user or role, got %r" % (where, grant))
    kind = whom[0]
    value = _text(grant[kind], "%s.%s" % (where, kind))
    if kind == "role" and value not in FOLDER_ROLES:
        _fail("%s.role must be one of %s (Admin has every folder), got %r" % (where, ", ".join(FOLDER_ROLES), value))
    permission = grant.get("permission", "View")
    if permission not in PERMISSIONS:
        _fail("%s.permission must be one of %s, got %r" % (where, ", ".join(PERMISSIONS), permission))
    return {kind: value, "permission": permission}


def _folders(raw, dashboard_folders):
    titles = {f.get("uid"): f.get("title") for f in dashboard_folders or [] if isinstance(f, dict)}
    folders, permissions = [], []
    for index, folder in enumerate(_list(raw, "folders")):
        where = "folders[%d]" % index
        folder = _mapping(folder, where, FOLDER_KEYS)
        uid = _text(folder.get("uid"), where + ".uid")
        if not UID_RE.match(uid):
            _fail("%s.uid must be 1-40 characters of [A-Za-z0-9_-], got %r" % (where, uid))
        if uid in [f["uid"] for f in folders]:
            _fail("folder %r is listed twice" % uid)
        title = folder.get("title") or titles.get(uid)
        if not title:
            _fail("%s: folder %r is not one of grafana_dashboard_folders, so it needs a title" % (where, uid))
        folders.append({"uid": uid, "title": _text(title, where + ".title")})
        if "permissions" in folder:
            grants = [_grant(g, "%s.permissions[%d]" % (where, i))
                      for i, g in enumerate(_list(folder["permissions"], where + ".permissions"))]
            seen = set()
            for grant in grants:
                key = next((k, v) for k, v in grant.items() if k != "permission")
                if key in seen:
                    _fail("%s.permissions names %s %r twice" % (where, key[0], key[1]))
                seen.add(key)
            permissions.append({"folder_uid": uid, "permissions": grants})
    return folders, permissions


def access_plan(access, ini=None, dashboard_folders=None, check_mode=False):
    """The module calls of ``grafana_access``: ``{enabled, url, validate_certs, users, org_users, teams, folders,
    folder_permissions, unchecked, summary}``.

    ``enabled`` is false when the spec lists no team, user or folder. In check mode (``check_mode=True``)
    ``unchecked`` names the calls of modules that cannot run in check mode (community.grafana's), which the
    role reports instead of running; folder permissions are checked by monitoring.stack.grafana_folder_permissions.
    """
    access = _mapping(access or {}, "grafana_access", ACCESS_KEYS)
    users, emails = _users(access.get("users"))
    absent = {u["login"] for u in users if u["state"] == "absent"}
    teams = _teams(access.get("teams"), emails, absent)
    folders, folder_permissions = _folders(access.get("folders"), dashboard_folders)
    team_names = {t["name"] for t in teams}
    for entry in folder_permissions:
        for grant in entry["permissions"]:
            if grant.get("user") in absent:
                _fail("folder %r grants %s to user %r, who has state absent" % (entry["folder_uid"], grant["permission"],
                                                                                grant["user"]))
    enabled = bool(users or teams or folders)
    url = access.get("url") or (default_url(ini) if enabled else "")
    if enabled and not re.match(r"^https?://[^/]+", str(url)):
        _fail("url must be an http:// or https:// URL, got %r" % (url,))
    validate_certs = access.get("validate_certs", True)
    if not isinstance(validate_certs, bool):
        _fail("validate_certs must be a boolean, got %r" % (validate_certs,))
    plan = {
        "enabled": enabled,
        "url": str(url).rstrip("/"),
        "validate_certs": validate_certs,
        "users": [{"login": u["login"], "name": u["name"], "email": u["email"], "password": u["password"],
                   "is_admin": False, "state": u["state"]} for u in users],
        "org_users": [{"login": u["login"], "role": u["role"].lower(), "org_id": 1}
                      for u in users if u["state"] == "present"],
        "teams": [{"name": t["name"], "email": t["email"], "members": t["members"],
                   "enforce_members": t["enforce_members"], "org_id": 1} for t in teams],
        "folders": [{"uid": f["uid"], "title": f["title"], "org_id": 1} for f in folders],
        "folder_permissions": folder_permissions,
    }
    summary = (["user %s (%s)" % (u["login"], u["role"] if u["state"] == "present" else "absent") for u in users]
               + ["team %s (%d members)" % (t["name"], len(t["members"])) for t in teams]
               + ["folder %s: %s" % (p["folder_uid"], ", ".join(
                   "%s %s %s" % (next(k for k in g if k != "permission"), next(v for k, v in g.items() if k != "permission"),
                                 g["permission"]) for g in p["permissions"]) or "no permissions")
                  for p in folder_permissions])
    plan["summary"] = summary
    unchecked = []
    if check_mode:
        unchecked = (["community.grafana.grafana_user %s" % u["login"] for u in plan["users"]]
                     + ["community.grafana.grafana_organization_user %s %s" % (u["login"], u["role"]) for u in plan["org_users"]]
                     + ["community.grafana.grafana_team %s" % t["name"] for t in plan["teams"]]
                     + ["community.grafana.grafana_folder %s" % f["uid"] for f in plan["folders"]])
    plan["unchecked"] = unchecked
    # Teams named by folder permissions but not managed here must exist already (SSO team sync, for example).
    plan["external_teams"] = sorted({g["team"] for p in folder_permissions for g in p["permissions"]
                                     if "team" in g and g["team"] not in team_names})
    return plan


# --- folder permissions (the grafana_folder_permissions module) ---------------------------------------------

def desired_items(permissions, team_ids, user_ids):
    """Grafana's permission items for ``[{team|user|role, permission}]``, with team and user names resolved to ids."""
    items = []
    for grant in permissions:
        level = PERMISSIONS[grant["permission"]]
        if "team" in grant:
            items.append({"teamId": team_ids[grant["team"]], "permission": level})
        elif "user" in grant:
            items.append({"userId": user_ids[grant["user"]], "permission": level})
        else:
            items.append({"role": grant["role"], "permission": level})
    return sorted(items, key=_item_key)


def current_items(response):
    """The folder's own permission items from ``GET /api/folders/<uid>/permissions`` (inherited ones left out)."""
    items = []
    for item in response or []:
        if not isinstance(item, dict) or item.get("inherited"):
            continue
        level = item.get("permission")
        if item.get("teamId"):
            items.append({"teamId": item["teamId"], "permission": level})
        elif item.get("userId"):
            items.append({"userId": item["userId"], "permission": level})
        elif item.get("role"):
            items.append({"role": item["role"], "permission": level})
    return sorted(items, key=_item_key)


def _item_key(item):
    kind = "teamId" if "teamId" in item else "userId" if "userId" in item else "role"
    return (kind, str(item[kind]), item.get("permission", 0))


def items_text(items, names=None):
    """Readable lines of permission items (for the diff), ids shown by name where ``names`` knows them."""
    names = names or {}
    lines = []
    for item in items:
        kind = "teamId" if "teamId" in item else "userId" if "userId" in item else "role"
        label = {"teamId": "team", "userId": "user", "role": "role"}[kind]
        who = names.get((kind, item[kind]), item[kind])
        lines.append("%s %s: %s" % (label, who, PERMISSION_NAMES.get(item.get("permission"), item.get("permission"))))
    return "\n".join(lines) + ("\n" if lines else "")
