#!/usr/bin/env bash
# How much of the gradients' all-reduce DataParallel's buckets hide behind backward
# (Note [gradient buckets]): tg_distributed_probe overlap for the MNIST CNN and a
# 100M-parameter MLP,
#   - on this host (shared memory), 2 and 4 processes, buckets of 25 MiB (the default) and
#     0.25 MiB;
#   - across 2 hosts made as network namespaces (tests/scripts/netns_hosts.sh; needs root),
#     over TCP links of 10 Gbit/s (both models) and 1 Gbit/s (the CNN), buckets from 25 MiB
#     down to 0.05 MiB.
# One thread per process, as mnist_train --distributed runs here.
# Usage: bench/overlap.sh [BUILD_DIR]   (default build/cpu)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/cpu}
probe=$build/tests/tg_distributed_probe
[ -x "$probe" ] || { echo "overlap.sh: no $probe (build the tests first)" >&2; exit 1; }
MPIEXEC=$(command -v mpirun)
export OMP_NUM_THREADS=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
echo "# $(date -u +%F) $(git -C "$root" rev-parse --short HEAD), $(nproc --all) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "## one host, shared memory"
for np in 2 4; do
  for mb in 25 0.25; do
    echo "### $np processes, --bucket-mb $mb"
    "$MPIEXEC" --allow-run-as-root --oversubscribe --bind-to none -np $np "$probe" overlap $mb |
      grep -v '^probe:'
  done
done

source "$root/tests/scripts/netns_hosts.sh"
work=$(mktemp -d)
trap 'remove_hosts; rm -rf "$work"' EXIT
for rate in 10gbit 1gbit; do
  remove_hosts
  if ! make_hosts 2 "$rate" "$work" > "$work/why"; then
    echo "## across hosts: skipped ($(cat "$work/why"))"
    exit 0
  fi
  which=both
  [ $rate = 1gbit ] && which=cnn
  for mb in 25 1 0.25 0.05; do
    echo "### 2 hosts, $rate links, --bucket-mb $mb"
    "${across[@]}" -x OMP_NUM_THREADS -np 2 "$probe" overlap $mb $which | grep -v '^probe:'
  done
done
