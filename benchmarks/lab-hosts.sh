#!/usr/bin/env bash
# Sourced by the benchmarks: start_lab_hosts <prefix> <network> <count> starts <count> systemd containers
# <prefix>-1..<prefix>-<count> of $IMAGE on <network> (created when missing) and waits until each has booted.
# Every systemd container takes several inotify instances; the kernel's default of 128 per user runs out at about
# 25 containers, and their systemd then exits at boot: the limit is raised for the run's size (root only).
start_lab_hosts() {
  local prefix=$1 net=$2 n=$3 need i state
  need=$((n * 16 + 512))
  if [ "$(sysctl -n fs.inotify.max_user_instances)" -lt "$need" ]; then
    echo "[lab] fs.inotify.max_user_instances -> $need (systemd in $n containers)"
    sysctl -qw fs.inotify.max_user_instances="$need"
  fi
  docker network inspect "$net" >/dev/null 2>&1 || docker network create "$net" >/dev/null
  for i in $(seq 1 "$n"); do
    docker inspect "$prefix-$i" >/dev/null 2>&1 && continue
    docker run -d --name "$prefix-$i" --hostname "$prefix-$i" --network "$net" \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns=host --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      "$IMAGE" /lib/systemd/systemd >/dev/null
  done
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 120); do
      state=$(docker exec "$prefix-$i" systemctl is-system-running 2>/dev/null || true)
      [[ $state == running || $state == degraded ]] && break
      sleep 1
    done
    [[ $state == running || $state == degraded ]] || { echo "[lab] $prefix-$i did not boot (state: ${state:-none})" >&2; return 1; }
  done
}
