"""Helpers shared by the scenarios' testinfra tests (on PYTHONPATH through the verifier env)."""

import base64
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMETHEUS = "http://127.0.0.1:9090"


def exposure(host, unit):
    """The `systemd-analyze security` exposure score of a unit, printed for the test log."""
    out = host.check_output("systemd-analyze security %s --no-pager | tail -n 1" % unit)
    score = float(out.split("exposure level for %s:" % unit)[1].split()[0])
    print("systemd-analyze security %s (%s): %.1f" % (unit, host.backend.get_hostname(), score))
    return score


def poll(check, timeout=60, interval=1.0, what=None):
    """Call check() until it returns a true value or timeout seconds have passed.

    Return the first true value. At the timeout, return the last value; or, when `what` names what is
    awaited, fail the test with that name and the last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    if what is not None:
        raise AssertionError("timed out after %ss waiting for %s (last answer: %r)" % (timeout, what, value))
    return value


def get_json(host, url, auth=None, cacert=None, **params):
    """GET url on the host with curl (10 s at most), params URL-encoded as the query string; the parsed JSON answer.

    auth is "user:password", cacert a CA file on the host for https URLs.
    """
    cmd, args = "curl -sf --max-time 10", []
    if auth:
        cmd += " -u %s"
        args.append(auth)
    if cacert:
        cmd += " --cacert %s"
        args.append(cacert)
    if params:
        cmd += " -G" + " --data-urlencode %s" * len(params)
        args += ["%s=%s" % item for item in params.items()]
    return json.loads(host.check_output(cmd + " %s", *args, url))


def prom_query(host, expr, prometheus=PROMETHEUS):
    """Instant query of the Prometheus on the host; the result vector."""
    answer = get_json(host, prometheus + "/api/v1/query", query=expr)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def samples(body, name):
    """The samples of one metric in a Prometheus text exposition: {labels without braces ("" for none): value}."""
    pattern = r"^%s(?:\{([^}]*)\})? (\S+)(?: -?\d+)?$" % re.escape(name)
    return {m.group(1) or "": float(m.group(2)) for m in re.finditer(pattern, body, re.M)}


def first_sample(body, name):
    """The value of the first sample of one metric in a Prometheus text exposition; fail when there is none."""
    values = list(samples(body, name).values())
    assert values, "%s missing in:\n%s" % (name, body)
    return values[0]


def molecule_inventory():
    """The inventory directory of the running Molecule scenario."""
    return os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


def run_playbook(playbook, *extra_vars, inventory="localhost,", connection="local", tags=None, timeout=600):
    """Run ansible-playbook of the project's virtualenv from the project directory; return (rc, stdout + stderr).

    inventory is one source or a list of them; each extra var is a "key=value" string or a dict (sent as JSON);
    tags limits the run to tagged tasks.
    """
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook")]
    for source in [inventory] if isinstance(inventory, str) else inventory:
        cmd += ["-i", source]
    if connection:
        cmd += ["-c", connection]
    if tags:
        cmd += ["--tags", tags]
    cmd.append(playbook)
    for item in extra_vars:
        cmd += ["-e", item if isinstance(item, str) else json.dumps(item)]
    env = dict(os.environ, MONITORING_STACK_PROJECT_DIR=ROOT, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1")
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    return res.returncode, res.stdout + res.stderr


def bad_input_playbook(cases, outdir, mirror_vars, hosts="all"):
    """One play per case ({role, vars}): the role with the case's variables (role parameters, above the mirror's
    versions), its failure (or ``null`` when it did not fail) written to outdir/<n>.json on the controller. All
    the cases then cost one start-up of Ansible instead of one each."""
    record = {"delegate_to": "localhost", "become": False, "vars": {"ansible_become": False}}
    plays = []
    for number, case in enumerate(cases):
        plays.append({
            "name": "Bad input %d" % number, "hosts": hosts, "become": True, "gather_facts": number == 0,
            "vars": mirror_vars,
            "tasks": [
                {"name": "Load the versions and checksums of the test mirror.", "ansible.builtin.include_vars": {
                    "file": "{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/mirror/test-vars.yml"}},
                {"name": "Apply the role with the bad input.", "block": [
                    {"name": "Apply %s." % case["role"], "ansible.builtin.include_role": {"name": case["role"]},
                     "vars": case["vars"]},
                    dict(record, **{"name": "Record that the run did not fail.", "ansible.builtin.copy": {
                        "content": "null", "dest": "%s/%d.json" % (outdir, number), "mode": "0600"}}),
                ], "rescue": [
                    dict(record, **{"name": "Record the failure.", "ansible.builtin.copy": {
                        "content": "{{ ansible_failed_result | to_json }}", "dest": "%s/%d.json" % (outdir, number),
                        "mode": "0600"}}),
                ]},
            ],
        })
    return plays


def _strings(value):
    """Every string in a task result (msg, stdout, stderr, results of loop items...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def failure_text(failure):
    """All the text of a recorded task failure, one string."""
    return "\n".join(_strings(failure))


def preflight_failure(test_file):
    """Run preflight_bad.yml next to test_file on the controller; assert that it fails and return its output."""
    returncode, out = run_playbook(os.path.join(os.path.dirname(os.path.abspath(test_file)), "preflight_bad.yml"))
    assert returncode != 0, out
    return out


_RUN_QUERIES = r"""
import base64, json, ssl, sys, urllib.parse, urllib.request
out = {}
url = sys.argv[1].rstrip("/") + "/api/v1/query"
request = json.load(sys.stdin)
headers = {}
if request.get("auth"):
    headers["Authorization"] = "Basic " + base64.b64encode(request["auth"].encode()).decode()
context = ssl.create_default_context(cafile=request["cacert"]) if request.get("cacert") else None
for label, expr in request["queries"]:
    data = urllib.parse.urlencode({"query": expr}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10,
                                    context=context) as resp:
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


def query_status(host, queries, prometheus=PROMETHEUS, auth=None, cacert=None):
    """Run each query on the host against its Prometheus: {"dashboard / panel / ref": "data" | "empty" | "error: ..."}.

    auth is "user:password" and cacert a CA file on the host, as for get_json; both travel on stdin, not argv.
    """
    payload = json.dumps({"auth": auth, "cacert": cacert, "queries": [
        ["%s / %s / %s" % (q["dashboard"], q["panel"], q["ref_id"]), q["expr"]] for q in queries]})
    script = base64.b64encode(_RUN_QUERIES.encode()).decode()
    result = host.run("python3 -c \"import base64; exec(base64.b64decode('%s'))\" %s <<'JSON'\n%s\nJSON" % (script, prometheus, payload))
    assert result.rc == 0, result.stderr
    status = json.loads(result.stdout)
    print("dashboard queries: %d with data, %d without" % (
        sum(v == "data" for v in status.values()), sum(v != "data" for v in status.values())))
    return status
