"""Roles are wiring plus their own files: short tasks/main.yml, no task block written in two roles."""

import collections
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir() and not p.name.startswith("_"))
MIN_LINES = 6


def _code_lines(text):
    return [line.rstrip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#") and line.strip() != "---"]


def task_blocks(path, role):
    """Each task of a task file (any nesting depth) as normalised text, with the role name as ROLE."""
    lines = _code_lines(path.read_text(encoding="utf-8"))
    blocks = []
    for start, line in enumerate(lines):
        match = re.match(r"^(\s*)- name:", line)
        if not match:
            continue
        indent = len(match.group(1))
        body = [line]
        for nxt in lines[start + 1:]:
            if len(nxt) - len(nxt.lstrip()) <= indent:
                break
            body.append(nxt)
        if len(body) >= MIN_LINES:
            blocks.append("\n".join(re.sub(re.escape(role), "ROLE", b).strip() for b in body))
    return blocks


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_main_is_wiring_only(role):
    main = role / "tasks" / "main.yml"
    assert len(main.read_text(encoding="utf-8").splitlines()) <= 25, "%s/tasks/main.yml is over 25 lines" % role.name


def test_no_task_block_stands_in_two_roles():
    where = collections.defaultdict(set)
    for role in ROLES:
        for path in sorted((role / "tasks").glob("*.yml")):
            # tasks/main.yml is the engine include, the same wiring in every role by design.
            if path.name == "main.yml":
                continue
            for block in task_blocks(path, role.name):
                where[block].add("%s/%s" % (role.name, path.name))
    repeated = {block: sorted(places) for block, places in where.items() if len({p.split("/")[0] for p in places}) > 1}
    assert not repeated, "task blocks of %d+ lines written in two roles (move them to roles/_common):\n%s" % (
        MIN_LINES, "\n\n".join("%s\n%s" % (", ".join(p), b) for b, p in repeated.items()))


def test_the_check_finds_a_copied_block(tmp_path):
    task = "- name: Copy the ROLE file.\n  ansible.builtin.copy:\n    src: a\n    dest: b\n    owner: root\n    mode: '0640'\n"
    (tmp_path / "one.yml").write_text(task.replace("ROLE", "alpha"))
    (tmp_path / "two.yml").write_text(task.replace("ROLE", "beta"))
    assert task_blocks(tmp_path / "one.yml", "alpha") == task_blocks(tmp_path / "two.yml", "beta") != []
