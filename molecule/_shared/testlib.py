"""Helpers shared by the scenarios' testinfra tests (on PYTHONPATH through the verifier env)."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def exposure(host, unit):
    """The `systemd-analyze security` exposure score of a unit, printed for the test log."""
    out = host.check_output("systemd-analyze security %s --no-pager | tail -n 1" % unit)
    score = float(out.split("exposure level for %s:" % unit)[1].split()[0])
    print("systemd-analyze security %s (%s): %.1f" % (unit, host.backend.get_hostname(), score))
    return score


def run_playbook(playbook, *args, inventory="localhost,", connection="local"):
    """Run ansible-playbook from the project's virtualenv; return (rc, stdout + stderr)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"))
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", inventory]
    if connection:
        cmd += ["-c", connection]
    res = subprocess.run(cmd + [playbook] + list(args), capture_output=True, text=True, env=env, check=False)
    return res.returncode, res.stdout + res.stderr
