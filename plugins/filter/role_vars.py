# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unknown-variable check of a role; documentation is in the sidecar unknown_role_vars.yml."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._role_vars import (
    RoleVarsError,
    unknown_role_vars as _unknown_role_vars,
)

# The collection root, relative to this file: plugins/filter/role_vars.py.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def unknown_role_vars(names, role, entry_point="main", ignore=None):
    """Variable names -> one message per name with the role's prefix that is not an option of the role."""
    try:
        return _unknown_role_vars(names, role, root=_ROOT, entry_point=entry_point, ignore=ignore)
    except RoleVarsError as exc:
        raise AnsibleFilterError("unknown_role_vars: %s" % exc) from exc


class FilterModule:
    """Role variable filters."""

    def filters(self):
        return {"unknown_role_vars": unknown_role_vars}
