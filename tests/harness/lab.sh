#!/usr/bin/env bash
# The local lab: systemd containers standing in for VMs, on their own Docker network.
# Usage: lab.sh up | down | status
#   LAB_IMAGE   host image (default monitoring-stack-host:bookworm)
#   LAB_HOSTS   inventory names (default "lab-mon lab-db lab-web", as in inventories/lab/hosts.yml)
#   LAB_PREFIX  container name prefix (default empty): a second copy of the lab, e.g. LAB_PREFIX=rb-,
#               runs as rb-lab-mon ... on network rb-monitoring-lab without touching the first one.
#               Inside its network every container also answers to its inventory name.
#   LAB_PUBLISH host whose web UIs (Prometheus 9090, Alertmanager 9093, Pushgateway 9091, Grafana 3000) are
#               published on free 127.0.0.1 ports of this machine (default lab-mon; `lab.sh urls` lists them)
#   LAB_SSH     1 (default): the lab is reached like VMs, over SSH as the user ops with sudo (issue #17);
#               `up` authorizes the harness key (tests/harness/lab-ssh.sh) and writes the connection
#               inventory .cache/lab/<LAB_PREFIX>ssh.yml, which demo.sh adds after inventories/lab/hosts.yml.
#               0: the docker connection of inventories/lab/hosts.yml alone.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=${LAB_PREFIX:-}
NET=${LAB_NET:-${PREFIX}monitoring-lab}
IMAGE=${LAB_IMAGE:-monitoring-stack-host:bookworm}
read -r -a HOSTS <<<"${LAB_HOSTS:-lab-mon lab-db lab-web}"
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-90}
PUBLISH=${LAB_PUBLISH-lab-mon}
SSH=${LAB_SSH:-1}
SSH_INVENTORY=$REPO/.cache/lab/${PREFIX}ssh.yml
log() { printf '[lab] %s\n' "$*"; }

up() {
  docker network inspect "$NET" >/dev/null 2>&1 || docker network create "$NET" >/dev/null
  for h in "${HOSTS[@]}"; do
    c="$PREFIX$h"
    if docker inspect "$c" >/dev/null 2>&1; then
      docker start "$c" >/dev/null
      continue
    fi
    ports=()
    [ "$h" != "$PUBLISH" ] || ports=(-p 127.0.0.1::9090 -p 127.0.0.1::9093 -p 127.0.0.1::9091 -p 127.0.0.1::3000)
    docker run -d --name "$c" --hostname "$h" --network "$NET" --network-alias "$h" "${ports[@]}" \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns=host \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      "$IMAGE" /lib/systemd/systemd >/dev/null
    log "started $c"
  done
  for h in "${HOSTS[@]}"; do
    c="$PREFIX$h" state=unknown
    for _ in $(seq 1 "$BOOT_TIMEOUT"); do
      state=$(docker exec "$c" systemctl is-system-running 2>/dev/null || true)
      [[ "$state" == running || "$state" == degraded ]] && break
      sleep 1
    done
    [[ "$state" == running || "$state" == degraded ]] || { log "$c did not boot within ${BOOT_TIMEOUT}s (state: $state)"; exit 1; }
  done
  if [ "$SSH" = 1 ]; then ssh_inventory; fi
  log "up: ${HOSTS[*]/#/$PREFIX} on network $NET"
}

# The connection inventory of the SSH lab: each host's address, the user ops, the harness key, sudo.
ssh_inventory() {
  local c
  containers=()
  for h in "${HOSTS[@]}"; do containers+=("$PREFIX$h"); done
  bash "$REPO/tests/harness/lab-ssh.sh" install "${containers[@]}"
  mkdir -p "$(dirname "$SSH_INVENTORY")"
  {
    echo "# Written by tests/harness/lab.sh up: the lab reached over SSH like VMs (LAB_SSH=0 turns it off)."
    echo "# Host variables, so that they win over the group variables of inventories/lab/hosts.yml."
    echo "all:"
    echo "  hosts:"
    for h in "${HOSTS[@]}"; do
      c="$PREFIX$h"
      echo "    $h:"
      echo "      ansible_host: $(bash "$REPO/tests/harness/lab-ssh.sh" address "$c")"
      bash "$REPO/tests/harness/lab-ssh.sh" vars 6
    done
  } >"$SSH_INVENTORY"
  log "SSH inventory: $SSH_INVENTORY"
}

# The lab's inventory sources for ansible-playbook: -i options.
inventory_args() {
  echo "-i $REPO/inventories/lab/hosts.yml"
  if [ "$SSH" = 1 ] && [ -s "$SSH_INVENTORY" ]; then echo "-i $SSH_INVENTORY"; fi
}

down() {
  for h in "${HOSTS[@]}"; do
    if docker rm -f "$PREFIX$h" >/dev/null 2>&1; then log "removed $PREFIX$h"; fi
  done
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -f "$SSH_INVENTORY"
}

status() {
  for h in "${HOSTS[@]}"; do
    state=$(docker inspect -f '{{.State.Status}}' "$PREFIX$h" 2>/dev/null) || state=absent
    printf '%-14s %s\n' "$PREFIX$h" "$state"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  inventory) inventory_args ;;
  urls) shift; python3 "$REPO/tests/harness/lab_urls.py" "$PREFIX$PUBLISH" "$@" ;;
  *) echo "usage: $0 up|down|status|inventory|urls [--auth USER:PASSWORD] [--check NAME,...]" >&2; exit 2 ;;
esac
