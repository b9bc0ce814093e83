# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The examples of markdown files and inventories, for docs_examples.py: YAML with line numbers, fenced blocks
with their docs-test directives, and the variables a mapping, play or task list sets."""

from __future__ import annotations

import re

import yaml

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
PLAY_TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
ROLE_KEYWORDS = ("role", "name", "vars", "tags", "when", "become", "become_user", "delegate_to", "environment",
                 "apply", "public", "allow_duplicates", "tasks_from", "defaults_from", "vars_from", "handlers_from")


# --------------------------------------------------------------------------- YAML with line numbers


class Unsafe(str):
    """An ``!unsafe`` string: Ansible does not template it."""


class LineMap(dict):
    """A YAML mapping that knows the (0-based) line of each key."""
    key_lines = {}


class LineList(list):
    """A YAML sequence that knows the (0-based) line of each item."""
    item_lines = []


BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there, else the pure-Python one


class _Loader(BASE_LOADER):  # pylint: disable=too-many-ancestors
    """The safe loader with line numbers and Ansible's !unsafe and !vault tags."""


def _mapping(loader, node):
    loader.flatten_mapping(node)
    result = LineMap()
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = key if isinstance(key, (str, int, float, bool, type(None))) else str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line
    return result


def _sequence(loader, node):
    result = LineList(loader.construct_object(item, deep=True) for item in node.value)
    result.item_lines = [item.start_mark.line for item in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))
_Loader.add_constructor("!vault", lambda loader, node: "vaulted")


def load_yaml(text):
    """YAML text -> LineMap / LineList / scalars (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader subclass


def line_of(container, key, default):
    """The 0-based line of ``container[key]`` when the YAML loader recorded it, else ``default``."""
    if isinstance(container, LineMap):
        return container.key_lines.get(key, default)
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return default


# --------------------------------------------------------------------------- examples


class Example:
    """One example: a markdown block or an inventory file. ``line`` is the file line of the YAML's first line."""

    def __init__(self, path, line, data, inventory=None, marker=None):
        self.path, self.line, self.data, self.inventory, self.marker = path, line, data, inventory, marker
        self.assignments = []   # (name, value, 0-based line in the YAML)
        self.names = set()      # names the example defines (variables, register, loop_var)

    def where(self, line0):
        """``path:line`` of a 0-based line of the example's YAML."""
        return "%s:%d" % (self.path, self.line + line0)


def _directives(lines, fence_index):
    """The docs-test directives of the HTML comment lines directly above a fence."""
    found = []
    index = fence_index - 1
    while index >= 0 and _COMMENT.match(lines[index]):
        match = _DIRECTIVE.match(lines[index])
        if match:
            found.append((index + 1, match.group(1)))
        index -= 1
    return found


def markdown_blocks(text):
    """(first content line, info string, block text, directives) of every fenced block of a markdown file."""
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, fence, info = match.groups()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[index + 1:end]]
        yield index + 2, info.lower(), "\n".join(body) + "\n", _directives(lines, index)
        index = end + 1


def _add(example, container, key, line0):
    if isinstance(key, str):
        example.assignments.append((key, container[key], line0))
        example.names.add(key)


def add_vars(example, mapping, line0):
    """Every key of ``mapping`` as a variable the example sets."""
    if isinstance(mapping, dict):
        for key in mapping:
            _add(example, mapping, key, line_of(mapping, key, line0))


def _walk_tasks(example, tasks, line0):
    """Variables of a task list: task vars, blocks, set_fact; register and loop_var names."""
    for index, task in enumerate(tasks if isinstance(tasks, list) else []):
        if not isinstance(task, dict):
            continue
        line = line_of(tasks, index, line0)
        add_vars(example, task.get("vars"), line)
        for keyword in ("block", "rescue", "always"):
            _walk_tasks(example, task.get(keyword), line)
        for module in ("set_fact", "ansible.builtin.set_fact"):
            if isinstance(task.get(module), dict):
                add_vars(example, task[module], line_of(task, module, line))
        if isinstance(task.get("register"), str):
            example.names.add(task["register"])
        loop_var = (task.get("loop_control") or {}).get("loop_var") if isinstance(task.get("loop_control"), dict) else None
        if isinstance(loop_var, str):
            example.names.add(loop_var)


def _walk_play(example, play, line0):
    """Variables of a play: play vars, role vars and role parameters, its task lists."""
    add_vars(example, play.get("vars"), line_of(play, "vars", line0))
    roles = play.get("roles") if isinstance(play.get("roles"), list) else []
    for index, role in enumerate(roles):
        if isinstance(role, dict):
            add_vars(example, role.get("vars"), line_of(roles, index, line0))
            for key in role:
                if key not in ROLE_KEYWORDS:
                    _add(example, role, key, line_of(role, key, line0))
    for keyword in PLAY_TASK_LISTS:
        if keyword != "roles":
            _walk_tasks(example, play.get(keyword), line_of(play, keyword, line0))


def collect(example):
    """Fill ``example.assignments`` from its data (a variable mapping, a play list or a task list)."""
    data = example.data
    if example.marker:
        example.assignments.append((example.marker, data, 0))
        example.names.add(example.marker)
    elif is_inventory(data):
        for mapping in inventory_vars(data):
            add_vars(example, mapping, mapping.line0)
    elif isinstance(data, dict) and "hosts" not in data:
        add_vars(example, data, 0)
    elif isinstance(data, dict):
        _walk_play(example, data, 0)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, dict) and "hosts" in item:
                _walk_play(example, item, line_of(data, index, 0))
            else:
                _walk_tasks(example, [item], line_of(data, index, 0))
    return example


def is_inventory(data):
    """True for a YAML inventory: a mapping of groups, each a mapping of hosts, children and vars."""
    return bool(data) and isinstance(data, dict) and all(
        isinstance(group, dict) and group and set(group) <= {"hosts", "children", "vars"} for group in data.values())


def inventory_vars(hosts):
    """Every ``vars:`` mapping of a YAML inventory (each with ``line0``, the line of its ``vars:`` key)."""
    stack = [hosts]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "vars" and isinstance(value, dict):
                value.line0 = line_of(node, key, 0)
                yield value
            elif isinstance(value, dict):
                stack.append(value)
