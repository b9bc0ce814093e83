#!/usr/bin/env python
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render every rule pack and the SLO example with the filters, then check and unit-test them with promtool.

Steps, each one counted as passed or failed:
  1. ``promtool check rules`` on every pack rendered alone (``<pack>.rules.yml``),
     on all packs rendered with a tenant scope, on the pack variants of VARIANTS (other params, a
     tenant scope) and on the SLO example (``slo.rules.yml``);
  2. every alert of a pack must be named in ``tests/rules/<pack>_test.yml`` (coverage);
  3. ``promtool test rules`` on every ``tests/rules/*_test.yml`` (copied next to the rendered rules).

promtool comes from $PROMTOOL, default ``<repo>/.cache/tools/bin/promtool``; a missing promtool is a failure.
The last line is ``N passed, M failed``; the exit status is non-zero when anything failed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.monitoring.stack.plugins.filter.rules import (  # noqa: E402
    rule_pack_groups,
    slo_rule_groups,
)

PACK_DIR = os.path.join(ROOT, "roles", "prometheus", "files", "rule_packs")
SLO_EXAMPLE = os.path.join(HERE, "slo_example.yml")
RUNBOOK_BASE_URL = "https://runbooks.example.com"
# Packs rendered once more with other params or a tenant scope, for the tests that read them
# (``<name>.rules.yml``): label variants of other frameworks and the scope of prometheus_rule_scope.
VARIANTS = (
    ("http_app_fastapi", "http_app", {"params": {"http_app": {
        "job": "shop", "status_label": "code", "endpoint_label": "handler", "server_error_regex": "5xx"}}}),
    ("http_app_tenant", "http_app", {"selector": 'tenant_id=~"t1|t2"', "group_by": ["tenant_id"]}),
)


def promtool_path():
    return os.environ.get("PROMTOOL") or os.path.join(ROOT, ".cache", "tools", "bin", "promtool")


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_packs():
    return [load_yaml(path) for path in sorted(glob.glob(os.path.join(PACK_DIR, "*.yml")))]


def write_rules(path, groups):
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"groups": groups}, handle, sort_keys=False, default_flow_style=False)


class Runner:
    """Counts results and prints one line per check."""

    def __init__(self, promtool):
        self.promtool = promtool
        self.passed = 0
        self.failed = 0

    def record(self, ok, label, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %s" % ("PASS" if ok else "FAIL", label))
        if detail and not ok:
            print("    " + detail.strip().replace("\n", "\n    "))

    def promtool_run(self, label, *args):
        proc = subprocess.run([self.promtool] + list(args), capture_output=True, text=True, check=False)
        self.record(proc.returncode == 0, label, proc.stdout + proc.stderr)

    def render(self, label, path, func, *args, **kwargs):
        """Render groups with ``func`` into ``path``; a filter error is a failure. Returns the groups or None."""
        try:
            groups = func(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            self.record(False, label, str(exc))
            return None
        write_rules(path, groups)
        return groups


def alert_names(groups):
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def tested_alerts(test_file):
    data = load_yaml(test_file) or {}
    return {case.get("alertname") for test in data.get("tests") or [] for case in test.get("alert_rule_test") or []}


def check_pack(runner, tmp, packs, name):
    path = os.path.join(tmp, "%s.rules.yml" % name)
    groups = runner.render("render %s" % name, path, rule_pack_groups, packs, enabled=[name], runbook_base_url=RUNBOOK_BASE_URL)
    if groups is None:
        return
    runner.promtool_run("promtool check rules %s.rules.yml" % name, "check", "rules", path)
    test_file = os.path.join(HERE, "%s_test.yml" % name)
    if not os.path.exists(test_file):
        runner.record(False, "coverage %s" % name, "missing tests/rules/%s_test.yml" % name)
        return
    missing = sorted(alert_names(groups) - tested_alerts(test_file))
    runner.record(not missing, "coverage %s" % name, "alerts without a promtool test: %s" % ", ".join(missing))


def main():
    promtool = promtool_path()
    runner = Runner(promtool)
    if not os.access(promtool, os.X_OK):
        runner.record(False, "promtool", "%s is missing; run tests/harness/build-mirror.sh or set PROMTOOL" % promtool)
        print("%d passed, %d failed" % (runner.passed, runner.failed))
        return 1
    tmp = tempfile.mkdtemp(prefix="rules-")
    try:
        packs = load_packs()
        for pack in packs:
            check_pack(runner, tmp, packs, pack["pack"])
        scoped = os.path.join(tmp, "scoped.rules.yml")
        if runner.render("render all packs scoped to a tenant", scoped, rule_pack_groups, packs,
                         selector='tenant_id="t1"', runbook_base_url=RUNBOOK_BASE_URL) is not None:
            runner.promtool_run("promtool check rules scoped.rules.yml", "check", "rules", scoped)
        for variant, pack, options in VARIANTS:
            path = os.path.join(tmp, "%s.rules.yml" % variant)
            if runner.render("render %s" % variant, path, rule_pack_groups, packs, enabled=[pack],
                             runbook_base_url=RUNBOOK_BASE_URL, **options) is not None:
                runner.promtool_run("promtool check rules %s.rules.yml" % variant, "check", "rules", path)
        slo_path = os.path.join(tmp, "slo.rules.yml")
        if runner.render("render slo example", slo_path, slo_rule_groups, load_yaml(SLO_EXAMPLE),
                         runbook_base_url=RUNBOOK_BASE_URL) is not None:
            runner.promtool_run("promtool check rules slo.rules.yml", "check", "rules", slo_path)
        for test_file in sorted(glob.glob(os.path.join(HERE, "*_test.yml"))):
            copy = shutil.copy(test_file, tmp)
            runner.promtool_run("promtool test rules %s" % os.path.basename(test_file), "test", "rules", copy)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (runner.passed, runner.failed))
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
