#!/usr/bin/env bash
# Make sure a Docker engine is available: install docker.io from Debian when
# missing and start dockerd when it is not answering (hosts without systemd).
set -euo pipefail
log() { printf '[ensure-docker] %s\n' "$*"; }

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if docker info >/dev/null 2>&1; then
  log "dockerd already running"
  exit 0
fi

log "starting dockerd"
mkdir -p /var/log
nohup dockerd >/var/log/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "dockerd is up"
    exit 0
  fi
  sleep 1
done
log "dockerd did not come up within 60 s; last log lines:" >&2
tail -n 30 /var/log/dockerd.log >&2 || true
exit 1
