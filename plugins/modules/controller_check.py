#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the controller_check action plugin (plugins/action/controller_check.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: controller_check
short_description: Check a configuration with a checker on the controller in one step
version_added: "0.3.0"
author: monitoring.stack contributors (@monitoring-stack)
description:
  - Writes O(content) to a private scratch file on the controller (mode 0600), runs O(command) with the
    file's path as the last argument, removes the file and fails with the checker's output when it exits
    non-zero. Nothing is written on the managed host.
  - One action instead of a scratch directory, a copy, a command and a cleanup task, so that a re-run
    costs one step. Use C(no_log) when the content holds secrets.
options:
  command:
    description: The checker and its arguments, e.g. C([/usr/bin/promtool, check, web-config]).
    type: list
    elements: str
    required: true
  content:
    description: The configuration to check.
    type: str
    required: true
  filename:
    description: Name of the scratch file (some checkers look at the extension).
    type: str
    default: check.yml
  timeout:
    description: Seconds the checker may run.
    type: int
    default: 60
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Check the web config with promtool on the controller.
  monitoring.stack.controller_check:
    command: [/usr/local/bin/promtool, check, web-config]
    content: "{{ web_config | to_nice_yaml }}"
    filename: web.yml
  no_log: true
"""

RETURN = r"""
rc:
  description: The checker's exit code.
  returned: always
  type: int
stdout:
  description: The checker's standard output, with the scratch path replaced by O(filename).
  returned: always
  type: str
stderr:
  description: The checker's standard error, with the scratch path replaced by O(filename).
  returned: always
  type: str
"""
