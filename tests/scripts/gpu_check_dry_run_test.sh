#!/usr/bin/env bash
# scripts/gpu_check.sh without a GPU (CTest gpu_check_dry_run): with a fake nvidia-smi that
# fails as on a machine without a driver, --dry-run runs every phase's bookkeeping and
# exits 0 saying "no GPU", writing the machine, one verdict file per phase and the summary;
# without --dry-run it exits 3 saying "no GPU" and runs nothing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "gpu_check_dry_run: $*" >&2; exit 1; }
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2\nexit 9\n' \
  > "$work/bin/nvidia-smi"
chmod +x "$work/bin/nvidia-smi"

OUT="$work/dry" PATH="$work/bin:$PATH" bash "$root/scripts/gpu_check.sh" --dry-run > "$work/dry.log" 2>&1
code=$?
[ $code -eq 0 ] || fail "--dry-run exited $code: $(tail -5 "$work/dry.log")"
grep -q "no GPU: dry run" "$work/dry/summary.txt" || fail "the summary does not say 'no GPU': $(cat "$work/dry/summary.txt")"
i=1
for phase in build cuda selfcheck bench train sanitize; do
  f="$work/dry/phase-$i-$phase.txt"
  [ -f "$f" ] || fail "no verdict file for $phase ($(ls "$work/dry"))"
  grep -qE "^$phase +skip " "$f" || fail "$phase: $(head -n 1 "$f")"
  grep -qE "^$phase +skip " "$work/dry/summary.txt" || fail "the summary lacks $phase"
  i=$((i + 1))
done
grep -q "^gpu: none" "$work/dry/machine.txt" || fail "machine.txt: $(head -n 1 "$work/dry/machine.txt")"
grep -q "ctest_cuda .*dry run" "$work/dry/phase-2-cuda.txt" || fail "the cuda phase's step is not listed"
[ -f "$work/dry/logs.tar.gz" ] || fail "no logs.tar.gz"
# One phase by name, in a run of its own.
OUT="$work/one" PATH="$work/bin:$PATH" bash "$root/scripts/gpu_check.sh" --dry-run train > "$work/one.log" 2>&1 ||
  fail "--dry-run train: $(tail -3 "$work/one.log")"
[ -f "$work/one/phase-2-train.txt" ] && [ ! -f "$work/one/phase-3-sanitize.txt" ] ||
  fail "--dry-run train ran other phases: $(ls "$work/one")"
# Without --dry-run: "no GPU", exit 3, nothing built.
OUT="$work/real" PATH="$work/bin:$PATH" bash "$root/scripts/gpu_check.sh" > "$work/real.log" 2>&1
code=$?
[ $code -eq 3 ] || fail "without a GPU the script exited $code, not 3"
grep -q "no GPU" "$work/real/summary.txt" || fail "without a GPU the summary does not say so"
compgen -G "$work/real/phase-*" > /dev/null && fail "without a GPU a phase ran"
# A phase that does not exist is refused.
OUT="$work/bad" bash "$root/scripts/gpu_check.sh" --dry-run warp > /dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown phase was not refused with exit 2"
echo "gpu_check_dry_run: ok"
