#!/usr/bin/env bash
# Run each test tier (a make target), keep going after a failure, then print a
# summary table (tier, result, seconds) and exit non-zero if any tier failed.
# A tier written "bg:name" starts in the background and runs alongside the tiers after
# it (a long Molecule scenario whose verifier mostly waits for alerts and timers); its
# output is printed, and its row recorded, once the other tiers are done.
set -uo pipefail
declare -a names results secs background
failed=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
record() {  # name result seconds
  names+=("$1"); results+=("$2"); secs+=("$3")
  [ "$2" = passed ] || failed=$((failed + 1))
}
for tier in "$@"; do
  if [[ "$tier" == bg:* ]]; then
    tier=${tier#bg:}
    printf '\n===== tier %s: started in the background =====\n' "$tier"
    date +%s > "$logdir/$tier.start"
    ( make --no-print-directory "$tier" > "$logdir/$tier.log" 2>&1; echo $? > "$logdir/$tier.rc"
      date +%s > "$logdir/$tier.end" ) &
    background+=("$tier:$!")
    continue
  fi
  printf '\n===== tier %s =====\n' "$tier"
  start=$(date +%s)
  if make --no-print-directory "$tier"; then res=passed; else res=FAILED; fi
  record "$tier" "$res" "$(( $(date +%s) - start ))"
done
for entry in "${background[@]}"; do
  tier=${entry%:*}
  printf '\n===== tier %s (ran in the background): waiting for it =====\n' "$tier"
  wait "${entry##*:}"
  cat "$logdir/$tier.log"
  if [ "$(cat "$logdir/$tier.rc")" = 0 ]; then res=passed; else res=FAILED; fi
  record "$tier (background)" "$res" "$(( $(cat "$logdir/$tier.end") - $(cat "$logdir/$tier.start") ))"
done
printf '\n%-32s %-8s %8s\n' "tier" "result" "seconds"
printf '%-32s %-8s %8s\n' "--------------------------------" "--------" "--------"
total=0
for i in "${!names[@]}"; do
  printf '%-32s %-8s %8s\n' "${names[$i]}" "${results[$i]}" "${secs[$i]}"
  total=$((total + secs[i]))
done
printf '%-32s %-8s %8s\n' "total (sum of tiers)" "" "$total"
printf '%-32s %-8s %8s\n' "wall clock" "" "$SECONDS"
n=${#names[@]}
printf '\ntiers: %d passed, %d failed\n' "$((n - failed))" "$failed"
[ "$failed" -eq 0 ]
