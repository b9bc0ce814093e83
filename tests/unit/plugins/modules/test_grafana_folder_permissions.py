"""monitoring.stack.grafana_folder_permissions against a stub of Grafana's folder permission API (real HTTP).

The stub answers like Grafana 12's legacy permission API: GET/POST /api/folders/<uid>/permissions,
/api/teams/search, /api/users/lookup; it records every POST, so a test sees whether the module wrote.
"""

import http.server
import importlib
import json
import threading
import urllib.parse

import pytest
from ansible.module_utils.testing import patch_module_args

MOD = importlib.import_module("ansible_collections.monitoring.stack.plugins.modules.grafana_folder_permissions")
ACCESS = importlib.import_module("ansible_collections.monitoring.stack.plugins.module_utils._grafana_access")

TEAMS = {"developers": 3, "operations": 4}
USERS = {"dev1": 11}


class _Grafana(http.server.BaseHTTPRequestHandler):
    folders = {}
    posts = []

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # pylint: disable=invalid-name
        assert self.headers["Authorization"].startswith("Basic ")
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/api/teams/search":
            name = query["name"][0]
            teams = [{"id": TEAMS[name], "name": name}] if name in TEAMS else []
            return self._send(200, {"totalCount": len(teams), "teams": teams})
        if url.path == "/api/users/lookup":
            login = query["loginOrEmail"][0]
            return self._send(200, {"id": USERS[login], "login": login}) if login in USERS else self._send(404, {"message": "user not found"})
        uid = url.path.split("/")[3]
        if uid not in self.folders:
            return self._send(404, {"message": "folder not found"})
        return self._send(200, self.folders[uid])

    def do_POST(self):  # pylint: disable=invalid-name
        uid = self.path.split("/")[3]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.posts.append((uid, body))
        # Grafana answers GET with richer items (names, inherited flags); keep the posted ones plus an inherited one.
        self.folders[uid] = [dict(item, inherited=False, folderUid=uid) for item in body["items"]] + [
            {"role": "Admin", "permission": 4, "inherited": True}]
        return self._send(200, {"message": "Folder permissions updated"})

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(name="grafana")
def fixture_grafana():
    _Grafana.folders = {"monitoring-stack": [
        # A new folder in Grafana 12: the creator, Editor Edit, Viewer View.
        {"userId": 1, "userLogin": "admin", "permission": 4, "inherited": False},
        {"role": "Editor", "permission": 2, "inherited": False},
        {"role": "Viewer", "permission": 1, "inherited": False},
    ]}
    _Grafana.posts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Grafana)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def _run(url, permissions, check_mode=False, diff=False, folder="monitoring-stack"):
    args = {"url": url, "url_password": "Adm1n-pass", "folder_uid": folder, "permissions": permissions,
            "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with patch_module_args(args), pytest.raises(SystemExit):
        MOD.main()


def _result(capsys):
    return json.loads(capsys.readouterr().out)


SEEDS = [{"team": "developers", "permission": "View"}, {"team": "operations", "permission": "Admin"}]


def test_sets_then_changes_nothing(grafana, capsys):
    _run(grafana, SEEDS)
    first = _result(capsys)
    assert first["changed"] is True
    assert _Grafana.posts == [("monitoring-stack", {"items": [{"teamId": 3, "permission": 1}, {"teamId": 4, "permission": 4}]})]
    _run(grafana, SEEDS)
    assert _result(capsys)["changed"] is False
    assert len(_Grafana.posts) == 1


def test_check_mode_reports_and_writes_nothing(grafana, capsys):
    _run(grafana, SEEDS, check_mode=True, diff=True)
    result = _result(capsys)
    assert result["changed"] is True
    assert _Grafana.posts == []
    assert "role Viewer: View" in result["diff"]["before"]
    assert result["diff"]["after"] == "team developers: View\nteam operations: Admin\n"


def test_check_mode_with_a_folder_not_created_yet(grafana, capsys):
    _run(grafana, SEEDS, check_mode=True, folder="later")
    assert _result(capsys)["changed"] is True
    assert _Grafana.posts == []


def test_missing_team_fails_in_real_mode(grafana, capsys):
    _run(grafana, [{"team": "nobody"}])
    result = _result(capsys)
    assert result["failed"] is True and "team nobody not found" in result["msg"]
    assert _Grafana.posts == []


def test_users_and_roles(grafana, capsys):
    _run(grafana, [{"user": "dev1", "permission": "Edit"}, {"role": "Viewer", "permission": "View"}])
    assert _result(capsys)["changed"] is True
    assert _Grafana.posts[-1][1] == {"items": [{"role": "Viewer", "permission": 1}, {"userId": 11, "permission": 2}]}


def test_items_compare_as_sets_and_leave_inherited_ones():
    response = [{"teamId": 4, "team": "operations", "permission": 4, "inherited": False},
                {"teamId": 3, "permission": 1}, {"role": "Admin", "permission": 4, "inherited": True}]
    assert ACCESS.current_items(response) == ACCESS.desired_items(SEEDS, TEAMS, USERS)
