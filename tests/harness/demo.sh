#!/usr/bin/env bash
# `make demo`: build the local lab, install what a real site already has (PostgreSQL, nginx), run
# playbooks/site.yml against it, wait until Prometheus scrapes every target, run one backup through
# the backup_now runbook, and print what came up and how to tear it down.
# Extra arguments go to the site.yml run (e.g. --tags exporters). LAB_PREFIX, LAB_SSH, LAB_PUBLISH: see lab.sh.
# The lab is reached over SSH with sudo as VMs are (LAB_SSH=1, the default); the web UIs of lab-mon are
# published on free 127.0.0.1 ports, printed at the end with the credentials to use.
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
bash tests/harness/lab.sh up
read -r -a INVENTORY <<<"$(bash tests/harness/lab.sh inventory | tr '\n' ' ')"
PLAY=(.venv/bin/ansible-playbook "${INVENTORY[@]}" -e "monitoring_stack_project_dir=$REPO")

echo "[demo] installing PostgreSQL on lab-db and nginx on lab-web (playbooks/lab_prepare.yml)"
"${PLAY[@]}" playbooks/lab_prepare.yml

# Where the binaries come from. DEMO_UPSTREAM=auto (default) asks the upstream release downloads (GitHub and
# dl.grafana.com, 5 s each): when both answer, the roles install the real upstream archives with the sha256 the
# roles pin, Grafana, Loki and Promtail included, and Grafana opens on the infrastructure dashboard; when one
# does not, the Debian-built mirror of .cache/mirror is used and the components it cannot carry are named.
# DEMO_UPSTREAM=1 forces the upstream archives, 0 the mirror.
UPSTREAM=${DEMO_UPSTREAM:-auto}
if [ "$UPSTREAM" = auto ]; then
  if reason=$(python3 - <<'PY'
import sys, urllib.request
for url in ("https://github.com/prometheus/node_exporter/releases", "https://dl.grafana.com/oss/release/"):
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5)
    except Exception as exc:  # any answer is enough; HTTPError is an answer
        if not hasattr(exc, "code"):
            print("%s: %s" % (url, getattr(exc, "reason", exc)))
            sys.exit(1)
PY
  ); then UPSTREAM=1; else UPSTREAM=0; fi
fi
if [ "$UPSTREAM" = 1 ]; then
  echo "[demo] upstream release downloads answer: installing the upstream archives (sha256 pinned in the roles)"
  SOURCE=(-e monitoring_stack_mirror_url= -e grafana_install_source=archive -e loki_install_source=archive
          -e log_shipper_install_source=archive
          -e '{"grafana_ini": {"dashboards": {"default_home_dashboard_path": "/var/lib/grafana/dashboards/monitoring-stack/ms-infrastructure.json"}}}')
  SKIPPED=""
else
  echo "[demo] upstream release downloads are not reachable (${reason:-DEMO_UPSTREAM=0}): installing from the Debian-built mirror"
  SOURCE=(-e "@$REPO/.cache/mirror/test-vars.yml")
  SKIPPED="Grafana, Loki and Promtail (no Debian package or reachable registry carries them)"
fi

echo "[demo] running playbooks/site.yml against $INV"
start=$(date +%s)
"${PLAY[@]}" "${SOURCE[@]}" playbooks/site.yml "$@" | tee /tmp/demo-site.$$.log
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

echo
echo "Open the lab in a browser (published on this machine's loopback; user and password below):"
urls_rc=0
check=prometheus,alertmanager,pushgateway
[ -n "$SKIPPED" ] || check+=,grafana   # Grafana's /api/health answers without a login
bash tests/harness/lab.sh urls --auth "$LAB_AUTH" --check "$check" || urls_rc=$?
if [ -n "$SKIPPED" ]; then
  cat <<TXT

Skipped: $SKIPPED. They run in "binary" mode without a binary in the lab: their users, directories,
configs and units are in place, the services are not started. Everything else runs from the Debian-built
binaries of .cache/mirror. With the upstream downloads reachable, DEMO_UPSTREAM=1 make demo installs them all.
TXT
fi
cat <<TXT

Every endpoint of the lab asks for basic auth (secure by default, as in production):
  user ${LAB_AUTH%%:*}   password ${LAB_AUTH#*:}   (inventories/lab/group_vars/all.yml)

Try the runbooks (docs/runbooks.md), e.g.:
  .venv/bin/ansible-playbook -i $INV playbooks/runbooks/health.yml
  .venv/bin/ansible-playbook -i $INV playbooks/runbooks/silence.yml -e silence_matchers=instance=~lab-web.* -e silence_duration=1h -e "silence_comment='lab maintenance'"

The lab keeps running. Re-run \`make demo\` to converge it again (site.yml then reports changed=0).
Tear it down with:  ${LAB_PREFIX:+LAB_PREFIX=$LAB_PREFIX }bash tests/harness/lab.sh down
TXT
exit $(( ${targets_rc:-0} || report_rc || urls_rc ))
