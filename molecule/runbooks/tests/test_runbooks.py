"""Runbooks (playbooks/runbooks/) against the converged stack on rb-mon.

Each test runs a runbook with ansible-playbook from the controller against the molecule inventory
(plus a small inventory of the test mirror's versions and checksums, so the runbooks' own role runs
install the same binaries as the converge) and checks the effect through the daemons' HTTP APIs.
Every wait is a bounded poll.
"""

import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
import time
import urllib.request

import pytest
from testlib import ROOT, get_json, molecule_inventory, poll, run_playbook

RUNBOOKS = os.path.join(ROOT, "playbooks", "runbooks")
AUTH = "prometheus:runbook-scrape-secret"
# rb-mon's ansible_host (molecule.yml: reached over SSH at a fixed address): the address its own scrape targets use.
ADDRESS = "10.213.17.10"


@pytest.fixture(scope="module")
def mirror_inventory():
    """An inventory directory whose group_vars/all.yml holds the test mirror settings and versions."""
    with tempfile.TemporaryDirectory(prefix="rb-inv-") as tmp:
        os.makedirs(os.path.join(tmp, "group_vars"))
        with open(os.path.join(ROOT, ".cache", "mirror", "test-vars.yml"), encoding="utf-8") as handle:
            versions = handle.read()
        with open(os.path.join(tmp, "group_vars", "all.yml"), "w", encoding="utf-8") as handle:
            handle.write(versions.rstrip() + "\n")
            handle.write('monitoring_stack_mirror_url: "file://%s/.cache/mirror"\n' % ROOT)
            handle.write('monitoring_stack_cache_dir: "%s/.cache/controller-runbooks"\n' % ROOT)
            handle.write('monitoring_stack_promtool: "%s/.cache/tools/bin/promtool"\n' % ROOT)
        with open(os.path.join(tmp, "hosts.yml"), "w", encoding="utf-8") as handle:
            handle.write("all: {}\n")
        yield tmp


def runbook(inventory, name, *extra):
    """Run playbooks/runbooks/<name> against the molecule inventory plus `inventory`; return (rc, combined output)."""
    started = time.time()
    rc, out = run_playbook(os.path.join(RUNBOOKS, name), *extra, inventory=[molecule_inventory(), inventory], connection=None)
    shown = " ".join(item if isinstance(item, str) else json.dumps(item) for item in extra)
    print("---- %s %s: rc=%d in %.0f s\n%s" % (name, shown, rc, time.time() - started, out[-3000:]))
    return rc, out


def recap_changed(out, host="rb-mon"):
    match = re.search(r"^%s\s*:.*changed=(\d+)" % re.escape(host), out, re.M)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- silence.yml


def test_silence_create_reuse_and_expire(host, mirror_inventory):
    args = ({"silence_matchers": ["alertname=RunbookTest", "instance=~rb-.*"], "silence_duration": "10m",
             "silence_comment": "molecule runbook test", "silence_created_by": "molecule"},)
    rc, out = runbook(mirror_inventory, "silence.yml", *args)
    assert rc == 0, out
    silence_id = re.search(r"Created silence ([0-9a-f-]{36})", out).group(1)

    silences = {s["id"]: s for s in get_json(host, "http://127.0.0.1:9093/api/v2/silences")}
    assert silences[silence_id]["status"]["state"] == "active"
    assert silences[silence_id]["createdBy"] == "molecule"
    assert {(m["name"], m["value"], m["isRegex"]) for m in silences[silence_id]["matchers"]} == {
        ("alertname", "RunbookTest", False), ("instance", "rb-.*", True)}

    # The same request again reuses the active silence.
    rc, out = runbook(mirror_inventory, "silence.yml", *args)
    assert rc == 0, out
    assert "Already active silence %s" % silence_id in out
    assert recap_changed(out) == 0

    rc, out = runbook(mirror_inventory, "silence.yml", "silence_action=expire", "silence_id=%s" % silence_id)
    assert rc == 0, out
    state = poll(lambda: {s["id"]: s for s in get_json(host, "http://127.0.0.1:9093/api/v2/silences")}[silence_id]["status"]["state"]
                 == "expired", timeout=10)
    assert state, "silence %s is not expired" % silence_id


def test_silence_rejects_bad_input(mirror_inventory):
    rc, out = runbook(mirror_inventory, "silence.yml", {"silence_matchers": ["not a matcher"], "silence_comment": "x"})
    assert rc != 0
    assert "Matchers not understood" in out


# --------------------------------------------------------------------------- backup_now.yml


