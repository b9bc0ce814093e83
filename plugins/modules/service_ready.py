#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness gate of the monitoring.stack engine."""

from __future__ import annotations

DOCUMENTATION = r"""
module: service_ready
short_description: Wait until a systemd service is up and listens on its own port, or fail with its journal
version_added: "0.2.0"
author: monitoring.stack contributors (@monitoring-stack)
description:
  - Waits, bounded by O(timeout), until the unit is active, its main process has not been restarted
    for O(settle) seconds and, when O(port) is given, the main process (or one of its children) owns a
    listening TCP socket on that port. A port held by another process does not count.
  - Fails with the unit's state, restart count and the last O(journal_lines) lines of its journal when
    the service does not come up, so that no run ends green with a daemon down.
  - Never changes anything.
options:
  name:
    description: The systemd unit (without C(.service)).
    type: str
    required: true
  port:
    description:
      - The TCP port the daemon listens on; 0 checks the unit state only.
      - The socket counts when the main process or a child holds it or, where C(/proc/<pid>/fd) cannot be
        read (containers without CAP_SYS_PTRACE), when it belongs to the unit's C(User=).
    type: int
    default: 0
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 60
  settle:
    description: Seconds the same main process must stay up once it looks ready.
    type: int
    default: 1
  journal_lines:
    description: Journal lines shown when the service is not ready.
    type: int
    default: 20
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads state only; in check mode a unit that does not exist yet is reported, not failed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - "Linux only: reads C(/proc) and calls C(systemctl) and C(journalctl)."
"""

EXAMPLES = r"""
- name: Wait until prometheus is ready.
  monitoring.stack.service_ready:
    name: prometheus
    port: 9090
    timeout: 120
"""

RETURN = r"""
state:
  description: The unit's ActiveState at the end.
  returned: always
  type: str
main_pid:
  description: The unit's main process.
  returned: always
  type: int
restarts:
  description: The unit's NRestarts at the end.
  returned: always
  type: int
waited:
  description: Seconds waited.
  returned: always
  type: float
"""

import os
import pwd
import time

from ansible.module_utils.basic import AnsibleModule

_LISTEN_STATE = "0A"


def _show(module, name):
    rc, out, _err = module.run_command(
        ["systemctl", "show", name + ".service", "--property=ActiveState,SubState,MainPID,NRestarts,LoadState,Result,User,ExecMainStartTimestampMonotonic"])
    props = {}
    if rc == 0:
        for line in out.splitlines():
            key, _sep, value = line.partition("=")
            props[key] = value
    return props


def _started(props, now):
    """The monotonic time the unit's main process started, or now when systemd does not say."""
    try:
        started = int(props.get("ExecMainStartTimestampMonotonic") or 0) / 1e6
    except ValueError:
        return now
    return started if 0 < started <= now else now


def _children(pid):
    pids, todo = [], [pid]
    while todo:
        cur = todo.pop()
        pids.append(cur)
        try:
            for task in os.listdir("/proc/%d/task" % cur):
                with open("/proc/%d/task/%s/children" % (cur, task)) as handle:
                    todo.extend(int(p) for p in handle.read().split())
        except OSError:
            continue
    return pids


def _socket_inodes(pids):
    inodes = set()
    for pid in pids:
        fd_dir = "/proc/%d/fd" % pid
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                target = os.readlink(os.path.join(fd_dir, name))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def listening_sockets(port, tables=("/proc/net/tcp", "/proc/net/tcp6")):
    """``(inode, uid)`` of the sockets in LISTEN state on ``port`` (any local address)."""
    found = set()
    for table in tables:
        try:
            with open(table) as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN_STATE:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add((fields[9], int(fields[7])))
    return found


def _uid(user):
    try:
        return pwd.getpwnam(user).pw_uid if user else 0
    except KeyError:
        return None


def owns_port(pid, port, user):
    """Whether the process tree of ``pid`` (or, without access to its fds, ``user``) listens on ``port``."""
    if pid <= 0:
        return False
    sockets = listening_sockets(port)
    inodes = _socket_inodes(_children(pid))
    if inodes:
        return any(inode in inodes for inode, _owner in sockets)
    uid = _uid(user)
    return uid is not None and any(owner == uid for _inode, owner in sockets)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            port=dict(type="int", default=0),
            timeout=dict(type="int", default=60),
            settle=dict(type="int", default=1),
            journal_lines=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    name, port = module.params["name"], module.params["port"]
    start = time.monotonic()
    deadline = start + max(module.params["timeout"], 1)
    props = _show(module, name)
    if module.check_mode and props.get("LoadState") in (None, "not-found"):
        module.exit_json(changed=False, state="unknown", main_pid=0, restarts=0, waited=0.0,
                         msg="%s is not installed yet (check mode)" % name)
    ready_since, ready_pid = None, 0
    while True:
        props = _show(module, name)
        pid = int(props.get("MainPID") or 0)
        ok = props.get("ActiveState") == "active" and pid > 0 and (not port or owns_port(pid, port, props.get("User")))
        now = time.monotonic()
        if ok:
            if ready_pid != pid:
                # A process that has run for a while already (an idempotent run) counts from its start, so
                # the settle time is not waited again; both clocks are CLOCK_MONOTONIC of the same kernel.
                ready_since, ready_pid = min(now, _started(props, now)), pid
            if now - ready_since >= module.params["settle"]:
                module.exit_json(changed=False, state=props.get("ActiveState"), main_pid=pid,
                                 restarts=int(props.get("NRestarts") or 0), waited=round(now - start, 1))
        else:
            ready_since, ready_pid = None, 0
        if now >= deadline:
            break
        time.sleep(0.5)
    _rc, journal, _err = module.run_command(
        ["journalctl", "--unit", name + ".service", "--no-pager", "--output", "cat",
         "--lines", str(module.params["journal_lines"])])
    what = "listening on port %d" % port if port else "running"
    module.fail_json(
        msg="%s is not %s after %ds (state %s/%s, main PID %s, %s restart(s)). Last journal lines:\n%s" % (
            name, what, module.params["timeout"], props.get("ActiveState"), props.get("SubState"),
            props.get("MainPID"), props.get("NRestarts"), journal.strip() or "(no journal lines)"),
        state=props.get("ActiveState", ""), main_pid=int(props.get("MainPID") or 0),
        restarts=int(props.get("NRestarts") or 0), waited=round(time.monotonic() - start, 1),
        journal=journal.splitlines())


if __name__ == "__main__":
    main()
