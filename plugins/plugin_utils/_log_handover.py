# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Switching the log agent of a host without shipping a line twice (controller side: it reads YAML).

* Promtail -> Alloy: Alloy converts Promtail's ``positions.yaml`` itself (``loki.source.file``
  ``legacy_positions_file``, Alloy ``internal/component/common/loki/positions``); the roles only copy it where
  the ``alloy`` user can read it.
* Alloy -> Promtail: Promtail has no such conversion, so :func:`promtail_positions` builds Promtail's
  ``positions.yaml`` from the positions files of Alloy's components (``<storage.path>/loki.source.file.<label>/
  positions.yml``, a YAML map keyed by ``{path, labels}``; journal cursors under ``journal-<component id>``).
  For a file read under several label sets the furthest offset wins.
"""

from __future__ import annotations

import base64

import yaml

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

_JOURNAL_PREFIX = "journal-loki.source.journal."


class _PairsLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """Safe YAML whose mappings are lists of (key, value) pairs, so complex keys ({path, labels}) load."""


def _pairs(loader, node):
    return [(loader.construct_object(k, deep=True), loader.construct_object(v, deep=True)) for k, v in node.value]


_PairsLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _pairs)


def _alloy_entries(text, where):
    try:
        doc = yaml.load(text or "", Loader=_PairsLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SpecError("%s: not a positions file: %s" % (where, exc)) from exc
    if not doc:
        return []
    top = dict((k, v) for k, v in doc) if isinstance(doc, list) else {}
    entries = []
    for key, value in top.get("positions") or []:
        if isinstance(key, list):
            key = dict(key)
        if not isinstance(key, dict) or "path" not in key:
            raise SpecError("%s: expected entries keyed by {path, labels}, got %r" % (where, key))
        entries.append((str(key["path"]), str(value)))
    return entries


def promtail_positions(alloy_files):
    """Promtail's positions document from Alloy's component positions files.

    ``alloy_files``: a list of ``{path, content}`` (content as text), or the results of ``ansible.builtin.slurp``
    (``{source, content, encoding: base64}``).
    Returns ``{"positions": {path: offset, "journal-<job>": cursor}}``.
    """
    if not isinstance(alloy_files, list):
        raise SpecError("expected a list of {path, content} of Alloy positions files")
    positions = {}
    for item in alloy_files:
        if not isinstance(item, dict) or "content" not in item:
            raise SpecError("expected {path, content} items, got %r" % (item,))
        where = str(item.get("path") or item.get("source") or "positions file")
        text = item["content"]
        if item.get("encoding") == "base64":
            try:
                text = base64.b64decode(text).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise SpecError("%s: content is not base64 UTF-8 text: %s" % (where, exc)) from exc
        for path, value in _alloy_entries(text, where):
            if path.startswith(_JOURNAL_PREFIX):
                # Alloy's loki.source.journal.<label> cursor is Promtail's journal-<job_name> (the job is the source name).
                positions["journal-" + path[len(_JOURNAL_PREFIX):]] = value
                continue
            try:
                offset = int(value)
            except ValueError as exc:
                raise SpecError("%s: offset of %s is not a number: %r" % (where, path, value)) from exc
            positions[path] = str(max(offset, int(positions.get(path, 0))))
    return {"positions": dict(sorted(positions.items()))}
