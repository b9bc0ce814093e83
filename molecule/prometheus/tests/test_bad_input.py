"""Bad input against the converged host (issue #3): the run fails with a clear message, the previous
config stays and the service keeps running. Also: a config change reloads (same PID), never restarts.

All bad-input cases run in one ansible-playbook call from the controller (a play per case, the role
included in a block whose rescue records the failure), so that the cases cost one start-up of Ansible
instead of one each; the reload and readiness tests run apply_role.yml with the role's tags.
"""

import json
import os
import tempfile
import time

import pytest
import yaml
from testlib import bad_input_playbook, failure_text, molecule_inventory, poll, prom_query, run_playbook

APPLY_ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "apply_role.yml")


def apply_role(role, tags, extra_vars=None):
    """Run apply_role.yml for one role; return (rc, combined output)."""
    return run_playbook(APPLY_ROLE, dict(extra_vars or {}, molecule_apply_role=role), inventory=molecule_inventory(),
                        connection=None, tags=tags, timeout=300)


def checksum(host, path):
    return host.check_output("sha256sum %s" % path).split()[0]


def main_pid(host, unit):
    return host.check_output("systemctl show -p MainPID --value %s" % unit).strip()


CASES = [
    {
        "id": "invalid rule",
        "role": "monitoring.stack.prometheus", "unit": "prometheus",
        "vars": {"prometheus_alert_rules": [{"name": "Broken", "expr": "rate(up[5m]", "severity": "warning", "summary": "Broken."}]},
        "message": "failed to validate",
        "files": ["/etc/prometheus/prometheus.yml", "/etc/prometheus/rules/monitoring-stack-custom.yml"],
    },
    {
        "id": "invalid alertmanager config",
        "role": "monitoring.stack.alertmanager", "unit": "alertmanager",
        "vars": {"alertmanager_extra_routes": [{"receiver": "no-such-receiver", "matchers": ['team="db"']}]},
        "message": 'undefined receiver "no-such-receiver"',
        "files": ["/etc/alertmanager/alertmanager.yml"],
    },
    {
        "id": "missing scrape TLS file",
        "role": "monitoring.stack.prometheus", "unit": "prometheus",
        "vars": {"prometheus_scrape_job_overrides": {"node": {
            "scheme": "https", "tls": {"ca_file": "/etc/prometheus/tls/missing-ca.pem"},
            "basic_auth": {"username": "prometheus", "password": "test-scrape-secret"}}}},
        "message": "TLS file(s) missing on prom-bookworm: /etc/prometheus/tls/missing-ca.pem",
        "files": ["/etc/prometheus/prometheus.yml", "/etc/prometheus/secrets/node.basic_auth"],
    },
    {
        "id": "missing web TLS file",
        "role": "monitoring.stack.pushgateway", "unit": "pushgateway",
        "vars": {"pushgateway_tls": {"cert_file": "/etc/pushgateway/missing.crt", "key_file": "/etc/pushgateway/missing.key"}},
        "message": "TLS file(s) missing on prom-bookworm",
        "files": ["/etc/pushgateway/web.yml"],
    },
    {
        "id": "wrong checksum",
        "role": "monitoring.stack.prometheus", "unit": "prometheus",
        "vars": {"prometheus_checksums": {"amd64": "0" * 64}},
        "message": "checksum",
        "files": ["/usr/local/bin/prometheus", "/usr/local/bin/promtool", "/etc/systemd/system/prometheus.service"],
    },
    {
        "id": "mistyped variable",
        "role": "monitoring.stack.prometheus", "unit": "prometheus",
        "vars": {"prometheus_rule_packs_enabled": ["node"]},
        "message": "`prometheus_rule_packs_enabled` is not a variable of monitoring.stack.prometheus; "
                   "did you mean `prometheus_rule_packs`?",
        "files": ["/etc/prometheus/prometheus.yml"],
    },
    {
        "id": "policy channel that does not exist",
        "role": "monitoring.stack.alertmanager", "unit": "alertmanager",
        "vars": {"alertmanager_severity_policy": {"critical": {"channels": ["nowhere"]}, "warning": {"channels": ["chat"]},
                                                  "info": {"channels": ["chat"]}}},
        "message": "nowhere",
        "files": ["/etc/alertmanager/alertmanager.yml"],
    },
    {
        "id": "unknown severity",
        "role": "monitoring.stack.alertmanager", "unit": "alertmanager",
        "vars": {"alertmanager_severity_policy": {"critical": {"channels": ["chat"]}, "warning": {"channels": ["chat"]},
                                                  "urgent": {"channels": ["chat"]}}},
        "message": "urgent",
        "files": ["/etc/alertmanager/alertmanager.yml"],
    },
]

