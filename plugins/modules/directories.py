#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""All the directories of a daemon in one module call (the engine's install step)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: directories
short_description: Create a list of directories with their owner, group and mode in one call
version_added: "0.3.0"
author: monitoring.stack contributors (@monitoring-stack)
description:
  - Makes sure each directory of O(directories) exists with the given owner, group and mode, in one
    module call instead of one call per directory (a loop over M(ansible.builtin.file)).
  - Missing parent directories are created with mode C(0755), owned by root, as M(ansible.builtin.file) does.
  - A path that exists and is not a directory fails the task; nothing after it in the list is touched.
options:
  directories:
    description: The directories, in the order they are made.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      owner:
        description: Owner of the directory.
        type: str
        default: root
      group:
        description: Group of the directory.
        type: str
        default: root
      mode:
        description: Mode of the directory, as an octal string such as C("0750").
        type: raw
        default: "0755"
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Create the directories of prometheus.
  monitoring.stack.directories:
    directories:
      - {path: /etc/prometheus, group: prometheus, mode: "0750"}
      - {path: /var/lib/prometheus, owner: prometheus, group: prometheus, mode: "0750"}
"""

RETURN = r"""
changed_paths:
  description: The directories that were created or whose owner, group or mode changed.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule


def _file_args(item):
    return {"path": item["path"], "owner": item["owner"], "group": item["group"], "mode": item["mode"],
            "seuser": None, "serole": None, "selevel": None, "setype": None, "attributes": None,
            "secontext": [None, None, None]}


def ensure(module, item):
    """Create one directory when missing and set its attributes; True when something changed (or would)."""
    path = item["path"]
    diff = {"before": {"path": path}, "after": {"path": path}}
    changed = False
    if not os.path.lexists(path):
        diff["before"]["state"], diff["after"]["state"] = "absent", "directory"
        if module.check_mode:
            module.debug("would create %s" % path)
            return True, diff
        missing, parent = [], os.path.dirname(path.rstrip("/"))
        while parent and not os.path.isdir(parent):
            missing.insert(0, parent)
            parent = os.path.dirname(parent)
        for directory in missing:  # 0755 root:root whatever the umask, as the file module makes them
            os.mkdir(directory)
            os.chmod(directory, 0o755)
        os.mkdir(path, 0o700)
        changed = True
    elif not os.path.isdir(path):
        module.fail_json(msg="%s exists and is not a directory" % path, path=path)
    changed = module.set_fs_attributes_if_different(_file_args(item), changed, diff=diff)
    return changed, diff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path", required=True),
                owner=dict(type="str", default="root"),
                group=dict(type="str", default="root"),
                mode=dict(type="raw", default="0755"),
            )),
        ),
        supports_check_mode=True,
    )
    changed_paths, diffs = [], []
    for item in module.params["directories"]:
        if not os.path.isabs(item["path"]):
            module.fail_json(msg="%s is not an absolute path" % item["path"])
        changed, diff = ensure(module, item)
        if changed:
            changed_paths.append(item["path"])
            diffs.append(diff)
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths, diff=diffs)


if __name__ == "__main__":
    main()
