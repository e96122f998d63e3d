#!/usr/bin/env bash
# Sets everything up, builds tamegrad (Release, CUDA when nvcc is present) and runs the
# main program. Until the MNIST trainer lands that is tg_selfcheck: it checks this build
# on every device (Philox known answers, device round trips, CPU/CUDA-identical draws).
# Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"
# The build's output goes to a log, shown when it fails (compiler errors included).
mkdir -p build
log=build/release.log
if ! { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_BUILD_TESTS=OFF &&
       cmake --build build/release -j "$(nproc)"; } >"$log" 2>&1; then
  grep -E -B2 -A6 'error|Error|FAILED' "$log" | head -n 80 >&2 || tail -n 60 "$log" >&2
  echo "scripts/run.sh: the build failed; the whole log is $log" >&2
  exit 1
fi
exec build/release/examples/tg_selfcheck "$@"
