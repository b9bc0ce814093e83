"""Helpers shared by the scenarios' testinfra tests (on PYTHONPATH through the verifier env)."""

import base64
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def exposure(host, unit):
    """The `systemd-analyze security` exposure score of a unit, printed for the test log."""
    out = host.check_output("systemd-analyze security %s --no-pager | tail -n 1" % unit)
    score = float(out.split("exposure level for %s:" % unit)[1].split()[0])
    print("systemd-analyze security %s (%s): %.1f" % (unit, host.backend.get_hostname(), score))
    return score


def poll(check, timeout=60, interval=1.0):
    """Call check() until it returns a true value or timeout seconds have passed; return the last value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


def run_playbook(playbook, *args, inventory="localhost,", connection="local"):
    """Run ansible-playbook from the project's virtualenv; return (rc, stdout + stderr)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"))
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", inventory]
    if connection:
        cmd += ["-c", connection]
    res = subprocess.run(cmd + [playbook] + list(args), capture_output=True, text=True, env=env, check=False)
    return res.returncode, res.stdout + res.stderr


_RUN_QUERIES = r"""
import json, sys, urllib.parse, urllib.request
out = {}
url = sys.argv[1].rstrip("/") + "/api/v1/query"
for label, expr in json.load(sys.stdin):
    data = urllib.parse.urlencode({"query": expr}).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as resp:
            body = json.load(resp)
        out[label] = "data" if body["data"]["result"] else "empty"
    except Exception as exc:  # report every query, do not stop at the first
        out[label] = "error: %s" % exc
print(json.dumps(out))
"""


def dashboard_queries(titles=None):
    """The PromQL queries of the shipped dashboard library (tests/dashboards/check_dashboards.py)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "dashboards"))
    import check_dashboards  # pylint: disable=import-outside-toplevel,import-error
    dashboards, errors = check_dashboards.render_library()
    assert not errors, errors
    queries = check_dashboards.collect_queries(dashboards)
    return [q for q in queries if titles is None or q["dashboard"] in titles]


def query_status(host, queries, prometheus="http://127.0.0.1:9090"):
    """Run each query on the host against its Prometheus: {"dashboard / panel / ref": "data" | "empty" | "error: ..."}."""
    payload = json.dumps([["%s / %s / %s" % (q["dashboard"], q["panel"], q["ref_id"]), q["expr"]] for q in queries])
    script = base64.b64encode(_RUN_QUERIES.encode()).decode()
    result = host.run("python3 -c \"import base64; exec(base64.b64decode('%s'))\" %s <<'JSON'\n%s\nJSON" % (script, prometheus, payload))
    assert result.rc == 0, result.stderr
    status = json.loads(result.stdout)
    print("dashboard queries: %d with data, %d without" % (
        sum(v == "data" for v in status.values()), sum(v != "data" for v in status.values())))
    return status
