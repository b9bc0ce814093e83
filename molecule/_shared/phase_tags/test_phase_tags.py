"""Each role's <role>_install, <role>_configure and <role>_run tag works alone on a converged host.

Run by the scenarios that list this file under verifier.additional_files_or_dirs: for each
phase, one converge with the phase tag of every role of the scenario (each role sees only its
own tag), which must end with failed=0 and changed=0 and must have run tasks of every role.
"""

import glob
import os
import re

import pytest
import yaml
from testlib import ROOT, molecule_inventory, run_playbook

CONVERGE = os.path.join(ROOT, "molecule", "_shared", "converge.yml")


def _roles():
    """The roles the scenario's hosts apply (molecule_roles in host_vars and group_vars)."""
    roles = set()
    for path in glob.glob(os.path.join(molecule_inventory(), "*_vars", "*")):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        roles.update(r.split(".")[-1] for r in data.get("molecule_roles") or [])
    return sorted(roles)


@pytest.mark.parametrize("phase", ["install", "configure", "run"])
def test_phase_tag_alone_changes_nothing(phase):
    roles = _roles()
    assert roles, "no molecule_roles found in %s" % molecule_inventory()
    tags = ",".join("%s_%s" % (role, phase) for role in roles)
    rc, out = run_playbook(CONVERGE, inventory=molecule_inventory(), connection=None, tags=tags, timeout=900)
    assert rc == 0, "--tags %s failed:\n%s" % (tags, out[-6000:])
    recaps = re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out, re.M)
    assert recaps, out[-3000:]
    changed = {host: int(c) for host, _ok, c, _u, _f in recaps if int(c)}
    assert not changed, "--tags %s changed something: %s\n%s" % (tags, changed, out[-6000:])
    for role in roles:
        # A role's own task, or the engine's check that names the role (it runs under every phase tag).
        own = r"^TASK \[(monitoring\.stack\.)?%s : " % re.escape(role)
        engine = r"^TASK \[(monitoring\.stack\.)?_common : Fail on variables .*: %s\]" % re.escape(role)
        assert re.search(own, out, re.M) or re.search(engine, out, re.M), "--tags %s ran no task for %s" % (tags, role)
