#!/usr/bin/env bash
# A short libFuzzer run of one target (tests/fuzz/CMakeLists.txt): new inputs go to a scratch
# corpus, the committed one is read only. Fails on any crash, sanitizer report, leak,
# allocation over 2 GiB or input slower than 10 s; libFuzzer writes the input that did it
# (crash-*, leak-*, oom-*, timeout-*) into the scratch directory and prints its path.
# Usage: run_fuzz_smoke.sh <fuzz binary> <committed corpus> <scratch dir> <seconds>
set -euo pipefail
binary=$1 corpus=$2 scratch=$3 seconds=$4
rm -rf "$scratch"
mkdir -p "$scratch/new"
cd "$scratch"
exec "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 "$scratch/new" "$corpus"