def test_backup_now_pushes_a_metric(host, mirror_inventory):
    before = time.time() - 1
    rc, out = runbook(mirror_inventory, "backup_now.yml", "backup_now_hosts=rb-mon", "backup_now_job=etc_files")
    assert rc == 0, out
    assert "etc_files on rb-mon finished: Result=success" in out

    groups = get_json(host, "http://127.0.0.1:9091/api/v1/metrics")["data"]
    group = [g for g in groups if g["labels"].get("job") == "etc_files" and "kind" not in g["labels"]]
    assert group, groups
    assert float(group[0]["backup_last_status"]["metrics"][0]["value"]) == 1
    assert float(group[0]["push_time_seconds"]["metrics"][0]["value"]) >= before


def test_backup_now_unknown_job_fails_clearly(mirror_inventory):
    rc, out = runbook(mirror_inventory, "backup_now.yml", "backup_now_hosts=rb-mon", "backup_now_job=nope")
    assert rc != 0
    assert "No unit backup-nope.service on rb-mon" in out


# --------------------------------------------------------------------------- scrape_target.yml


def _runbook_targets(host):
    targets = get_json(host, "http://127.0.0.1:9090/api/v1/targets", state="active")["data"]["activeTargets"]
    return [t for t in targets if t["labels"].get("target_source") == "runbook"]


def test_scrape_target_add_and_remove(host, mirror_inventory):
    common = ("scrape_target_job=node", "scrape_target_address=127.0.0.1:9100")
    rc, out = runbook(mirror_inventory, "scrape_target.yml", *common, {"scrape_target_labels": {"team": "molecule"}})
    assert rc == 0, out
    found = _runbook_targets(host)
    assert [t["discoveredLabels"]["__address__"] for t in found] == ["127.0.0.1:9100"]
    assert found[0]["labels"]["team"] == "molecule"
    # It is scraped with the job's credentials.
    assert poll(lambda: [t["health"] for t in _runbook_targets(host)] == ["up"], timeout=30)
    # The role's own target of the job is still there.
    file_sd = json.loads(host.file("/etc/prometheus/file_sd/node.json").content_string)
    assert any(group["targets"] == ["%s:9100" % ADDRESS] for group in file_sd)
    assert host.file("/etc/prometheus/file_sd/node.json").group == "prometheus"

    rc, out = runbook(mirror_inventory, "scrape_target.yml", *common, "scrape_target_action=remove")
    assert rc == 0, out
    assert _runbook_targets(host) == []
    file_sd = json.loads(host.file("/etc/prometheus/file_sd/node.json").content_string)
    assert [group["targets"] for group in file_sd] == [["%s:9100" % ADDRESS]]


def test_scrape_target_unknown_job_fails_clearly(mirror_inventory):
    rc, out = runbook(mirror_inventory, "scrape_target.yml", "scrape_target_job=nojob", "scrape_target_address=x:1")
    assert rc != 0
    assert "nojob is not a scrape job of this Prometheus" in out


# --------------------------------------------------------------------------- upgrade.yml


