# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks shared by the spec-driven filters (scrape jobs, Alertmanager policy)."""

from __future__ import annotations

import re

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
DURATION = re.compile(r"^(?=\d)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")


class SpecError(ValueError):
    """Raised for input a user must correct; the message names the item and the field."""

    TEMPLATE = "%s, field %r: %s"

    def __init__(self, item, field, message):
        self.item = item
        self.field = field
        super().__init__(self.TEMPLATE % (item, field, message))


def check_keys(error, item, spec, allowed, field):
    """Raise ``error`` when ``spec`` is not a mapping or has a key outside ``allowed``."""
    if not isinstance(spec, dict):
        raise error(item, field, "expected a mapping, got %s" % type(spec).__name__)
    unknown = sorted(str(key) for key in spec if key not in allowed)
    if unknown:
        raise error(item, unknown[0], "unknown key; allowed: %s" % ", ".join(allowed))
