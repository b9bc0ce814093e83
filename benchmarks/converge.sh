#!/usr/bin/env bash
# Converge benchmark against the physical floor (a script, not a test; issue #17, docs/benchmarks.md).
# For each N (default "1 10 30") and each mode (BM_MODES, default "mitogen plain") it starts N fresh systemd
# containers bm-1..bm-N on their own network, reached like VMs (BM_CONNECTION=ssh, the default: ssh
# as the user ops with sudo, pipelining and ControlPersist; BM_CONNECTION=docker for the docker connection), runs
# playbooks/site.yml --tags exporters (node_exporter and blackbox_exporter on every host) twice, then the floor: a play of K no-op
# `ping` tasks with the same connection settings, K being the re-run's module calls per host. It prints:
#   converge_s, rerun_s   wall times of the full converge and of the idempotent re-run (its changed= must be 0)
#   calls/host            module calls per host in the re-run (benchmarks/callback_plugins/roundtrips.py:
#                         tasks and loop items that ran on the host; controller-only tasks not counted)
#   per role              of those, the most any one daemon role's play made (node_exporter, blackbox_exporter;
#                         each play's count is printed below the table)
#   floor_s               wall time of K no-op tasks on the same hosts
#   rerun/floor           rerun_s / floor_s: what the re-run costs above bare round trips
# Usage: benchmarks/converge.sh [N ...]      (make bench N="1 10 30"; MITOGEN=0 in make or BM_MODES=plain;
#        BM_KEEP=1 keeps the logs and the calls of each run, benchmarks/callback_plugins/roundtrips.py)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export ANSIBLE_CONFIG=$REPO/ansible.cfg
IMAGE=${BM_IMAGE:-monitoring-stack-host:bookworm}
NET=bm-net
CONNECTION=${BM_CONNECTION:-ssh}
read -r -a MODES <<<"${BM_MODES:-mitogen plain}"
SIZES=("${@:-1 10 30}")
read -r -a SIZES <<<"${SIZES[*]}"
WORK=$(mktemp -d /tmp/bm-converge.XXXXXX)
MITOGEN_STRATEGY=$(find "$REPO"/.venv/lib/python3*/site-packages/ansible_mitogen/plugins -maxdepth 1 -name strategy 2>/dev/null | head -n1)
RESULTS=()
PLAYS=()
# shellcheck source=benchmarks/lab-hosts.sh
. "$REPO/benchmarks/lab-hosts.sh"