def _broken_release(directory, version="9.9.9"):
    """A node_exporter release archive whose binary exits 1; return its sha256."""
    name = "node_exporter-%s.linux-amd64" % version
    script = b"#!/bin/sh\necho 'broken node_exporter for the rollback test' >&2\nexit 1\n"
    path = os.path.join(directory, name + ".tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name + "/node_exporter")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_upgrade_rolls_back_a_broken_binary(host, mirror_inventory):
    binary = "/usr/local/bin/node_exporter"
    good = host.check_output("sha256sum %s" % binary).split()[0]
    with tempfile.TemporaryDirectory(prefix="rb-mirror-") as mirror:
        checksum = _broken_release(mirror)
        rc, out = runbook(mirror_inventory, "upgrade.yml", "upgrade_component=node_exporter", "upgrade_version=9.9.9",
                          {"upgrade_checksums": {"amd64": checksum}, "upgrade_validate_timeout": 16,
                           "monitoring_stack_mirror_url": "file://" + mirror,
                           "monitoring_stack_cache_dir": os.path.join(mirror, "cache")})
    assert rc != 0, out
    assert "Upgrade of node_exporter to 9.9.9 FAILED on rb-mon" in out
    assert "answers on http://127.0.0.1:9100/metrics again" in out
    assert host.check_output("sha256sum %s" % binary).split()[0] == good
    assert host.file(binary + ".previous").exists
    assert host.service("node_exporter").is_running
    assert host.check_output("curl -s -o /dev/null -w '%%{http_code}' -u %s http://127.0.0.1:9100/metrics" % AUTH) == "200"


def test_upgrade_to_the_same_version_validates(host, mirror_inventory):
    rc, out = runbook(mirror_inventory, "upgrade.yml", "upgrade_component=node_exporter", "upgrade_version=1.11.1",
                      {"upgrade_validate_timeout": 30})
    assert rc == 0, out
    assert "The previous binary stays as /usr/local/bin/node_exporter.previous" in out


# --------------------------------------------------------------------------- rotate_credentials.yml


def _node_up(host):
    targets = get_json(host, "http://127.0.0.1:9090/api/v1/targets", state="active")["data"]["activeTargets"]
    node = [t for t in targets if t["labels"]["job"] == "node"]
    return node and all(t["health"] == "up" for t in node)


def test_rotate_credentials_without_a_scrape_gap(host, mirror_inventory):
    # The upgrade tests restarted node_exporter: start from a scraped, healthy target.
    assert poll(lambda: _node_up(host), timeout=30)
    started = time.time()
    rc, out = runbook(mirror_inventory, "rotate_credentials.yml",
                      {"rotate_new_password": "rotated-scrape-secret-2", "rotate_new_username": "prometheus-rotated"})
    assert rc == 0, out
    ended = time.time()
    code = "curl -s -o /dev/null -w '%%{http_code}' -u %s http://127.0.0.1:9100/metrics"
    assert host.check_output(code % "prometheus-rotated:rotated-scrape-secret-2") == "200"
    assert host.check_output(code % AUTH) == "401"
    assert _node_up(host)
    # Every scrape of the node job during the rotation succeeded (up == 1 at every 5 s step).
    result = get_json(host, "http://127.0.0.1:9090/api/v1/query_range", query='up{job="node"}', start="%.0f" % started,
                      end="%.0f" % ended, step="5")["data"]["result"]
    values = [v[1] for series in result for v in series["values"]]
    assert values and set(values) == {"1"}, result


# --------------------------------------------------------------------------- health.yml


def test_health_prints_a_table(mirror_inventory):
    rc, out = runbook(mirror_inventory, "health.yml")
    assert rc == 0, out
    for needle in ("check", "targets node", "targets prometheus", "alertmanager", "pushgateway", "tsdb disk",
                   "backup etc_files", "No critical finding"):
        assert needle in out, needle


# --------------------------------------------------------------------------- the host is reached like a VM (#17)


def test_converge_and_runbooks_went_over_ssh_with_sudo(host):
    """The converge, the runbooks and these checks log in over SSH as ops (key only) and become root by sudo."""
    assert host.check_output("id -un") == "root"
    assert host.check_output("sudo -n -u ops id -un") == "ops"
    log = host.check_output("journalctl -q -u ssh.service --no-pager -o cat")
    accepted = re.findall(r"^Accepted publickey for (\S+) from", log, re.M)
    assert accepted and set(accepted) == {"ops"}, log[-2000:]
    # The scenario's converge and idempotence runs alone open many sessions (ControlPersist keeps some shared).
    assert len(accepted) >= 3, accepted
    sudo = host.check_output("journalctl -q _COMM=sudo --no-pager -o cat")
    assert re.search(r"ops : .*USER=root", sudo), sudo[-2000:]
    sshd = host.check_output("sshd -T").splitlines()
    assert "permitrootlogin no" in sshd and "passwordauthentication no" in sshd


def test_demo_urls_answer_on_loopback():
    """The web UIs are published on 127.0.0.1 ports of this machine, and the URLs `make demo` prints answer."""
    result = subprocess.run(
        ["python3", os.path.join(ROOT, "tests", "harness", "lab_urls.py"), "rb-mon", "--auth", AUTH,
         "--check", "prometheus,alertmanager,pushgateway"],
        capture_output=True, text=True, timeout=120, check=False)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    urls = re.findall(r"^\s+(Prometheus|Alertmanager|Pushgateway)\s+(http://127\.0\.0\.1:\d+/)\s+200$", result.stdout, re.M)
    urls = dict(urls)
    assert set(urls) == {"Prometheus", "Alertmanager", "Pushgateway"}, result.stdout
    # Each published port is the daemon it is named after.
    with urllib.request.urlopen(urls["Prometheus"] + "api/v1/status/buildinfo", timeout=10) as answer:
        assert json.load(answer)["data"]["version"]
    with urllib.request.urlopen(urls["Alertmanager"] + "api/v2/status", timeout=10) as answer:
        assert "cluster" in json.load(answer)
    with urllib.request.urlopen(urls["Pushgateway"] + "api/v1/status", timeout=10) as answer:
        assert json.load(answer)["status"] == "success"
