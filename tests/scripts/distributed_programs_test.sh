#!/usr/bin/env bash
# Distributed programs under mpirun (CTest distributed_programs, label distributed):
#   - mnist_train --distributed on 2 processes (--batch 16 each) trains like one process
#     with --batch 32: the same losses and accuracy within float tolerance; only rank 0
#     writes the metrics; a checkpoint resumes with 2 processes and is refused with 1;
#   - gradient buckets of any size (--bucket-mb: one per parameter, the default, one per
#     buffer without overlap) train the same bits, on 2 and 3 processes, and with gradient
#     accumulation;
#   - set-ups that must end with a clear error, never a hang: ranks that built different
#     models, a data set whose last global batch leaves a rank without images, a rank that
#     sleeps past the collective time-out (tg_distributed_probe hang: named with its host),
#     a rank that dies (tg_distributed_probe die: the other says what it was doing when
#     mpirun stopped it), a rank that never starts (MPI_Init's watchdog names it).
# Across hosts (network namespaces): tests/scripts/multihost_test.sh.
# Usage: distributed_programs_test.sh MPIEXEC PROBE MNIST_TRAIN
set -uo pipefail
mpiexec=$1 probe=$2 trainer=$3
run=("$mpiexec" --allow-run-as-root --oversubscribe)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

python3 "$(dirname "$0")/small_mnist.py" "$work/data"  # 300 training, 100 test images

common=(--model mlp --dropout 0 --device cpu --threads 1 --seed 3 --data "$work/data")
"${run[@]}" -np 2 "$trainer" --distributed --batch 16 --epochs 2 "${common[@]}" --metrics "$work/d.jsonl" \
  --checkpoint "$work/d.ckpt" > "$work/d.out" 2>&1 || fail "2 processes: exit $? ($(tail -3 "$work/d.out"))"
"$trainer" --batch 32 --epochs 2 "${common[@]}" --metrics "$work/s.jsonl" > "$work/s.out" 2>&1 ||
  fail "one process: exit $?"
python3 - "$work/d.jsonl" "$work/s.jsonl" <<'PY' || fail "2 processes differ from one process on the combined batch"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
assert len(d) == 2, f"rank 0 alone writes the metrics: {len(d)} lines"
for a, b in zip(d, s):
    for key in ("train_loss", "test_loss"):
        assert abs(a[key] - b[key]) <= 1e-4 * abs(b[key]), (key, a[key], b[key])
    assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 0.011, (a["test_accuracy"], b["test_accuracy"])
print("distributed: 2 x batch 16 equals 1 x batch 32:", [(a["train_loss"], b["train_loss"]) for a, b in zip(d, s)])
PY
grep -q '"world_size": 2' "$work/d.out" || fail "the summary names the world size: $(tail -1 "$work/d.out")"

for np in 2 3; do
  for mb in 0 25 0.00001; do
    "${run[@]}" -np $np "$trainer" --distributed --batch 8 --epochs 1 "${common[@]/mlp/cnn}" \
      --limit 120 --bucket-mb $mb --save-model "$work/b$np-$mb.safetensors" > "$work/b.out" 2>&1 ||
      fail "$np processes, --bucket-mb $mb: exit $? ($(tail -3 "$work/b.out"))"
  done
  for mb in 25 0.00001; do
    cmp -s "$work/b$np-0.safetensors" "$work/b$np-$mb.safetensors" ||
      fail "$np processes: --bucket-mb $mb trained other bits than whole buffers"
  done
  echo "buckets: $np processes, --bucket-mb 0 / 25 / 0.00001 (a bucket per parameter): the same bits"
done
# With gradient accumulation only the group's last backward starts the buckets.
for mb in 0 0.00001; do
  "${run[@]}" -np 2 "$trainer" --distributed --batch 8 --accumulate 3 --epochs 1 "${common[@]}" \
    --bucket-mb $mb --save-model "$work/acc-$mb.safetensors" > "$work/b.out" 2>&1 ||
    fail "--accumulate 3, --bucket-mb $mb: exit $? ($(tail -3 "$work/b.out"))"
done
cmp -s "$work/acc-0.safetensors" "$work/acc-0.00001.safetensors" &&
  echo "buckets: --accumulate 3 trains the same bits with a bucket per parameter as whole" ||
  fail "--accumulate 3: buckets trained other bits than whole buffers"

"${run[@]}" -np 2 "$trainer" --distributed --batch 16 "${common[@]}" --epochs 2 --resume "$work/d.ckpt" \
  > "$work/r.out" 2>&1 || fail "resume with 2 processes: exit $? ($(tail -3 "$work/r.out"))"
grep -q "resumed from" "$work/r.out" || fail "resume with 2 processes did not resume"
"$trainer" --batch 16 "${common[@]}" --epochs 2 --resume "$work/d.ckpt" > "$work/r1.out" 2>&1
code=$?
[ $code -eq 2 ] && grep -qF "processes (--distributed) 1 (the checkpoint's: 2)" "$work/r1.out" ||
  fail "resume with 1 process: exit $code, $(tail -2 "$work/r1.out")"

expect_error() {  # NAME PATTERN COMMAND...: a non-zero exit within 120 s, PATTERN in the output
  local name=$1 pattern=$2
  shift 2
  local start=$SECONDS
  timeout 120 "$@" > "$work/$name.out" 2>&1
  local code=$?
  if [ $code -eq 0 ] || [ $code -eq 124 ]; then
    fail "$name: exit $code (a hang or no error): $(tail -5 "$work/$name.out")"
  elif ! grep -q -- "$pattern" "$work/$name.out"; then
    fail "$name: exit $code without '$pattern': $(tail -8 "$work/$name.out")"
  else
    echo "$name: exit $code after $((SECONDS - start)) s: $(grep -m1 -- "$pattern" "$work/$name.out")"
  fi
}
expect_error models "the ranks built different models" "${run[@]}" \
  -np 1 "$trainer" --distributed --batch 16 --epochs 1 "${common[@]}" : \
  -np 1 "$trainer" --distributed --batch 16 --epochs 1 "${common[@]/mlp/cnn}"
expect_error shards "every shard needs one" "${run[@]}" -np 2 "$trainer" --distributed --batch 100 \
  --limit 201 --epochs 1 "${common[@]}"
expect_error hang "barrier timed out after 1 s on rank 0 of 2 (host .*): no answer from rank 1 (host" "${run[@]}" -np 2 "$probe" hang
expect_error die "rank 0 of 2 (host .*) was stopped by SIGTERM (mpirun ends the job so when another rank failed, or when it is interrupted) during all_reduce with rank 1" \
  "${run[@]}" -np 2 "$probe" die
expect_error never "MPI_Init timed out after 2 s on rank 0 of 2 (host .*): rank 1 did not start" \
  "${run[@]}" -np 1 "$trainer" --distributed --dist-timeout 2 "${common[@]}" : -np 1 sleep 60

[ $failures -eq 0 ] && echo "distributed_programs_test: all passed" || exit 1
