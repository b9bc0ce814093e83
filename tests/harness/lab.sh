#!/usr/bin/env bash
# The local lab: systemd containers standing in for VMs, on their own Docker network.
# Usage: lab.sh up | down | status
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
NET=monitoring-lab
IMAGE=${LAB_IMAGE:-monitoring-stack-host:bookworm}
HOSTS=(${LAB_HOSTS:-lab-mon lab-db lab-web})
log() { printf '[lab] %s\n' "$*"; }

up() {
  docker network inspect "$NET" >/dev/null 2>&1 || docker network create "$NET" >/dev/null
  for h in "${HOSTS[@]}"; do
    if docker inspect "$h" >/dev/null 2>&1; then
      docker start "$h" >/dev/null
      continue
    fi
    docker run -d --name "$h" --hostname "$h" --network "$NET" \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns=host \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      "$IMAGE" /lib/systemd/systemd >/dev/null
    log "started $h"
  done
  for h in "${HOSTS[@]}"; do
    for _ in $(seq 1 60); do
      state=$(docker exec "$h" systemctl is-system-running 2>/dev/null || true)
      [[ "$state" == running || "$state" == degraded ]] && break
      sleep 1
    done
  done
  log "up: ${HOSTS[*]} on network $NET"
}

down() {
  for h in "${HOSTS[@]}"; do docker rm -f "$h" >/dev/null 2>&1 && log "removed $h" || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
}

status() {
  for h in "${HOSTS[@]}"; do
    printf '%-10s %s\n' "$h" "$(docker inspect -f '{{.State.Status}}' "$h" 2>/dev/null || echo absent)"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