MIRROR_VARS = {
    "monitoring_stack_mirror_url": "file://{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/mirror",
    "monitoring_stack_cache_dir": "{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/controller-prometheus",
    "monitoring_stack_promtool": "{{ lookup('ansible.builtin.env', 'MONITORING_STACK_PROJECT_DIR') }}/.cache/tools/bin/promtool",
}


@pytest.fixture(name="bad_input_runs", scope="module")
def fixture_bad_input_runs(host):
    """Before: each case's file checksums and main PID; then every case in one run; {id: (before, failure)}."""
    before = {case["id"]: ({path: checksum(host, path) for path in case["files"]}, main_pid(host, case["unit"]))
              for case in CASES}
    with tempfile.TemporaryDirectory(prefix="bad-input-") as outdir:
        playbook = os.path.join(outdir, "bad_inputs.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            yaml.safe_dump(bad_input_playbook(CASES, outdir, MIRROR_VARS), handle, sort_keys=False)
        rc, output = run_playbook(playbook, inventory=molecule_inventory(), connection=None, timeout=900)
        assert rc == 0, "the rescues should have kept the run going:\n" + output[-4000:]
        failures = {}
        for number, case in enumerate(CASES):
            with open(os.path.join(outdir, "%d.json" % number), encoding="utf-8") as handle:
                failures[case["id"]] = json.load(handle)
    return {key: (before[key], failures[key]) for key in before}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["id"])
def test_bad_input_fails_and_keeps_the_running_config(host, case, bad_input_runs):
    (files, pid), failure = bad_input_runs[case["id"]]
    assert failure is not None, "the run should have failed"
    text = failure_text(failure)
    assert case["message"] in text, "expected message %r not in the failure:\n%s" % (case["message"], text[-3000:])
    print("%s: failed as expected with %r" % (case["id"], case["message"]))
    assert {path: checksum(host, path) for path in case["files"]} == files, "a file changed"
    assert host.service(case["unit"]).is_running
    assert main_pid(host, case["unit"]) == pid, "the service was restarted"


def test_config_change_reloads_without_restart(host):
    pid = main_pid(host, "prometheus")

    def reload_time():
        return float(prom_query(host, "prometheus_config_last_reload_success_timestamp_seconds")[0]["value"][1])
    before = reload_time()
    time.sleep(1)
    labels = {"environment": "molecule", "reload_test": "yes"}
    extra_job = [{"name": "extra", "targets": ["127.0.0.1:9091"], "port": 9091}]
    rc, output = apply_role("monitoring.stack.prometheus", "prometheus_configure",
                            {"prometheus_external_labels": labels, "prometheus_extra_scrape_jobs": extra_job})
    assert rc == 0, output[-3000:]
    assert "RUNNING HANDLER [monitoring.stack.prometheus : Reload prometheus]" in output
    assert "RUNNING HANDLER [monitoring.stack.prometheus : Restart prometheus]" not in output
    poll(lambda: reload_time() > before, timeout=30, interval=2, what="the reload of prometheus")
    assert main_pid(host, "prometheus") == pid, "prometheus was restarted instead of reloaded"
    assert "reload_test" in host.file("/etc/prometheus/prometheus.yml").content_string
    assert host.file("/etc/prometheus/file_sd/extra.json").exists
    # Back to the converged settings (a second reload); the extra job's file_sd file is pruned.
    rc, output = apply_role("monitoring.stack.prometheus", "prometheus_configure")
    assert rc == 0, output[-3000:]
    assert "reload_test" not in host.file("/etc/prometheus/prometheus.yml").content_string
    assert not host.file("/etc/prometheus/file_sd/extra.json").exists
    assert main_pid(host, "prometheus") == pid


def test_readiness_gate_fails_a_run_whose_daemon_cannot_start(host):
    """Alertmanager told to listen on Prometheus' port: the run fails with the journal, then recovers."""
    # A short wait (monitoring_stack_ready_timeout), so the test does not sit out the default 60 s.
    rc, output = apply_role("monitoring.stack.alertmanager", "alertmanager", {"alertmanager_listen_address": ":9090",
                                                                              "monitoring_stack_ready_timeout": 10})
    assert rc != 0, "a run whose daemon cannot start must fail:\n" + output[-3000:]
    assert "alertmanager is not listening on port 9090" in output, output[-3000:]
    assert "Last journal lines" in output and "address already in use" in output, output[-3000:]
    print("readiness gate: the run failed with the journal lines")
    # The unit restarts on any exit; the next good run brings it back and the gate sees it ready.
    rc, output = apply_role("monitoring.stack.alertmanager", "alertmanager")
    assert rc == 0, output[-3000:]
    assert host.service("alertmanager").is_running
    assert host.socket("tcp://0.0.0.0:9093").is_listening or host.socket("tcp://:::9093").is_listening