remove_hosts() {
  for c in $(docker ps -aq --filter "name=^bm-[0-9]+$"); do docker rm -f "$c" >/dev/null 2>&1 || true; done
}
cleanup() {
  remove_hosts
  docker network rm "$NET" >/dev/null 2>&1 || true
  if [ "${BM_KEEP:-0}" = 1 ]; then echo "[bench] logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

inventory() {  # inventory <n>: prints the path of the inventory of bm-1..bm-n
  local n=$1 f=$WORK/hosts-$1.yml i
  {
    echo "all:"
    echo "  vars:"
    echo "    ansible_python_interpreter: /usr/bin/python3"
    if [ "$CONNECTION" = ssh ]; then
      bash tests/harness/lab-ssh.sh vars 4
    else
      echo "    ansible_connection: community.docker.docker"
    fi
    echo "  children:"
    echo "    blackbox_exporter:"
    echo "      children: {node_exporter: {}}"
    echo "    node_exporter:"
    echo "      hosts:"
    for i in $(seq 1 "$n"); do
      if [ "$CONNECTION" = ssh ]; then
        echo "        bm-$i: {ansible_host: $(bash tests/harness/lab-ssh.sh address "bm-$i")}"
      else
        echo "        bm-$i:"
      fi
    done
  } >"$f"
  echo "$f"
}

strategy_env() {  # strategy_env <mode>: the environment of ansible-playbook for this mode
  if [ "$1" = mitogen ]; then
    echo "ANSIBLE_STRATEGY_PLUGINS=$MITOGEN_STRATEGY ANSIBLE_STRATEGY=mitogen_linear"
  else
    echo "ANSIBLE_STRATEGY=linear"
  fi
}

timed() {  # timed <mode> <log> <ansible-playbook args...>; prints seconds
  local mode=$1 log=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  # shellcheck disable=SC2046
  env $(strategy_env "$mode") ANSIBLE_CALLBACK_PLUGINS="$REPO/benchmarks/callback_plugins" \
    ANSIBLE_CALLBACKS_ENABLED=roundtrips ROUNDTRIPS_FILE="$log.calls.json" \
    timeout 3600 .venv/bin/ansible-playbook "$@" >"$log" 2>&1 \
    || { echo "ansible-playbook $* failed, see $log" >&2; tail -30 "$log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

site() {  # site <mode> <inventory> <log>
  timed "$1" "$3" -i "$2" playbooks/site.yml --tags exporters \
    -e "@$REPO/.cache/mirror/test-vars.yml" -e "monitoring_stack_project_dir=$REPO" \
    -e "monitoring_stack_mirror_url=file://$REPO/.cache/mirror" -e "monitoring_stack_cache_dir=$REPO/.cache/controller" \
    -e '{"node_exporter_basic_auth_users": {"prometheus": "bench-scrape-password"}}' \
    -e '{"blackbox_exporter_basic_auth_users": {"prometheus": "bench-scrape-password"}}'
}

floor_playbook() {  # floor_playbook <k>: K no-op tasks on the node_exporter hosts, no facts
  local k=$1 f=$WORK/floor-$1.yml i
  {
    echo "- name: The floor, $k no-op module calls per host"
    echo "  hosts: node_exporter"
    echo "  gather_facts: false"
    echo "  tasks:"
    for i in $(seq 1 "$k"); do
      echo "    - {name: no-op $i, ansible.builtin.ping: {}}"
    done
  } >"$f"
  echo "$f"
}

calls() {  # calls <json> total|role|plays: module calls of bm-1 in all, most of one daemon play, each play
  python3 -c 'import json, sys
data = json.load(open(sys.argv[1])).get("bm-1", {})
daemons = {k: v for k, v in data.items() if k.startswith("Deploy ")}
if sys.argv[2] == "total":
    print(sum(data.values()))
elif sys.argv[2] == "role":
    print(max(daemons.values(), default=0))
else:
    print("; ".join("%s %d" % (k, v) for k, v in sorted(data.items())))' "$@"
}

for n in "${SIZES[@]}"; do
  for mode in "${MODES[@]}"; do
    echo "[bench] N=$n $mode over $CONNECTION: starting fresh containers"
    remove_hosts
    start_lab_hosts bm "$NET" "$n"
    if [ "$CONNECTION" = ssh ]; then
      mapfile -t names < <(seq -f "bm-%g" 1 "$n")
      bash tests/harness/lab-ssh.sh install "${names[@]}"
    fi
    inv=$(inventory "$n")
    full=$(site "$mode" "$inv" "$WORK/full-$n-$mode.log")
    again=$(site "$mode" "$inv" "$WORK/again-$n-$mode.log")
    changed=$(awk '/^bm-[0-9]+ +:/ {for (i=1;i<=NF;i++) if ($i ~ /^changed=/) {sub("changed=","",$i); s+=$i}} END {print s+0}' \
      "$WORK/again-$n-$mode.log")
    k=$(calls "$WORK/again-$n-$mode.log.calls.json" total)
    role=$(calls "$WORK/again-$n-$mode.log.calls.json" role)
    PLAYS+=("N=$n $mode: $(calls "$WORK/again-$n-$mode.log.calls.json" plays)")
    floor=$(timed "$mode" "$WORK/floor-$n-$mode.log" -i "$inv" "$(floor_playbook "$k")")
    ratio=$(echo "scale=2; $again / $floor" | bc)
    RESULTS+=("$(printf '%-6s %-8s %10.1f %9.1f %10s %9s %9.1f %12s %8s' "$n" "$mode" "$full" "$again" "$k" "$role" "$floor" \
      "$ratio" "$changed")")
    echo "[bench] N=$n $mode: converge ${full} s, re-run ${again} s (changed=$changed), $k calls/host, floor ${floor} s"
  done
done

printf '\nconnection: %s, forks %s, %s CPUs\n' "$CONNECTION" "$(.venv/bin/ansible-config dump 2>/dev/null | sed -n 's/^DEFAULT_FORKS.*= //p')" "$(nproc)"
printf '%-6s %-8s %10s %9s %10s %9s %9s %12s %8s\n' hosts mode converge_s rerun_s calls/host "per role" floor_s rerun/floor changed
for row in "${RESULTS[@]}"; do echo "$row"; done
echo "module calls per host and play in the re-run:"
for row in "${PLAYS[@]}"; do echo "  $row"; done
echo "[bench] tearing down bm-* containers and $NET"
