#!/usr/bin/env bash
# Sets everything up, builds tamegrad (Release, CUDA when nvcc is present) and runs the
# main program: mnist_train, which trains the MNIST MLP on Fashion-MNIST (Debian's
# dataset-fashion-mnist, installed by setup.sh) and prints its test accuracy. Extra
# arguments go to the trainer (scripts/run.sh --model cnn --epochs 2; --help lists all).
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
exec build/release/examples/mnist_train "$@"
