#!/usr/bin/env python
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation that runs: check every YAML example that sets role variables.

Where examples come from:

- fenced ```yaml / ```yml blocks of docs/*.md, roles/*/README.md and inventories/*/README.md (they must parse),
  and plain ``` blocks that parse as YAML and set a role variable;
- every file under inventories/*/group_vars and inventories/*/host_vars (vault-encrypted files are skipped)
  and the ``vars:`` of inventories/*/hosts.yml.

A mapping is a set of variables. A play or a task list is searched for ``vars:`` (of plays, roles and tasks),
role parameters and ``set_fact``. HTML comments on the lines directly above a fence steer a block:
``<!-- docs-test: skip (reason) -->`` leaves it out (the reason is required), and
``<!-- docs-test: var NAME -->`` says the block is the value of the variable NAME (a spec list, for example).

What is checked, each finding naming file:line:

1. names: a variable with a role prefix (``<role>_``, the longest role name wins) must be an option of the role's
   meta/argument_specs.yml (entry point main), else the finding names the closest option
   (monitoring.stack.unknown_role_vars); ``monitoring_stack_*`` must be a collection-wide variable
   (roles/_common defaults and specs, plugin code). Other names are skipped in docs; in inventories they must be
   ``ansible_*``, ``vault_*`` or listed in INVENTORY_VARS.
2. keys: inside a dict option (or the dicts of a list option) whose spec declares ``options``, every key must be
   one of them (closest one suggested, recursively); then Ansible's ArgumentSpecValidator checks types,
   choices and required keys as role argument validation would.
