#!/usr/bin/env bash
# Build the systemd test-host images (Debian 12 and 13) with debootstrap and
# `docker import`. An image whose tag already exists with the current revision (IMAGE_REVISION, bumped
# whenever what goes into an image changes) is reused as it is; an older one is rebuilt.
# The hosts look like VMs to Ansible over SSH too (issue #17): openssh-server runs, and the user `ops`
# (no password, sudo without one) logs in with the key tests/harness/lab-ssh-key.sh installs at start.
# Usage: build-images.sh [suite ...]   (default: bookworm trixie)
set -euo pipefail
log() { printf '[build-images] %s\n' "$*"; }
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
IMAGE_PREFIX=${MONITORING_STACK_IMAGE_PREFIX:-monitoring-stack-host}
MIRROR=${MONITORING_STACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=systemd,systemd-sysv,python3,dbus,iproute2,ca-certificates,sudo,procps,openssh-server
IMAGE_REVISION=2

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

for suite in "${suites[@]}"; do
  tag="${IMAGE_PREFIX}:${suite}"
  rev=$(docker image inspect -f '{{index .Config.Labels "monitoring-stack.revision"}}' "$tag" 2>/dev/null || true)
  if [ "$rev" = "$IMAGE_REVISION" ]; then
    log "$tag (revision $IMAGE_REVISION) exists, reusing it"
    continue
  fi
  [ -z "$rev" ] || log "$tag is revision $rev, rebuilding it as revision $IMAGE_REVISION"
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
  # The SSH user of the lab: a login without password, sudo without one (become: true), as on cloud VMs.
  chroot "$dir" useradd --create-home --shell /bin/bash ops
  echo 'ops ALL=(ALL) NOPASSWD: ALL' >"$dir/etc/sudoers.d/ops"
  chmod 0440 "$dir/etc/sudoers.d/ops"
  install -d -m 0700 "$dir/home/ops/.ssh"
  chroot "$dir" chown ops:ops /home/ops/.ssh
  # Keys only: no password or root login over SSH.
  printf 'PasswordAuthentication no\nPermitRootLogin no\n' >"$dir/etc/ssh/sshd_config.d/lab.conf"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' --change "LABEL monitoring-stack.revision=$IMAGE_REVISION" - "$tag" >/dev/null
  rm -rf "$dir" "$dir.log"
  log "built $tag in $(( $(date +%s) - start )) s"
done
