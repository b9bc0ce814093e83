# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a configuration with a checker binary on the controller, in one step (docs: modules/controller_check.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Write content to a private scratch file, run the checker on it, remove the file; never touches the host."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("command", "content", "filename", "timeout"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        command = args.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
            raise AnsibleActionFail("command must be a non-empty list of strings (the checker and its arguments)")
        content = args.get("content")
        if not isinstance(content, str):
            raise AnsibleActionFail("content must be a string")
        filename = os.path.basename(str(args.get("filename") or "check.yml"))
        timeout = int(args.get("timeout") or 60)
        scratch = tempfile.mkdtemp(prefix="monitoring-stack-check.")
        try:
            path = os.path.join(scratch, filename)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
                handle.write(content)
            try:
                proc = subprocess.run(command + [path], capture_output=True, text=True, timeout=timeout, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise AnsibleActionFail("%s could not run: %s" % (command[0], exc)) from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        # The scratch path is random: keep it out of the output, so that it reads the same every run.
        stdout, stderr = (text.replace(path, filename) for text in (proc.stdout, proc.stderr))
        result.update(changed=False, rc=proc.returncode, stdout=stdout, stderr=stderr)
        if proc.returncode != 0:
            result["failed"] = True
            result["msg"] = "%s refused %s: %s" % (os.path.basename(command[0]), filename,
                                                   " ".join((stdout + " " + stderr).split()))
        return result