3. Jinja: a string with ``{{``/``{%`` (not ``!unsafe``) must be valid Jinja and may only name variables that
   exist (set in the same example or inventory, role options, ``vault_*``, ``ansible_*``, magic variables,
   EXTRA_NAMES): Prometheus or Grafana template text such as ``{{ $value }}`` needs ``!unsafe``.
4. rendering: rule, alert, SLO, Alertmanager, dashboard, datasource, scrape, log source, grafana.ini and site TLS
   specs go through the collection's own builders (plugins/module_utils), over the role defaults; they must not
   raise. In inventories an example is a file merged over the inventory's group_vars/all.
5. text: a name in `backticks` outside fenced blocks of the markdown files with a role prefix is an option of
   that role (or a ``<role>_install|configure|run`` tag), one with ``monitoring_stack_`` a collection-wide variable.
6. rule names: alert-like names (ALERT_LIKE) in the markdown files, role defaults, argument specs and inventories
   are rules of roles/prometheus/files/rule_packs.

Placeholders (before steps 2 and 4): a string holding Jinja is replaced by a value of the type the argument
spec gives at that place: int 1, float 1.0, bool true, list [], dict {}, the first of ``choices``, else a string
(``https://placeholder.example.org`` when the key ends in ``url``, else ``placeholder``). ``!unsafe`` strings are
kept as they are: Ansible passes them through untemplated. ``!vault`` values are the string ``vaulted``.

Run it directly for a report: ``python tests/harness/docs_examples.py``. docs_extract.py beside it finds the
examples, docs_render.py holds the placeholders and the builders; tests/static/test_docs_examples.py runs it.
"""

from __future__ import annotations

import difflib
import fnmatch
import glob
import os
import re
import sys

import jinja2
import jinja2.meta
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # docs_extract beside this file

# pylint: disable=wrong-import-position
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible.module_utils.errors import UnsupportedError  # noqa: E402

from docs_extract import (  # noqa: E402
    BASE_LOADER, FENCE, Example, Unsafe, add_vars, collect, inventory_vars, line_of, load_yaml, markdown_blocks,
)
from docs_render import RENDERERS, is_template, placeholders  # noqa: E402
from ansible_collections.monitoring.stack.plugins.module_utils import _role_vars  # noqa: E402

DOC_GLOBS = ("docs/*.md", "roles/*/README.md", "inventories/*/README.md")
VARS_DIRS = ("group_vars", "host_vars")  # of each inventories/<name>/
COLLECTION_PREFIX = "monitoring_stack_"

# Variables without a role prefix that the inventories set, and who reads them. Anything else without a
# prefix in an inventory (besides ansible_* and vault_*) is reported: a misspelt prefix is never ignored.
INVENTORY_VARS = {
    "monitoring_scrape_username": "scrape user of the exporters' *_basic_auth_users and the scrape job overrides; "
                                  "playbooks/runbooks/rotate_credentials.yml rotates it",
    "monitoring_scrape_password": "its password (same readers)",
    "monitoring_scrape_users": "{user: password} of the scrape user, the value of the exporters' *_basic_auth_users",
    "monitoring_pki_dir": "controller directory of the site CA and host certificates, read by monitoring_stack_tls",
    "runbook_*_username": "API users of playbooks/runbooks/*.yml (alertmanager, prometheus, pushgateway)",
    "runbook_*_password": "their passwords (same readers)",
    "log_sources": "the shared log source catalogue: default of promtail_sources, alloy_sources, log_shipper_sources",
    "log_environment": "the shared environment label: default of promtail_environment and alloy_environment",
    "monitoring_blackbox_probes": "blackbox probes as the prometheus blackbox job reads them (its targets_var)",
}
# Names Jinja in an example may use besides the ones above: magic variables, lookups, and variables given on
# the command line.
EXTRA_NAMES = {
    "inventory_hostname", "inventory_hostname_short", "inventory_dir", "inventory_file", "groups", "group_names",
    "hostvars", "play_hosts", "playbook_dir", "role_path", "role_name", "omit", "item", "vars", "lookup", "query",
    "q", "now", "undef", "range", "dict", "lipsum", "cycler", "joiner", "namespace", "true", "false", "none",
    # -e by tests/harness/demo.sh and benchmarks/converge.sh; read by inventories/lab/group_vars/all.yml.
    "monitoring_stack_project_dir",
}
# Alert-like names: CamelCase words with the prefix of a shipped pack's alerts. Outside the docs they are checked
# in the places that name rules (defaults, specs, inventories), since an override of a missing rule fails the run.
ALERT_LIKE = re.compile(r"\b(?:Host|Node|Prometheus|Alertmanager|Postgresql|Nginx|Blackbox|Backup|Container|Cadvisor|"
                        r"Pushgateway|Target)[A-Z][A-Za-z0-9]*\b")
NOT_ALERTS = re.compile(r"^Prometheus(Proto|Text\d)")  # scrape protocol names (prometheus_global.scrape_protocols)
ALERT_NAME_GLOBS = ("roles/*/defaults/main.yml", "roles/*/meta/argument_specs.yml", "inventories/**/*.yml")
TAGS = ("install", "configure", "run")  # <role>_<phase> tags, named in the text beside variables
_PROSE_NAME = re.compile(r"`([a-z][a-z0-9_]*)`")


class _AnyName(dict):
    """Filters and tests of Ansible and collections are not Jinja's: every name is one (only names are checked)."""

    def get(self, key, default=None):
        return super().get(key, default) or (lambda *args, **kwargs: None)


_JINJA = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
_JINJA.filters, _JINJA.tests = _AnyName(_JINJA.filters), _AnyName(_JINJA.tests)


# --------------------------------------------------------------------------- the checker


class Checker:
    """Checks examples against the roles of the collection at ``root``."""

    def __init__(self, root=ROOT):
        self.root = root
        self.roles = sorted(_role_vars.role_names(root), key=len, reverse=True)
        self.options = {role: _role_vars.role_options(role, root) for role in self.roles}
        self.defaults = {role: self._yaml(os.path.join(root, "roles", role, "defaults", "main.yml")) for role in self.roles}
        self.collection_vars = self._collection_vars()
        private = set()
        for path in glob.glob(os.path.join(root, "roles", "*", "vars", "main.yml")):
            private.update(self._yaml(path))
        self.known_names = set(self.collection_vars) | {n for opts in self.options.values() for n in opts} | private | EXTRA_NAMES
        self._packs = None
        self.findings = []
        self.stats = {"examples": 0, "variables": 0, "renders": 0}

    @staticmethod
    def _yaml(path):
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=BASE_LOADER) or {}  # noqa: S506 - a safe loader

    def _collection_vars(self):
        names = set(self._yaml(os.path.join(self.root, "roles", "_common", "defaults", "main.yml")))
        specs = self._yaml(os.path.join(self.root, "roles", "_common", "meta", "argument_specs.yml"))
        for entry in (specs.get("argument_specs") or {}).values():
            names.update((entry or {}).get("options") or {})
        for path in glob.glob(os.path.join(self.root, "plugins", "**", "*.py"), recursive=True):
            with open(path, encoding="utf-8") as handle:
                names.update(re.findall(r"\b(monitoring_stack_[a-z0-9_]*[a-z0-9])\b", handle.read()))
        return sorted(n for n in names if n.startswith(COLLECTION_PREFIX))

    def relpath(self, path):
        rel = os.path.relpath(path, self.root)
        return path if rel.startswith("..") else rel

    def report(self, example, line0, message):
        self.findings.append("%s: %s" % (example.where(line0), message))

    # ---- sources

    def check_markdown(self, path):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        rel = self.relpath(path)
        for line, info, body, directives in markdown_blocks(text):
            if info not in ("yaml", "yml", ""):
                continue
            marker, skip = None, False
            for directive_line, directive in directives:
                if re.match(r"^skip\s*\(\s*\S.*\)$", directive):
                    skip = True
                elif re.match(r"^var\s+[A-Za-z_][A-Za-z0-9_]*$", directive):
                    marker = directive.split()[1]
                else:
                    self.findings.append("%s:%d: unknown docs-test directive %r (use `skip (reason)` or `var NAME`)"
                                         % (rel, directive_line, directive))
            if skip:
                continue
            try:
                data = load_yaml(body)
            except yaml.YAMLError as exc:
                if info:
                    mark = getattr(exc, "problem_mark", None)
                    self.findings.append("%s:%d: the %s block does not parse: %s" % (
                        rel, line + (mark.line if mark else 0), info, getattr(exc, "problem", None) or exc))
                continue
            example = collect(Example(rel, line, data, marker=marker))
            if info or marker or any(self.role_of(a[0]) or a[0].startswith(COLLECTION_PREFIX) for a in example.assignments):
                self.check(example)

    def check_inventory(self, inventory_dir):
        """Every vars file of one inventory, and the vars of its hosts.yml."""
        examples = []
        files = sorted(p for folder in VARS_DIRS for p in glob.glob(os.path.join(inventory_dir, folder, "**", "*"), recursive=True)
                       if os.path.isfile(p))
        hosts = os.path.join(inventory_dir, "hosts.yml")
        for path in files + ([hosts] if os.path.isfile(hosts) else []):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            if text.startswith("$ANSIBLE_VAULT"):
                continue
            rel = self.relpath(path)
            try:
                data = load_yaml(text)
            except yaml.YAMLError as exc:
                self.findings.append("%s: does not parse: %s" % (rel, exc))
                continue
            example = Example(rel, 1, data, inventory=inventory_dir)
            for mapping in ([data] if path != hosts else list(inventory_vars(data))):
                add_vars(example, mapping, getattr(mapping, "line0", 0))
            examples.append(example)
        names = set().union(*(e.names for e in examples)) if examples else set()
        base = {}
        for example in examples:
            if re.search(r"group_vars/all(\.ya?ml|/)", example.path):
                base.update({name: value for name, value, _line0 in example.assignments})
        for example in examples:
            example.names |= names
            self.check(example, base)

    def check_prose(self, path):
        """Variable names in `backticks` in the text (outside fenced blocks) are variables (or tags) that exist."""
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        fence = None
        for number, line in enumerate(lines, 1):
            match = FENCE.match(line)
            if match and (fence is None or line.strip().startswith(fence)):
                fence = None if fence else match.group(2)
                continue
            if fence:
                continue
            for name in _PROSE_NAME.findall(line):
                message = self.unknown_prose_name(name)
                if message:
                    self.findings.append("%s:%d: in the text, %s" % (self.relpath(path), number, message))

    def unknown_prose_name(self, name):
        role = self.role_of(name)
        if role:
            if name in self.options[role] or name in ["%s_%s" % (role, tag) for tag in TAGS]:
                return None
            return (_role_vars.unknown_role_vars([name], role, root=self.root) or [None])[0]
        if name.startswith(COLLECTION_PREFIX) and name not in self.collection_vars and name not in EXTRA_NAMES:
            return "`%s`, which is not a collection-wide variable of monitoring.stack" % name
        return None

    def check_alert_names(self, path):
        """Alert-like names (ALERT_LIKE) in docs, READMEs, defaults and specs are rules of the shipped packs."""
        known = {spec.get("name") or spec.get("record") for pack in self.rule_packs()
                 for spec in (pack.get("alerts") or []) + (pack.get("recording_rules") or [])}
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                for name in ALERT_LIKE.findall(line):
                    if name not in known and not NOT_ALERTS.match(name):
                        close = difflib.get_close_matches(name, sorted(known), n=1)
                        self.findings.append("%s:%d: `%s` is not a rule of the packs in roles/prometheus/files/rule_packs%s"
                                             % (self.relpath(path), number, name,
                                                "; did you mean `%s`?" % close[0] if close else ""))

    def check_repo(self):
        for pattern in DOC_GLOBS:
            for path in sorted(glob.glob(os.path.join(self.root, pattern))):
                self.check_markdown(path)
                self.check_prose(path)
                self.check_alert_names(path)
        for pattern in ALERT_NAME_GLOBS:
            for path in sorted(glob.glob(os.path.join(self.root, pattern), recursive=True)):
                self.check_alert_names(path)
        for inventory in sorted(glob.glob(os.path.join(self.root, "inventories", "*", ""))):
            self.check_inventory(inventory.rstrip("/"))
        return self.findings

    # ---- checks

    def role_of(self, name):
        return next((role for role in self.roles if name.startswith(role + "_")), None)

    def spec_of(self, name):
        role = self.role_of(name)
        return (self.options.get(role) or {}).get(name) if role else None

    def check(self, example, base=None):
        if not example.assignments:
            return
        self.stats["examples"] += 1
        known = {}
        for name, value, line0 in example.assignments:
            self.stats["variables"] += 1
            self.check_jinja(example, value, line0, example.names)
            if self.check_name(example, name, line0):
                spec = self.spec_of(name)
                if spec is not None:
                    self.check_keys(example, name, value, spec, line0)
                    self.check_types(example, name, value, spec, line0)
                known[name] = (value, line0)
        self.render(example, known, base or {})

    def check_name(self, example, name, line0):
        """Report a name the example may not set; True when the name is fine (or not checked) and its value is checked on."""
        role = self.role_of(name)
        if role:
            messages = _role_vars.unknown_role_vars([name], role, root=self.root)
            for message in messages:
                self.report(example, line0, message)
            return not messages
        if name.startswith(COLLECTION_PREFIX):
            if name in self.collection_vars:
                return True
            close = difflib.get_close_matches(name, self.collection_vars, n=1)
            self.report(example, line0, "`%s` is not a collection-wide variable of monitoring.stack%s" % (
                name, "; did you mean `%s`?" % close[0] if close else " (known: %s)" % ", ".join(self.collection_vars)))
            return False
        if example.inventory and not (name.startswith(("ansible_", "vault_"))
                                      or any(fnmatch.fnmatchcase(name, p) for p in INVENTORY_VARS)):
            self.report(example, line0, "`%s` has no role prefix and is not an inventory variable listed in "
                        "tests/harness/docs_examples.py INVENTORY_VARS (a misspelt prefix?)" % name)
            return False
        return True

    def check_keys(self, example, path, value, spec, line0):
        """Unknown keys of dict values (and of the dicts of list values) whose spec declares ``options``."""
        options = spec.get("options")
        if not options:
            return
        if spec.get("type") == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                self.check_keys(example, "%s[%d]" % (path, index), item, dict(spec, type="dict"), line_of(value, index, line0))
            return
        if spec.get("type") != "dict" or not isinstance(value, dict):
            return
        allowed = dict(options)
        for option in options.values():
            for alias in option.get("aliases") or []:
                allowed[alias] = option
        for key, item in value.items():
            line = line_of(value, key, line0)
            if key in allowed:
                self.check_keys(example, "%s.%s" % (path, key), item, allowed[key], line)
                continue
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = "did you mean `%s`?" % close[0] if close else "keys: %s" % ", ".join(sorted(allowed))
            self.report(example, line, "`%s.%s` is not a key of `%s`; %s" % (path, key, path, hint))

    def check_types(self, example, name, value, spec, line0):
        """Types, choices and required keys, as Ansible's role argument validation checks them."""
        result = ArgumentSpecValidator({name: spec}).validate({name: placeholders(value, spec, name)})
        for error in result.errors.errors:
            if not isinstance(error, UnsupportedError):   # unknown keys: check_keys names them with a line
                self.report(example, line0, "`%s`: %s" % (name, error.msg))

    def check_jinja(self, example, value, line0, names):
        if isinstance(value, dict):
            for key, item in value.items():
                self.check_jinja(example, item, line_of(value, key, line0), names)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.check_jinja(example, item, line_of(value, index, line0), names)
        elif isinstance(value, str) and not isinstance(value, Unsafe) and is_template(value):
            try:
                used = jinja2.meta.find_undeclared_variables(_JINJA.parse(value))
            except jinja2.TemplateSyntaxError as exc:
                self.report(example, line0, "%r is not valid Jinja (%s): Ansible templates it; mark template text of "
                            "Prometheus/Grafana with !unsafe" % (value, exc.message))
                return
            unknown = sorted(n for n in used if n not in names and n not in self.known_names
                             and not n.startswith(("vault_", "ansible_"))
                             and not any(fnmatch.fnmatchcase(n, p) for p in INVENTORY_VARS))
            if unknown:
                self.report(example, line0, "%r uses %s, which no example, role or inventory defines: Ansible would fail "
                            "on it (template text for Prometheus/Grafana needs !unsafe)" % (value, ", ".join(unknown)))

    # ---- rendering

    def render(self, example, known, base):
        values = {}
        for name, value in base.items():
            values[name] = placeholders(value, self.spec_of(name), name)
        for name, (value, _line0) in known.items():
            values[name] = placeholders(value, self.spec_of(name), name)
        for label, triggers, function in RENDERERS:
            hit = [name for name in triggers if name in known]
            if not hit:
                continue
            self.stats["renders"] += 1
            try:
                function(self, values)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # any error is the example's finding
                self.report(example, known[hit[0]][1], "rendering %s failed: %s: %s" % (label, type(exc).__name__, exc))

    def value(self, values, name):
        """The example's value of a role variable, else the role default (placeholders applied)."""
        if name in values:
            return values[name]
        role = self.role_of(name)
        return placeholders(self.defaults.get(role, {}).get(name), self.spec_of(name), name)

    def rule_packs(self):
        """The shipped rule packs (read once)."""
        if self._packs is None:
            pattern = os.path.join(self.root, "roles", "prometheus", "files", "rule_packs", "*.yml")
            self._packs = [self._yaml(path) for path in sorted(glob.glob(pattern))]
        return self._packs


def main():
    checker = Checker()
    findings = checker.check_repo()
    for finding in findings:
        print(finding)
    print("%(examples)d examples, %(variables)d variables, %(renders)d renders" % checker.stats
          + ", %d findings" % len(findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
