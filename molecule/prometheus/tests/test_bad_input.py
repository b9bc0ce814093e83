"""Bad input against the converged host (issue #3): the run fails with a clear message, the previous
config stays and the service keeps running. Also: a config change reloads (same PID), never restarts.

Each case runs apply_role.yml with ansible-playbook from the controller against the molecule inventory,
with the bad value as an extra var and the role's tags, so a case takes seconds, not a full converge.
"""

import json
import os
import subprocess
import sys
import time

import pytest

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = os.environ.get("MONITORING_STACK_PROJECT_DIR") or os.path.dirname(os.path.dirname(SCENARIO))


def apply_role(role, tags, extra_vars=None, timeout=300):
    """Run apply_role.yml for one role; return (rc, combined output)."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
           os.path.join(SCENARIO, "apply_role.yml"), "--tags", tags,
           "-e", json.dumps(dict(extra_vars or {}, molecule_apply_role=role))]
    env = dict(os.environ, MONITORING_STACK_PROJECT_DIR=PROJECT, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.path.join(PROJECT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(PROJECT, ".cache", "collections")))
    proc = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def checksum(host, path):
    return host.check_output("sha256sum %s" % path).split()[0]


def main_pid(host, unit):
    return host.check_output("systemctl show -p MainPID --value %s" % unit).strip()


@pytest.mark.parametrize("case", [
    {
        "id": "invalid rule",
        "role": "monitoring.stack.prometheus", "tags": "prometheus_configure", "unit": "prometheus",
        "vars": {"prometheus_alert_rules": [{"name": "Broken", "expr": "rate(up[5m]", "severity": "warning", "summary": "Broken."}]},
        "message": "failed to validate",
        "files": ["/etc/prometheus/prometheus.yml", "/etc/prometheus/rules/monitoring-stack-custom.yml"],
    },
    {
        "id": "invalid alertmanager config",
        "role": "monitoring.stack.alertmanager", "tags": "alertmanager_configure", "unit": "alertmanager",
        "vars": {"alertmanager_extra_routes": [{"receiver": "no-such-receiver", "matchers": ['team="db"']}]},
        "message": 'undefined receiver "no-such-receiver"',
        "files": ["/etc/alertmanager/alertmanager.yml"],
    },
    {
        "id": "missing scrape TLS file",
        "role": "monitoring.stack.prometheus", "tags": "prometheus_configure", "unit": "prometheus",
        "vars": {"prometheus_scrape_job_overrides": {"node": {
            "scheme": "https", "tls": {"ca_file": "/etc/prometheus/tls/missing-ca.pem"},
            "basic_auth": {"username": "prometheus", "password": "test-scrape-secret"}}}},
        "message": "TLS file(s) missing on prom-bookworm: /etc/prometheus/tls/missing-ca.pem",
        "files": ["/etc/prometheus/prometheus.yml", "/etc/prometheus/secrets/node.basic_auth"],
    },
    {
        "id": "missing web TLS file",
        "role": "monitoring.stack.pushgateway", "tags": "pushgateway_configure", "unit": "pushgateway",
        "vars": {"pushgateway_tls": {"cert_file": "/etc/pushgateway/missing.crt", "key_file": "/etc/pushgateway/missing.key"}},
        "message": "TLS file(s) missing on prom-bookworm",
        "files": ["/etc/pushgateway/web.yml"],
    },
    {
        "id": "wrong checksum",
        "role": "monitoring.stack.prometheus", "tags": "prometheus_install", "unit": "prometheus",
        "vars": {"prometheus_checksums": {"amd64": "0" * 64}},
        "message": "checksum",
        "files": ["/usr/local/bin/prometheus", "/usr/local/bin/promtool", "/etc/systemd/system/prometheus.service"],
    },
], ids=lambda case: case["id"])
def test_bad_input_fails_and_keeps_the_running_config(host, case):
    before = {path: checksum(host, path) for path in case["files"]}
    pid = main_pid(host, case["unit"])
    rc, output = apply_role(case["role"], case["tags"], case["vars"])
    assert rc != 0, "the run should have failed:\n" + output[-3000:]
    assert case["message"] in output, "expected message %r not in the output:\n%s" % (case["message"], output[-3000:])
    print("%s: failed as expected with %r" % (case["id"], case["message"]))
    assert {path: checksum(host, path) for path in case["files"]} == before, "a file changed"
    assert host.service(case["unit"]).is_running
    assert main_pid(host, case["unit"]) == pid, "the service was restarted"


def test_config_change_reloads_without_restart(host):
    pid = main_pid(host, "prometheus")

    def reload_time():
        out = host.check_output("curl -sf http://127.0.0.1:9090/api/v1/query?query=prometheus_config_last_reload_success_timestamp_seconds")
        return float(json.loads(out)["data"]["result"][0]["value"][1])
    before = reload_time()
    time.sleep(1)
    labels = {"environment": "molecule", "reload_test": "yes"}
    extra_job = [{"name": "extra", "targets": ["127.0.0.1:9091"], "port": 9091}]
    rc, output = apply_role("monitoring.stack.prometheus", "prometheus_configure",
                            {"prometheus_external_labels": labels, "prometheus_extra_scrape_jobs": extra_job})
    assert rc == 0, output[-3000:]
    assert "RUNNING HANDLER [monitoring.stack.prometheus : Reload prometheus]" in output
    assert "RUNNING HANDLER [monitoring.stack.prometheus : Restart prometheus]" not in output
    deadline = time.time() + 30
    while reload_time() <= before and time.time() < deadline:
        time.sleep(2)
    assert reload_time() > before, "prometheus did not reload"
    assert main_pid(host, "prometheus") == pid, "prometheus was restarted instead of reloaded"
    assert "reload_test" in host.file("/etc/prometheus/prometheus.yml").content_string
    assert host.file("/etc/prometheus/file_sd/extra.json").exists
    # Back to the converged settings (a second reload); the extra job's file_sd file is pruned.
    rc, output = apply_role("monitoring.stack.prometheus", "prometheus_configure")
    assert rc == 0, output[-3000:]
    assert "reload_test" not in host.file("/etc/prometheus/prometheus.yml").content_string
    assert not host.file("/etc/prometheus/file_sd/extra.json").exists
    assert main_pid(host, "prometheus") == pid
