# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL settings the postgres_exporter role changes on request (shared_preload_libraries)."""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

_LIBRARY = re.compile(r"^[A-Za-z0-9_$./-]+$")


def _split(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, str):
        items = value.split(",")
    else:
        raise SpecError("shared_preload_libraries", "value", "expected a comma-separated string or a list, got %r" % (value,))
    result = []
    for item in items:
        name = str(item).strip().strip('"').strip()
        if not name:
            continue
        if not _LIBRARY.match(name):
            raise SpecError("shared_preload_libraries", "value", "%r is not a library name" % (name,))
        if name not in result:
            result.append(name)
    return result


def pg_preload_libraries(current, add=None):
    """``shared_preload_libraries`` with ``add`` appended when missing, the others kept in their order.

    ``current`` is the server's setting (``"timescaledb, pg_cron"``, empty, or a list); returns a list
    (``postgresql_set`` takes it joined with ``,``). Duplicates and empty entries are dropped.
    """
    libraries = _split(current)
    for name in _split(add or []):
        if name not in libraries:
            libraries.append(name)
    return libraries
