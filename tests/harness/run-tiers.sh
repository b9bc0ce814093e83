#!/usr/bin/env bash
# Run each test tier (a make target), keep going after a failure, then print a
# summary table (tier, result, seconds) and exit non-zero if any tier failed.
#
# A tier written "par:name" runs in a pool of $JOBS parallel slots (default 2): it starts as soon
# as a slot is free and runs alongside the tiers after it. Its output is kept and printed in one
# piece, with its row, when it ends. The pseudo-tier "join" waits until every pool tier has ended;
# a plain tier also waits for the pool first, then runs alone. The pseudo-tier "jobs=N" sets the pool's size for
# the tiers after it (the static tiers at the start are CPU- and network-bound in turn, and take a third slot
# well). Pool tiers are Molecule scenarios
# (one docker network and one controller cache each, so they do not share state) and the static
# tiers, which need nothing from each other.
set -uo pipefail
JOBS=${JOBS:-2}
declare -a names=() results=() secs=()
declare -A pids=() starts=()
failed=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
record() {  # name result seconds
  names+=("$1"); results+=("$2"); secs+=("$3")
  [ "$2" = passed ] || failed=$((failed + 1))
}
# Wait for one pool tier to end (any of them), print its output and record its row.
reap_one() {
  local done_pid tier rc took
  wait -n -p done_pid "${pids[@]}"
  rc=$?
  for tier in "${!pids[@]}"; do
    [ "${pids[$tier]}" = "$done_pid" ] || continue
    took=$(( $(date +%s) - starts[$tier] ))
    printf '\n===== tier %s (ran in the pool): ended after %ss =====\n' "$tier" "$took"
    cat "$logdir/$tier.log"
    if [ "$rc" = 0 ]; then res=passed; else res=FAILED; fi
    record "$tier" "$res" "$took"
    unset "pids[$tier]"
    printf '===== tier %s: %s =====\n' "$tier" "$res"
  done
}
join_pool() {
  while [ ${#pids[@]} -gt 0 ]; do reap_one; done
}
for tier in "$@"; do
  if [ "$tier" = join ]; then
    join_pool
    continue
  fi
  if [[ "$tier" == jobs=* ]]; then
    JOBS=${tier#jobs=}
    continue
  fi
  if [[ "$tier" == par:* ]]; then
    tier=${tier#par:}
    while [ ${#pids[@]} -ge "$JOBS" ]; do reap_one; done
    printf '\n===== tier %s: started in the pool (%s running) =====\n' "$tier" "$(( ${#pids[@]} + 1 ))"
    starts[$tier]=$(date +%s)
    make --no-print-directory "$tier" > "$logdir/$tier.log" 2>&1 &
    pids[$tier]=$!
    continue
  fi
  join_pool
  printf '\n===== tier %s =====\n' "$tier"
  start=$(date +%s)
  if make --no-print-directory "$tier"; then res=passed; else res=FAILED; fi
  record "$tier" "$res" "$(( $(date +%s) - start ))"
done
join_pool
printf '\n%-32s %-8s %8s\n' "tier" "result" "seconds"
printf '%-32s %-8s %8s\n' "--------------------------------" "--------" "--------"
total=0
for i in "${!names[@]}"; do
  printf '%-32s %-8s %8s\n' "${names[$i]}" "${results[$i]}" "${secs[$i]}"
  total=$((total + secs[i]))
done
printf '%-32s %-8s %8s\n' "total (sum of tiers)" "" "$total"
printf '%-32s %-8s %8s\n' "wall clock ($JOBS pool slots)" "" "$SECONDS"
n=${#names[@]}
printf '\ntiers: %d passed, %d failed\n' "$((n - failed))" "$failed"
[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
