#!/usr/bin/env bash
# Converge benchmark (a script, not a test): for N lab hosts (default "1 5 10") start N systemd
# containers bm-1..bm-N on their own network, run playbooks/site.yml limited to the exporters layer
# (node_exporter on every host; the other groups are empty), and measure:
#   full converge time, idempotent re-run time, tasks per host (ok count of the recap) and controller
#   time per host-task (converge seconds / (hosts x tasks)). Prints a table and tears everything down.
# Usage: benchmarks/converge.sh [N ...]     (docs/benchmarks.md; 2 CPUs: run N=10 at most once)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export ANSIBLE_CONFIG=$REPO/ansible.cfg
IMAGE=${BM_IMAGE:-monitoring-stack-host:bookworm}
NET=bm-net
SIZES=("${@:-1 5 10}")
read -r -a SIZES <<<"${SIZES[*]}"
WORK=$(mktemp -d /tmp/bm-converge.XXXXXX)
RESULTS=()
# shellcheck source=benchmarks/lab-hosts.sh
. "$REPO/benchmarks/lab-hosts.sh"

cleanup() {
  for c in $(docker ps -aq --filter "name=^bm-[0-9]+$"); do docker rm -f "$c" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

inventory() {
  local n=$1
  local f=$WORK/hosts-$n.yml
  {
    echo "all:"
    echo "  vars: {ansible_connection: community.docker.docker, ansible_python_interpreter: /usr/bin/python3}"
    echo "  children:"
    echo "    node_exporter:"
    echo "      hosts:"
    for i in $(seq 1 "$n"); do echo "        bm-$i:"; done
  } >"$f"
  echo "$f"
}

run() {   # run <inventory> <log>; prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  timeout 1800 .venv/bin/ansible-playbook -i "$1" playbooks/site.yml --tags exporters \
    -e "@$REPO/.cache/mirror/test-vars.yml" -e "monitoring_stack_project_dir=$REPO" \
    -e "monitoring_stack_mirror_url=file://$REPO/.cache/mirror" -e "monitoring_stack_cache_dir=$REPO/.cache/controller" \
    -e '{"node_exporter_basic_auth_users": {"prometheus": "bench-scrape-password"}}' >"$2" 2>&1 \
    || { echo "site.yml failed, see $2" >&2; tail -30 "$2" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

for n in "${SIZES[@]}"; do
  echo "[bench] N=$n: starting containers"
  start_lab_hosts bm "$NET" "$n"
  inv=$(inventory "$n")
  full=$(run "$inv" "$WORK/full-$n.log")
  again=$(run "$inv" "$WORK/again-$n.log")
  ok=$(awk '/^bm-1 +:/ {for (i=1;i<=NF;i++) if ($i ~ /^ok=/) {sub("ok=","",$i); print $i}}' "$WORK/full-$n.log")
  changed=$(awk '/^bm-[0-9]+ +:/ {for (i=1;i<=NF;i++) if ($i ~ /^changed=/) {sub("changed=","",$i); s+=$i}} END {print s+0}' "$WORK/again-$n.log")
  per=$(echo "scale=3; $full / ($n * $ok)" | bc)
  RESULTS+=("$(printf '%-6s %10.1f %12.1f %10s %16s %14s' "$n" "$full" "$again" "$ok" "$per" "$changed")")
  echo "[bench] N=$n done"
done

printf '\n%-6s %10s %12s %10s %16s %14s\n' hosts "converge_s" "idempotent_s" "tasks/host" "s per host·task" "rerun changed"
for row in "${RESULTS[@]}"; do echo "$row"; done
echo "[bench] tearing down bm-* containers and $NET"
