#!/usr/bin/env bash
# The local lab: systemd containers standing in for VMs, on their own Docker network.
# Usage: lab.sh up | down | status
#   LAB_IMAGE   host image (default monitoring-stack-host:bookworm)
#   LAB_HOSTS   inventory names (default "lab-mon lab-db lab-web", as in inventories/lab/hosts.yml)
#   LAB_PREFIX  container name prefix (default empty): a second copy of the lab, e.g. LAB_PREFIX=rb-,
#               runs as rb-lab-mon ... on network rb-monitoring-lab without touching the first one.
#               Inside its network every container also answers to its inventory name.
set -euo pipefail
PREFIX=${LAB_PREFIX:-}
NET=${LAB_NET:-${PREFIX}monitoring-lab}
IMAGE=${LAB_IMAGE:-monitoring-stack-host:bookworm}
read -r -a HOSTS <<<"${LAB_HOSTS:-lab-mon lab-db lab-web}"
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-90}
log() { printf '[lab] %s\n' "$*"; }

up() {
  docker network inspect "$NET" >/dev/null 2>&1 || docker network create "$NET" >/dev/null
  for h in "${HOSTS[@]}"; do
    c="$PREFIX$h"
    if docker inspect "$c" >/dev/null 2>&1; then
      docker start "$c" >/dev/null
      continue
    fi
    docker run -d --name "$c" --hostname "$h" --network "$NET" --network-alias "$h" \
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
  log "up: ${HOSTS[*]/#/$PREFIX} on network $NET"
}

down() {
  for h in "${HOSTS[@]}"; do
    if docker rm -f "$PREFIX$h" >/dev/null 2>&1; then log "removed $PREFIX$h"; fi
  done
  docker network rm "$NET" >/dev/null 2>&1 || true
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
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
