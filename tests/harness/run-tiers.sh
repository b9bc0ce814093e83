#!/usr/bin/env bash
# Run each test tier (a make target), keep going after a failure, then print a
# summary table (tier, result, seconds) and exit non-zero if any tier failed.
set -uo pipefail
declare -a names results secs
failed=0
for tier in "$@"; do
  printf '\n===== tier %s =====\n' "$tier"
  start=$(date +%s)
  if make --no-print-directory "$tier"; then res=passed; else res=FAILED; failed=$((failed + 1)); fi
  names+=("$tier"); results+=("$res"); secs+=("$(( $(date +%s) - start ))")
done
printf '\n%-32s %-8s %8s\n' "tier" "result" "seconds"
printf '%-32s %-8s %8s\n' "--------------------------------" "--------" "--------"
total=0
for i in "${!names[@]}"; do
  printf '%-32s %-8s %8s\n' "${names[$i]}" "${results[$i]}" "${secs[$i]}"
  total=$((total + secs[i]))
done
printf '%-32s %-8s %8s\n' "total" "" "$total"
n=${#names[@]}
printf '\ntiers: %d passed, %d failed\n' "$((n - failed))" "$failed"
[ "$failed" -eq 0 ]
