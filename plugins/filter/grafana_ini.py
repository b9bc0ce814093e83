# -*- coding: utf-8 -*-
# Copyright (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
name: grafana_ini
short_description: Render a settings dictionary as a Grafana C(grafana.ini) file
version_added: 0.1.0
author: monitoring.stack contributors
description:
  - Top-level keys whose value is a mapping become C([section]) blocks, in the order given;
    nested sections such as C(auth.anonymous) are top-level keys with a dot in the name.
  - Top-level scalar keys (for example C(instance_name)) are written before the first section.
  - Booleans become C(true)/C(false), V(null) becomes an empty value, lists are joined with commas.
  - Values containing C(#), C(;), a line break or outer spaces are wrapped in triple quotes, as Grafana
    requires for passwords such as C(p#ss;word). Values holding triple quotes are refused.
  - Grafana expands C($__env{NAME}) and C($__file{/path}) in values, so a secret can stay out of the file.
options:
  _input:
    description: The merged settings, for example C(grafana_ini_default | combine(grafana_ini, recursive=true)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write grafana.ini from the merged settings.
  ansible.builtin.copy:
    dest: /etc/grafana/grafana.ini
    content: "{{ settings | monitoring.stack.grafana_ini }}"
    owner: root
    group: grafana
    mode: "0640"
  vars:
    settings:
      server: {protocol: http, http_port: 3000}
      users: {allow_sign_up: false, auto_assign_org_role: Viewer}
      auth.anonymous: {enabled: false}
"""

RETURN = r"""
_value:
  description: The INI text, ending with a newline.
  type: str
"""

import re

from ansible.errors import AnsibleFilterError

_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _value(section, key, value):
    where = "[%s] %s" % (section, key) if section else key
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_value(section, key, item) for item in value)
    if isinstance(value, dict):
        raise AnsibleFilterError("monitoring.stack.grafana_ini: %s: sections cannot be nested; write the section as "
                                 "a top-level key with a dot, e.g. 'auth.generic_oauth'" % where)
    text = str(value)
    if '"""' in text:
        raise AnsibleFilterError("monitoring.stack.grafana_ini: %s: values cannot contain triple quotes" % where)
    if any(char in text for char in "#;\n\r") or text != text.strip() or text.startswith(('"', "'", "`")):
        return '"""%s"""' % text
    return text


def _check_key(section, key):
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise AnsibleFilterError("monitoring.stack.grafana_ini: %s: key %r must match %s"
                                 % ("[%s]" % section if section else "top level", key, _KEY_RE.pattern))


def grafana_ini(settings):
    """Render a settings mapping as grafana.ini text."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("monitoring.stack.grafana_ini: expects a mapping, got %s" % type(settings).__name__)
    lines = []
    sections = []
    for key, value in settings.items():
        _check_key(None, key)
        if isinstance(value, dict):
            sections.append((key, value))
        else:
            lines.append("%s = %s" % (key, _value(None, key, value)))
    for name, body in sections:
        if lines:
            lines.append("")
        lines.append("[%s]" % name)
        for key, value in body.items():
            _check_key(name, key)
            lines.append("%s = %s" % (key, _value(name, key, value)))
    return "\n".join(lines) + "\n"


class FilterModule:
    """grafana.ini rendering."""

    def filters(self):
        return {"grafana_ini": grafana_ini}
