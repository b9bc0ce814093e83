#!/usr/bin/env bash
# Fleet benchmark (a script, not a test; issue #16, docs/benchmarks.md): N lab hosts (default 30) fb-1..fb-N on
# their own network, node_exporter on every one, Prometheus shards 0 and 1 of 2 on fb-1 and fb-2, VictoriaMetrics
# on fb-3; playbooks/site.yml converges them, then runs again (must change nothing). After the store has
# ingested for SETTLE seconds (default 120) it prints: converge and re-run seconds, targets per shard, samples
# per second ingested (the store's rows inserted over the last minute), bytes per sample on disk and the
# store's disk per day extrapolated from them. Tears everything down at the end (also on failure).
# Usage: benchmarks/fleet.sh [N]      (make fleet N=30; needs make venv collection hosts mirror)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export ANSIBLE_CONFIG=$REPO/ansible.cfg
IMAGE=${BM_IMAGE:-monitoring-stack-host:bookworm}
NET=fb-net
N=${1:-30}
SETTLE=${SETTLE:-120}
PASSWORD=fleet-store-secret
WORK=$(mktemp -d /tmp/bm-fleet.XXXXXX)
# shellcheck source=benchmarks/lab-hosts.sh
. "$REPO/benchmarks/lab-hosts.sh"
[ "$N" -ge 3 ] || { echo "fleet.sh: N must be at least 3 (two shards and the store)" >&2; exit 2; }

cleanup() {
  for c in $(docker ps -aq --filter "name=^fb-[0-9]+$"); do docker rm -f "$c" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "[fleet] starting $N containers"
start_lab_hosts fb "$NET" "$N"

inv=$WORK/hosts.yml
{
  echo "all:"
  echo "  vars:"
  echo "    ansible_connection: community.docker.docker"
  echo "    ansible_python_interpreter: /usr/bin/python3"
  echo "    prometheus_scale_out:"
  echo "      shards: {count: 2, group: prometheus}"
  echo "      store: {group: victoriametrics, basic_auth: {username: metrics, password: $PASSWORD}}"
  echo "    victoriametrics_basic_auth_users: {metrics: $PASSWORD}"
  echo "    victoriametrics_retention_period: 15d"
  echo "  children:"
  echo "    prometheus: {hosts: {fb-1: {}, fb-2: {}}}"
  echo "    victoriametrics: {hosts: {fb-3: {}}}"
  echo "    node_exporter:"
  echo "      hosts:"
  for i in $(seq 1 "$N"); do echo "        fb-$i: {}"; done
} >"$inv"

run() {   # run <log>; prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  timeout 3600 .venv/bin/ansible-playbook -i "$inv" playbooks/site.yml -f 10 \
    -e "@$REPO/.cache/mirror/test-vars.yml" \
    -e "monitoring_stack_mirror_url=file://$REPO/.cache/mirror" -e "monitoring_stack_cache_dir=$REPO/.cache/controller-fleet" \
    -e "monitoring_stack_promtool=$REPO/.cache/tools/bin/promtool" >"$1" 2>&1 \
    || { echo "site.yml failed, see the end of $1:" >&2; tail -40 "$1" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
recap_sum() {  # recap_sum <log> <field>
  awk -v f="$2=" '/^fb-[0-9]+ +:/ {for (i=1;i<=NF;i++) if (index($i, f) == 1) {sub(f,"",$i); s+=$i}} END {print s+0}' "$1"
}
address() {  # address <container>: its address on the benchmark's network (the controller reaches it directly)
  docker inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"
}
first_value() {
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}
prom() {  # prom <host> <query>: the first value
  curl -sf --max-time 10 -G --data-urlencode "query=$2" "http://$(address "$1"):9090/api/v1/query" | first_value
}
store() {  # store <query>: the first value
  curl -sf --max-time 10 -u "metrics:$PASSWORD" -G --data-urlencode "query=$1" \
    "http://$(address fb-3):8428/api/v1/query" | first_value
}
store_metric() {  # store_metric <name prefix>: the sum of the store's own metric
  curl -sf --max-time 10 -u "metrics:$PASSWORD" "http://$(address fb-3):8428/metrics" \
    | awk -v m="$1" 'index($1, m) == 1 {s+=$NF} END {printf "%.0f\n", s}'
}

echo "[fleet] converge ($N hosts)"
full=$(run "$WORK/full.log")
echo "[fleet] converge took $full s"
echo "[fleet] re-run"
again=$(run "$WORK/again.log")
changed=$(recap_sum "$WORK/again.log" changed)
echo "[fleet] re-run took $again s, changed=$changed"
echo "[fleet] letting the store ingest for ${SETTLE}s"
sleep "$SETTLE"
shard0=$(prom fb-1 'count(up)'); shard1=$(prom fb-2 'count(up)')
in_store=$(store 'count(count by (job, instance) (up))')
# Samples per second the shards send the store (remote write), summed over both.
sent0=$(prom fb-1 'sum(rate(prometheus_remote_storage_samples_total[1m]))')
sent1=$(prom fb-2 'sum(rate(prometheus_remote_storage_samples_total[1m]))')
per_s=$(echo "scale=1; $sent0 + $sent1" | bc)
rows=$(store_metric 'vm_rows{type="storage/')
bytes=$(store_metric 'vm_data_size_bytes{type="storage/')
per_sample=$(echo "scale=3; if ($rows > 0) $bytes / $rows else 0" | bc)
per_day=$(echo "scale=1; $per_s * 86400 * $per_sample / 1048576" | bc)

printf '\n%-24s %s\n' "hosts" "$N"
printf '%-24s %.1f s\n' "converge" "$full"
printf '%-24s %.1f s (changed=%s)\n' "re-run" "$again" "$changed"
printf '%-24s %s + %s (store: %s distinct targets)\n' "targets per shard" "$shard0" "$shard1" "$in_store"
printf '%-24s %.1f samples/s (remote write of both shards, last minute)\n' "ingested by the store" "$per_s"
printf '%-24s %s bytes/sample (%s rows, %s bytes after %ss)\n' "store on disk" "$per_sample" "$rows" "$bytes" "$SETTLE"
printf '%-24s %s MiB/day\n' "store disk per day" "$per_day"
[ "$changed" = 0 ] || { echo "[fleet] the re-run changed $changed things" >&2; exit 1; }
echo "[fleet] tearing down fb-* containers and $NET"
