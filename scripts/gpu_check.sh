#!/usr/bin/env bash
# Everything a lent GPU machine is for, in one call (the machine starts bare each time):
#   1. the machine: GPU, driver, nvcc, cuDNN (the toolkit's, or PyTorch's nvidia-cudnn
#      wheel through CUDNN_ROOT);
#   2. dependencies the bare machine lacks (OpenBLAS, zlib, GoogleTest), from Debian
#      packages carried in .deps/ and unpacked under /tmp/tg-deps, never over /;
#   3. a CUDA build for sm_90, every test (the cuda label included, now with a GPU);
#   4. the cuda tests under compute-sanitizer: memcheck, racecheck, initcheck, synccheck;
#   5. the benchmarks: bench_kernels (ours), bench/torch_peer.py (PyTorch, side by side),
#      bench_ops.
# Every log goes to build/gpu_logs; $OUT (or build/gpu_out) receives at most 8 files (the
# device tool's limit): the summary, the machine, the benchmark outputs and logs.tar.gz.
# The last lines printed are a summary table.
#
# Fill .deps/ on a Debian machine first:
#   (mkdir -p .deps && cd .deps && apt-get download libopenblas0-openmp \
#     libopenblas-openmp-dev libopenblas0 libgfortran5 libquadmath0 \
#     zlib1g-dev zlib1g googletest libgtest-dev)
# then call the device tool with carry [".deps"] and command scripts/gpu_check.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"  # nvcc, compute-sanitizer
results="${OUT:-build/gpu_out}"
out=build/gpu_logs
mkdir -p "$results" "$out"
summary=()
failures=0
step() {  # step NAME COMMAND...: runs, logs to $out/NAME.log, records pass/fail
  local name=$1
  shift
  local start=$SECONDS
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  summary+=("$(printf '%-28s %-5s %4ss' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAIL:$rc)" $((SECONDS - start)))")
  tail -n 5 "$out/$name.log"
  [ $rc -eq 0 ] || failures=$((failures + 1))
  return $rc
}

# ---- 1. the machine ------------------------------------------------------------------
{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  nvcc --version | tail -n 2
  cmake --version | head -n 1
} | tee "$out/machine.txt"

# ---- 2. dependencies -----------------------------------------------------------------
deps=/tmp/tg-deps
cmake_args=(-DTG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release)
if compgen -G ".deps/*.deb" >/dev/null; then
  mkdir -p "$deps"
  for f in .deps/*.deb; do dpkg -x "$f" "$deps"; done
  lib="$deps/usr/lib/x86_64-linux-gnu"
  export LD_LIBRARY_PATH="$lib/openblas-openmp:$lib:$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  cmake_args+=(-DTG_BLAS_LIBRARY="$lib/openblas-openmp/libopenblas.so"
               -DTG_GTEST_SOURCE_DIR="$deps/usr/src/googletest"
               -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$(ls "$deps"/lib/x86_64-linux-gnu/libz.so.1.* | head -n 1)")
fi
if [ ! -f /usr/local/cuda/include/cudnn.h ] && [ -z "${CUDNN_ROOT:-}" ]; then
  CUDNN_ROOT=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null)
  export CUDNN_ROOT
  export LD_LIBRARY_PATH="$CUDNN_ROOT/lib:${LD_LIBRARY_PATH:-}"
fi
echo "CUDNN_ROOT=${CUDNN_ROOT:-<toolkit>}" | tee -a "$out/machine.txt"

# ---- 3. build and test ---------------------------------------------------------------
give_up() {
  printf '%s\n' "${summary[@]}"
  tar -czf "$results/logs.tar.gz" -C "$out" .
  exit 1
}
step configure cmake -S . -B build/gpu -G Ninja "${cmake_args[@]}" || give_up
step build cmake --build build/gpu -j "$(nproc)" || give_up
step selfcheck build/gpu/examples/tg_selfcheck
step ctest_all ctest --test-dir build/gpu --output-on-failure -j 8
step ctest_cuda_verbose ctest --test-dir build/gpu -L cuda --output-on-failure -V

# ---- 4. compute-sanitizer ------------------------------------------------------------
# Parity cases over 70k elements are left out here: the tools slow kernels 10-100x, and
# the small cases cover every kernel and every boundary. The full set ran above.
export TG_PARITY_MAX_ELEMENTS=70000
for tool in memcheck racecheck initcheck synccheck; do
  extra=()
  [ "$tool" = memcheck ] && extra=(--leak-check full)
  step "sanitizer_$tool" timeout 900 compute-sanitizer --tool "$tool" "${extra[@]}" --error-exitcode 1 \
    build/gpu/tests/tg_cuda_tests
done
unset TG_PARITY_MAX_ELEMENTS

# ---- 5. benchmarks -------------------------------------------------------------------
step bench_kernels build/gpu/bench/bench_kernels
build/gpu/bench/bench_kernels --json >"$out/bench_ours.jsonl" 2>&1
step bench_torch_peer python3 bench/torch_peer.py --ours "$out/bench_ours.jsonl"
step bench_ops build/gpu/bench/bench_ops

echo
echo "==== summary ($(sed -n 3p "$out/machine.txt"))"
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
for f in summary.txt machine.txt bench_kernels.log bench_ours.jsonl bench_torch_peer.log bench_ops.log; do
  [ -f "$out/$f" ] && cp "$out/$f" "$results/"
done
tar -czf "$results/logs.tar.gz" -C "$out" .
exit $((failures > 0))
