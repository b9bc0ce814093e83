# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the module calls each host receives, per play, for the benchmarks (benchmarks/converge.sh).

A module call is a task (or one item of a looped task) that ran on the managed host: ok, changed or failed.
Tasks that run on the controller only (set_fact, assert, includes, meta, debug, ...) and tasks delegated to
localhost are not round trips to the host and are not counted; skipped tasks run nothing. Calls are counted
per play, because site.yml has one play per daemon role and a role's engine steps run as tasks of the role
monitoring.stack._common. At the end of the run the counts are written as JSON ({host: {play: calls}}) to
the file named by ROUNDTRIPS_FILE.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: roundtrips
type: aggregate
short_description: count module calls per host and play (benchmarks only)
description:
  - Writes {host -> {play -> module calls}} as JSON to the file named by the environment variable ROUNDTRIPS_FILE.
requirements:
  - enabled by the benchmark (ANSIBLE_CALLBACKS_ENABLED=roundtrips)
"""

import json
import os
from collections import defaultdict

from ansible.plugins.callback import CallbackBase

CONTROLLER_ONLY = {
    "set_fact", "assert", "debug", "fail", "meta", "include_role", "include_tasks", "import_role", "import_tasks",
    "include_vars", "add_host", "group_by", "validate_argument_spec", "set_stats", "pause",
    # This collection's action plugins that work on the controller alone (docs/performance.md).
    "controller_archive", "controller_check",
}


def _short(action):
    return action.rsplit(".", 1)[-1]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "roundtrips"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.calls = defaultdict(lambda: defaultdict(int))
        self.play = ""

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()

    def _count(self, result):
        task = result._task
        if _short(task.action) in CONTROLLER_ONLY:
            return
        if task.delegate_to and task.delegate_to in ("localhost", "127.0.0.1"):
            return
        self.calls[result._host.get_name()][self.play] += 1

    def _task_result(self, result):
        # A looped task is counted item by item (v2_runner_item_on_*), not once more as a whole.
        if "results" not in result._result:
            self._count(result)

    def v2_runner_on_ok(self, result):
        self._task_result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task_result(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("ROUNDTRIPS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.calls, handle, indent=1, sort_keys=True)
