#!/usr/bin/env bash
# `make demo`: build the local lab, install what a real site already has (PostgreSQL, nginx), run
# playbooks/site.yml against it, wait until Prometheus scrapes every target, run one backup through
# the backup_now runbook, and print what came up and how to tear it down.
# Extra arguments go to the site.yml run (e.g. --tags exporters). LAB_PREFIX: see lab.sh.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
export ANSIBLE_CONFIG=$REPO/ansible.cfg
export PATH=$REPO/.venv/bin:$PATH
export LAB_PREFIX=${LAB_PREFIX:-}
TARGETS_TIMEOUT=${DEMO_TARGETS_TIMEOUT:-180}
INV=inventories/lab/hosts.yml
# The lab's scrape user and password (inventories/lab/group_vars/all.yml), printed at the end.
LAB_AUTH=prometheus:lab-scrape-password
PLAY=(.venv/bin/ansible-playbook -i "$INV" -e "monitoring_stack_project_dir=$REPO")

bash tests/harness/lab.sh up

echo "[demo] installing PostgreSQL on lab-db and nginx on lab-web (playbooks/lab_prepare.yml)"
"${PLAY[@]}" playbooks/lab_prepare.yml

echo "[demo] running playbooks/site.yml against $INV"
start=$(date +%s)
"${PLAY[@]}" -e "@$REPO/.cache/mirror/test-vars.yml" playbooks/site.yml "$@" | tee /tmp/demo-site.$$.log
echo "[demo] site.yml finished in $(( $(date +%s) - start )) s:"
sed -n '/PLAY RECAP/,/^$/p' /tmp/demo-site.$$.log; rm -f /tmp/demo-site.$$.log

echo "[demo] waiting up to ${TARGETS_TIMEOUT}s until Prometheus reports every target up"
docker exec "${LAB_PREFIX}lab-mon" python3 -c '
import base64, json, sys, time, urllib.request
deadline = time.time() + int(sys.argv[1])
request = urllib.request.Request("http://127.0.0.1:9090/api/v1/targets?state=active",
                                 headers={"Authorization": "Basic " + base64.b64encode(sys.argv[2].encode()).decode()})
while True:
    try:
        data = json.load(urllib.request.urlopen(request, timeout=5))
        targets = data["data"]["activeTargets"]
    except Exception as exc:
        targets, error = [], exc
    down = [t for t in targets if t["health"] != "up"]
    if targets and not down:
        print("[demo] %d targets up: %s" % (len(targets), ", ".join(sorted({t["labels"]["job"] for t in targets}))))
        sys.exit(0)
    if time.time() > deadline:
        for t in down:
            print("[demo] DOWN %s %s: %s" % (t["labels"]["job"], t["scrapeUrl"], t["lastError"]))
        print("[demo] not every target came up in time (%d targets, %d down)" % (len(targets), len(down)))
        sys.exit(1)
    time.sleep(2)
' "$TARGETS_TIMEOUT" "$LAB_AUTH" || targets_rc=$?

echo "[demo] running the pg_postgres backup on lab-db now (playbooks/runbooks/backup_now.yml)"
"${PLAY[@]}" playbooks/runbooks/backup_now.yml -e backup_now_hosts=lab-db -e backup_now_job=pg_postgres \
  || echo "[demo] WARNING: the backup run failed (see above)"

report_rc=0
.venv/bin/python tests/harness/lab_report.py --inventory "$INV" || report_rc=$?
cat <<TXT

Grafana, Loki and Promtail run in "binary" mode without a binary in the lab (no registry reachable
from this machine carries them): their users, directories, configs and units are in place, the
services are not started. Everything else runs from the Debian-built binaries of .cache/mirror.

Every endpoint of the lab asks for basic auth (secure by default, as in production):
  user ${LAB_AUTH%%:*}   password ${LAB_AUTH#*:}   (inventories/lab/group_vars/all.yml)

Try the runbooks (docs/runbooks.md), e.g.:
  .venv/bin/ansible-playbook -i $INV playbooks/runbooks/health.yml
  .venv/bin/ansible-playbook -i $INV playbooks/runbooks/silence.yml -e silence_matchers=instance=~lab-web.* -e silence_duration=1h -e "silence_comment='lab maintenance'"

The lab keeps running. Re-run \`make demo\` to converge it again (site.yml then reports changed=0).
Tear it down with:  ${LAB_PREFIX:+LAB_PREFIX=$LAB_PREFIX }bash tests/harness/lab.sh down
TXT
exit $(( ${targets_rc:-0} || report_rc ))
