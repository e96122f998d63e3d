#!/usr/bin/env bash
# Data-parallel training across hosts (CTest multihost, label distributed). Two hosts are
# made on this machine as network namespaces with 1 Gbit/s links (netns_hosts.sh); Open MPI
# starts one rank on each, over TCP only, reaching each namespace through `ip netns exec`
# as its remote agent (where ssh would reach a real host):
#   1. mnist_train --distributed trains across the hosts: every rank ends with the same bits,
#      equal to those of the same run on one host;
#   2. faults, each during training with a checkpoint per epoch: a rank killed; a host's
#      link taken down (ip link set down); a rank that never starts. Every other rank ends
#      with an error naming the operation and the peer within the time-out, no process of
#      the job is left, and the last checkpoint resumes across the hosts.
# Exits 77 (CTest: skipped), saying why, where namespaces cannot be made (not root, no ip,
# no network administration rights).
# Usage: multihost_test.sh MPIEXEC MNIST_TRAIN
set -uo pipefail
MPIEXEC=$1 trainer=$2
source "$(dirname "$0")/netns_hosts.sh"
work=$(mktemp -d)
cleanup() {
  remove_hosts
  [ -n "${TG_KEEP_WORK:-}" ] && echo "multihost_test: files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
make_hosts 2 1gbit "$work" > "$work/why" || { echo "multihost_test: skipped: $(cat "$work/why")"; exit 77; }
across+=(-x OMP_NUM_THREADS=1)

python3 "$(dirname "$0")/small_mnist.py" "$work/data" 3000 200
common=(--model mlp --dropout 0 --device cpu --threads 1 --seed 3 --data "$work/data"
  --distributed --batch 16)
# Each rank's stderr in a file of its own: a host whose link is down cannot forward it.
cat > "$work/rank" << EOF
#!/bin/bash
exec "\$@" 2> "$work/\$NAME.rank\$OMPI_COMM_WORLD_RANK.err"
EOF
chmod +x "$work/rank"

# 1. One epoch across the hosts, and the same run on this host alone.
NAME=across timeout 300 "${across[@]}" -x NAME=across -np 2 "$work/rank" "$trainer" "${common[@]}" \
  --epochs 1 --save-model "$work/across.safetensors" > "$work/across.out" 2>&1 ||
  fail "across hosts: exit $? ($(tail -3 "$work/across.out"))"
grep -q "parameters bitwise equal on all 2 processes: yes" "$work/across.out" ||
  fail "across hosts: the ranks' parameters differ: $(tail -3 "$work/across.out")"
OMP_NUM_THREADS=1 timeout 300 "$MPIEXEC" --allow-run-as-root --oversubscribe -np 2 "$trainer" \
  "${common[@]}" --epochs 1 --save-model "$work/local.safetensors" > "$work/local.out" 2>&1 ||
  fail "one host: exit $? ($(tail -3 "$work/local.out"))"
if cmp -s "$work/across.safetensors" "$work/local.safetensors"; then
  echo "across hosts: the ranks agree bitwise, and with the same run on one host:" \
    "$(grep -m1 -o 'test_accuracy[^,]*' "$work/across.out")"
else
  fail "across hosts: rank 0's weights differ from the same run on one host"
fi

# 2. Faults. Each starts a 6-epoch run with a checkpoint per epoch and a 5 s time-out, waits
# for the first checkpoint, then breaks something.
timeout_s=5
start_faulty() {  # NAME: the run, in the background
  rm -f "$work/$1.ckpt"
  NAME=$1 "${across[@]}" -x NAME="$1" -np 2 "$work/rank" "$trainer" "${common[@]}" --epochs 6 \
    --checkpoint "$work/$1.ckpt" --dist-timeout $timeout_s > "$work/$1.out" 2>&1 &
  launcher=$!
  for _ in $(seq 600); do
    [ -s "$work/$1.ckpt" ] && break
    kill -0 $launcher 2> /dev/null || break
    sleep 0.1
  done
  [ -s "$work/$1.ckpt" ] || fail "$1: no first checkpoint ($(tail -3 "$work/$1.out"))"
  sleep 0.3  # into the next epoch
}
rank_pids() {  # HOST: the trainer's processes in it
  for pid in $(ip netns pids "$1"); do
    [ "$(cat /proc/"$pid"/comm 2> /dev/null)" = "$(basename "$trainer")" ] && echo "$pid"
  done
}
# NAME LIMIT: every rank gone within LIMIT s (says how long it took).
ranks_end_within() {
  local start=$SECONDS
  while [ -n "$(rank_pids "${hosts[0]}")$(rank_pids "${hosts[1]}")" ]; do
    if [ $((SECONDS - start)) -gt "$2" ]; then
      fail "$1: a rank still runs after $2 s"
      return
    fi
    sleep 0.2
  done
  echo "$1: every rank ended in $((SECONDS - start)) s"
}
# NAME LIMIT: mpirun gone within LIMIT s; its exit code in $code.
launcher_ends_within() {
  for _ in $(seq $(($2 * 10))); do
    kill -0 $launcher 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 $launcher 2> /dev/null; then
    fail "$1: mpirun still runs after $2 s"
    kill -9 $launcher
  fi
  wait $launcher
  code=$?
}
expect_in() {  # NAME FILE PATTERN
  grep -q -- "$3" "$2" || fail "$1: no '$3' in $(basename "$2"): $(tail -4 "$2")"
}
resumes() {  # NAME: the checkpoint resumes across the hosts and the run ends
  NAME=$1-resume timeout 300 "${across[@]}" -x NAME="$1-resume" -np 2 "$work/rank" "$trainer" \
    "${common[@]}" --epochs 6 --resume "$work/$1.ckpt" > "$work/$1-resume.out" 2>&1 ||
    fail "$1: resuming exits $? ($(tail -3 "$work/$1-resume.out"))"
  expect_in "$1" "$work/$1-resume.out" "resumed from"
  expect_in "$1" "$work/$1-resume.out" "parameters bitwise equal on all 2 processes: yes"
}

# A rank killed: mpirun names it and its host; the other says what it was waiting on.
start_faulty killed
victim=$(rank_pids "${hosts[1]}")
[ -n "$victim" ] || fail "killed: no rank on ${hosts[1]} to kill"
kill -9 $victim
ranks_end_within killed $((timeout_s + 10))
launcher_ends_within killed 30
[ $code -ne 0 ] || fail "killed: mpirun exits 0"
expect_in killed "$work/killed.out" "rank 1 .* on node ${hosts[1]} exited on signal 9"
expect_in killed "$work/killed.rank0.err" "rank 0 of 2 (host ${hosts[0]}) was stopped .* during all_reduce with rank 1 (host ${hosts[1]})"
resumes killed

# A link down: each side's collective times out naming the other; the launcher, which cannot
# reach the cut-off host either, ends once the link is back.
start_faulty link
ip -n "${hosts[1]}" link set eth0 down
ranks_end_within "link down" $((timeout_s + 10))
ip -n "${hosts[1]}" link set eth0 up
launcher_ends_within "link back up" 30
[ $code -ne 0 ] || fail "link: mpirun exits 0"
expect_in link "$work/link.rank0.err" "timed out after $timeout_s s on rank 0 of 2 (host ${hosts[0]}): no answer from rank 1 (host ${hosts[1]})"
expect_in link "$work/link.rank1.err" "timed out after $timeout_s s on rank 1 of 2 (host ${hosts[1]}): no answer from rank 0 (host ${hosts[0]})"
resumes link

# A rank that never starts: the other's MPI_Init gives up after the time-out, naming it.
NAME=never timeout 120 "${across[@]}" -x NAME=never -np 1 --host "${hosts[0]}" "$work/rank" \
  "$trainer" "${common[@]}" --epochs 1 --dist-timeout $timeout_s : -np 1 --host "${hosts[1]}" \
  sleep 600 > "$work/never.out" 2>&1
code=$?
[ $code -ne 0 ] && [ $code -ne 124 ] || fail "never: exit $code"
expect_in never "$work/never.rank0.err" "MPI_Init timed out after $timeout_s s on rank 0 of 2 (host ${hosts[0]}): rank 1 did not start"
[ -z "$(rank_pids "${hosts[0]}")$(ip netns pids "${hosts[1]}")" ] || fail "never: processes left"

[ $failures -eq 0 ] && echo "multihost_test: all passed" || exit 1
