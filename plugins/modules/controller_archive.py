#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the controller_archive action plugin (plugins/action/controller_archive.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: controller_archive
short_description: Download a release archive to the controller cache, check its sha256 and unpack it
version_added: "0.3.0"
author: monitoring.stack contributors (@monitoring-stack)
description:
  - The controller half of the engine's archive install, in one step on the controller. It creates the
    cache directory, downloads O(url) to O(dest) unless O(dest) already has the pinned sha256, checks
    the sha256 of what was downloaded (a mismatch fails and nothing is unpacked), and for C(tar.gz) and
    C(zip) archives unpacks it into O(unpack_dir) unless O(creates) exists there.
  - Every write goes to a private temporary name in the cache and is renamed into place, so forks and
    parallel runs sharing the cache never read half a file; archive members that would land outside
    O(unpack_dir) are refused.
  - Never reports C(changed) (the controller cache is not the host's state); nothing is written on the host.
options:
  url:
    description: Where to download from (C(https://), C(http://) or C(file://)).
    type: str
    required: true
  dest:
    description: The archive's path in the controller cache.
    type: path
    required: true
  checksum:
    description: The pinned sha256 of the archive, 64 hex digits.
    type: str
    required: true
  format:
    description:
      - C(tar.gz) and C(zip) are unpacked on the controller; C(binary) (the download is the binary) and
        C(tree) (unpacked on the host) are only downloaded.
    type: str
    choices: [tar.gz, zip, binary, tree]
    default: tar.gz
  unpack_dir:
    description: Directory the archive is unpacked into; required for C(tar.gz) and C(zip).
    type: path
  creates:
    description: A path inside O(unpack_dir) whose presence means the archive is unpacked already.
    type: path
  timeout:
    description: Seconds a download may wait for the server.
    type: int
    default: 60
  retries:
    description: Further tries after a failed download (not after a checksum mismatch), 3 s apart.
    type: int
    default: 2
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Works the same in check mode; it only fills the controller cache.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Download and unpack node_exporter on the controller.
  monitoring.stack.controller_archive:
    url: https://github.com/prometheus/node_exporter/releases/download/v1.9.1/node_exporter-1.9.1.linux-amd64.tar.gz
    dest: ~/.cache/monitoring-stack/node_exporter-1.9.1.linux-amd64.tar.gz
    checksum: "{{ node_exporter_checksums.amd64 }}"
    unpack_dir: ~/.cache/monitoring-stack/node_exporter-1.9.1-amd64
    creates: ~/.cache/monitoring-stack/node_exporter-1.9.1-amd64/node_exporter-1.9.1.linux-amd64/node_exporter
"""

RETURN = r"""
path:
  description: The archive in the controller cache.
  returned: always
  type: str
downloaded:
  description: Whether the archive was downloaded by this task (false when the cache had it).
  returned: always
  type: bool
unpacked:
  description: Whether the archive was unpacked by this task.
  returned: always
  type: bool
"""
