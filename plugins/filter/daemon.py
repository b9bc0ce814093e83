# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's daemon descriptor filter; documentation is in the sidecar .yml file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._common import CommonError
from ansible_collections.monitoring.stack.plugins.module_utils._daemon import daemon_plan as _daemon_plan


def daemon_plan(*args, **kwargs):
    try:
        return _daemon_plan(*args, **kwargs)
    except CommonError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """monitoring.stack daemon descriptor filter."""

    def filters(self):
        return {"daemon_plan": daemon_plan}
