#!/usr/bin/env bash
# `make demo`: build the local lab, run playbooks/site.yml against it, wait until
# Prometheus sees its targets, and print what came up and how to tear it down.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
export ANSIBLE_CONFIG=$REPO/ansible.cfg
bash tests/harness/lab.sh up
echo "[demo] running playbooks/site.yml against inventories/lab"
start=$(date +%s)
.venv/bin/ansible-playbook -i inventories/lab/hosts.yml playbooks/site.yml \
  -e "@$REPO/.cache/mirror/test-vars.yml" -e "monitoring_stack_project_dir=$REPO" "$@"
echo "[demo] site.yml finished in $(( $(date +%s) - start )) s"
.venv/bin/python tests/harness/lab_report.py --inventory inventories/lab/hosts.yml
cat <<'TXT'

The lab keeps running. Re-run `make demo` to converge it again (it should report changed=0).
Tear it down with:  bash tests/harness/lab.sh down
TXT
