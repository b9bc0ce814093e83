"""controller_check: the checker's verdict on a scratch file, which is gone afterwards."""

import glob
import importlib
import os
import tempfile
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail

MOD = importlib.import_module("ansible_collections.monitoring.stack.plugins.action.controller_check")


def _run(args):
    action = MOD.ActionModule.__new__(MOD.ActionModule)
    action._task = mock.Mock(args=args)  # pylint: disable=protected-access
    with mock.patch("ansible.plugins.action.ActionBase.run", return_value={}):
        return action.run(task_vars={})


def _scratch():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "monitoring-stack-check.*")))


def test_a_passing_check(tmp_path):
    before = _scratch()
    checker = tmp_path / "checker"
    checker.write_text("#!/bin/sh\ngrep -q good \"$1\" && echo \"$1 SUCCESS\"\n")
    checker.chmod(0o755)
    result = _run({"command": [str(checker)], "content": "good\n", "filename": "web.yml"})
    assert result["rc"] == 0 and not result.get("failed") and result["changed"] is False
    assert result["stdout"].strip() == "web.yml SUCCESS", "the scratch path is replaced by the file name"
    assert _scratch() == before


def test_a_refused_config_fails_with_the_checkers_message(tmp_path):
    before = _scratch()
    checker = tmp_path / "checker"
    checker.write_text("#!/bin/sh\necho \"$2 FAILED: bad key\" >&2\nexit 1\n")
    checker.chmod(0o755)
    result = _run({"command": [str(checker), "check"], "content": "bad\n", "filename": "web.yml"})
    assert result["failed"] and result["rc"] == 1
    assert result["msg"] == "checker refused web.yml: web.yml FAILED: bad key"
    assert "bad\n" not in repr(result), "the content is never in the result"
    assert _scratch() == before


@pytest.mark.parametrize("args", [{"command": [], "content": "x"}, {"command": ["/bin/true"], "content": 1},
                                  {"command": "promtool check", "content": "x"}])
def test_bad_arguments(args):
    with pytest.raises(AnsibleActionFail):
        _run(args)


def test_a_missing_checker_is_reported():
    with pytest.raises(AnsibleActionFail, match="could not run"):
        _run({"command": ["/nonexistent/promtool", "check", "web-config"], "content": "x"})
