# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run tests/rules/run_promtool.py (promtool check + test of every rule pack) from pytest.

promtool comes from $PROMTOOL or <repo>/.cache/tools/bin/promtool; when it is missing the test FAILS.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DRIVER = os.path.join(ROOT, "tests", "rules", "run_promtool.py")


def test_rule_packs_pass_promtool():
    proc = subprocess.run([sys.executable, DRIVER], capture_output=True, text=True, check=False)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary.endswith(" 0 failed"), summary
