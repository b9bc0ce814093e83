"""directories: all of a daemon's directories in one module call, idempotent, check mode aware."""

import grp
import importlib
import json
import os
import pwd

import pytest
from ansible.module_utils.testing import patch_module_args

MOD = importlib.import_module("ansible_collections.monitoring.stack.plugins.modules.directories")
ME, MY_GROUP = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def run(capsys, directories, check_mode=False):
    args = {"directories": directories, "_ansible_check_mode": check_mode, "_ansible_diff": True}
    with patch_module_args(args), pytest.raises(SystemExit):
        MOD.main()
    return json.loads(capsys.readouterr().out)


def test_creates_sets_modes_and_is_idempotent(tmp_path, capsys):
    dirs = [{"path": str(tmp_path / "etc"), "owner": ME, "group": MY_GROUP, "mode": "0750"},
            {"path": str(tmp_path / "lib" / "data"), "owner": ME, "group": MY_GROUP, "mode": "2770"}]
    result = run(capsys, dirs)
    assert result["changed"] and result["changed_paths"] == [d["path"] for d in dirs]
    assert oct(os.stat(dirs[0]["path"]).st_mode & 0o7777) == "0o750"
    assert oct(os.stat(dirs[1]["path"]).st_mode & 0o7777) == "0o2770"
    assert oct(os.stat(str(tmp_path / "lib")).st_mode & 0o777) == "0o755", "a missing parent gets 0755"
    again = run(capsys, dirs)
    assert not again["changed"] and again["changed_paths"] == []


def test_check_mode_reports_and_changes_nothing(tmp_path, capsys):
    existing = tmp_path / "etc"
    existing.mkdir()
    existing.chmod(0o755)  # whatever the umask
    dirs = [{"path": str(existing), "owner": ME, "group": MY_GROUP, "mode": "0750"},
            {"path": str(tmp_path / "new"), "owner": ME, "group": MY_GROUP, "mode": "0750"}]
    result = run(capsys, dirs, check_mode=True)
    assert result["changed_paths"] == [str(existing), str(tmp_path / "new")]
    assert oct(existing.stat().st_mode & 0o777) == "0o755" and not (tmp_path / "new").exists()
    assert result["diff"][1]["before"]["state"] == "absent"


def test_a_file_in_the_way_fails(tmp_path, capsys):
    blocker = tmp_path / "etc"
    blocker.write_text("x")
    result = run(capsys, [{"path": str(blocker), "owner": ME, "group": MY_GROUP}])
    assert result["failed"] and "is not a directory" in result["msg"]


def test_relative_paths_are_refused(capsys):
    result = run(capsys, [{"path": "etc/prometheus"}])
    assert result["failed"] and "not an absolute path" in result["msg"]
