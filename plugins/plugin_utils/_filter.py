# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The builders of module_utils as Ansible filters: one wrapper, one error conversion for every filter file."""

from __future__ import annotations

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, plain


def ansible_filter(name, func=None):
    """``func`` as the filter ``monitoring.stack.<name>`` (also usable as a decorator: ``@ansible_filter(name)``).

    Arguments reach ``func`` as plain dicts and lists; a :class:`SpecError` (bad input) or a TypeError (a wrong
    call, such as an unknown keyword) becomes an AnsibleFilterError whose message starts with the filter name.
    """
    def wrap(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*plain(args), **plain(kwargs))
            except (SpecError, TypeError) as exc:
                raise AnsibleFilterError("monitoring.stack.%s: %s" % (name, exc)) from exc
        return wrapper
    return wrap(func) if func is not None else wrap


def filter_map(functions):
    """``{name: builder}`` -> ``{name: filter}``, the return value of a ``FilterModule.filters()``."""
    return {name: ansible_filter(name, func) for name, func in functions.items()}
