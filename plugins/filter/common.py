# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring.stack engine; documentation is in the sidecar .yml files."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._common import (
    CommonError,
    flag_args as _flag_args,
    go_arch as _go_arch,
    systemd_directives as _systemd_directives,
    web_config as _web_config,
    web_config_for_check as _web_config_for_check,
)


def _wrap(func):
    def filter_(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CommonError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    filter_.__name__ = func.__name__
    filter_.__doc__ = func.__doc__
    return filter_


class FilterModule:
    """monitoring.stack engine filters."""

    def filters(self):
        return {
            "flag_args": _wrap(_flag_args),
            "systemd_directives": _wrap(_systemd_directives),
            "web_config": _wrap(_web_config),
            "go_arch": _wrap(_go_arch),
            "web_config_for_check": _wrap(_web_config_for_check),
        }
