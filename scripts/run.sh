#!/usr/bin/env bash
# Sets everything up, builds tamegrad (Release, CUDA when nvcc is present) and runs the
# main program. Until the MNIST trainer lands that is tg_selfcheck: it checks this build
# on every device (Philox known answers, device round trips, CPU/CUDA-identical draws).
# Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
exec build/release/examples/tg_selfcheck "$@"
