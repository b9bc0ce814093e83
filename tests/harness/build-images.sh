#!/usr/bin/env bash
# Build the systemd test-host images (Debian 12 and 13) with debootstrap and
# `docker import`. An image whose tag already exists is reused as it is.
# Usage: build-images.sh [suite ...]   (default: bookworm trixie)
set -euo pipefail
log() { printf '[build-images] %s\n' "$*"; }
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
IMAGE_PREFIX=${MONITORING_STACK_IMAGE_PREFIX:-monitoring-stack-host}
MIRROR=${MONITORING_STACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=systemd,systemd-sysv,python3,dbus,iproute2,ca-certificates,sudo,procps

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

for suite in "${suites[@]}"; do
  tag="${IMAGE_PREFIX}:${suite}"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, reusing it"
    continue
  fi
  dir=$(mktemp -d "/var/tmp/rootfs-${suite}.XXXXXX")
  log "debootstrap $suite into $dir"
  start=$(date +%s)
  if ! debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$dir" "$MIRROR" >"$dir.log" 2>&1; then
    tail -n 40 "$dir.log" >&2
    rm -rf "$dir"
    log "debootstrap of $suite failed" >&2
    exit 1
  fi
  # Containers need no getty/udev; masking them keeps boot quiet and fast.
  for unit in getty.target console-getty.service systemd-udevd.service \
              systemd-udev-trigger.service systemd-networkd-wait-online.service; do
    ln -sf /dev/null "$dir/etc/systemd/system/$unit"
  done
  rm -f "$dir/etc/machine-id" && touch "$dir/etc/machine-id"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' - "$tag" >/dev/null
  rm -rf "$dir" "$dir.log"
  log "built $tag in $(( $(date +%s) - start )) s"
done
