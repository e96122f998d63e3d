#!/usr/bin/env bash
# Everything a lent GPU machine is for, in one device call of at most 8 minutes (the machine
# starts bare each time and reaches no package registry).
#
# Here, on the CPU machine, first:
#   scripts/gpu_check.sh --prepare
# fills .deps/ with the Debian packages the bare machine lacks (OpenBLAS, zlib, GoogleTest,
# CLI11, nlohmann-json) and data/fashion-mnist/ with the training data, writes the commit
# and `git status --porcelain` to .deps/prepared.txt (the device copy's .git has lagged its
# files), checks that both fit the device tool's 64 MiB, and prints the carry list and the
# one command to give the device tool.
#
# There, the phases in order of value, each cut at the deadline and each writing its verdict
# (pass / fail / skip, with counts, and its seconds) to $OUT as it finishes, so a run that is
# cut off still returns what it did:
#   cuda       every `cuda`-labelled test (ctest -L cuda): the GPU's own tests;
#   selfcheck  tg_selfcheck: CPU and GPU draws bit-identical, round trips;
#   bench      bench_kernels beside bench/torch_peer.py, and bench_train_step --device cuda
#              beside bench/torch_train_step.py --device cuda (eager and CUDA graph);
#   train      mnist_train --device cuda, MLP 10 epochs and CNN 5, beside
#              bench/torch_mnist.py --device cuda with the same recipe;
#   sanitize   compute-sanitizer on tg_cuda_tests: memcheck (leaks too, judged by
#              scripts/memcheck_summary.py), initcheck and synccheck on every case up to
#              70,000 elements, racecheck on the kernels that share memory or shuffle
#              (reductions, softmax, batchnorm, norms, telemetry, updates).
# Only what the phases run is built. CPU-only tests stay out: CI runs them.
#
#   scripts/gpu_check.sh [--dry-run] [cuda] [selfcheck] [bench] [train] [sanitize]
#     (no phase named: all five, in this order)
#   --dry-run  no GPU needed: every phase's bookkeeping runs with its commands replaced by a
#              line saying what would run (the suite's gpu_check_dry_run test).
# Without a GPU (and without --dry-run) the script says "no GPU" and exits 3.
#
# TG_GPU_DEADLINE (seconds from the start, default 470) bounds the run; a step that would
# start too late is "not run (deadline)", a running one is cut (FAIL:124). Logs go to
# build/gpu_logs; $OUT (or build/gpu_out) receives the verdicts, the machine, the benchmark
# tables and logs.tar.gz.
set -uo pipefail
cd "$(dirname "$0")/.."

# The Debian packages .deps/ carries, and where the data comes from.
deb_packages=(libopenblas0-openmp libopenblas-openmp-dev libopenblas0 libgfortran5 libquadmath0
  zlib1g-dev zlib1g googletest libgtest-dev libcli11-dev nlohmann-json3-dev)
data_source=/usr/share/datasets/fashion-mnist
carry_limit=$((64 * 1024 * 1024))

prepare() {
  set -e
  mkdir -p .deps data/fashion-mnist
  rm -f .deps/*.deb
  (cd .deps && apt-get download "${deb_packages[@]}" >/dev/null) ||
    { echo "gpu_check --prepare: apt-get download failed (network? apt-get update?)" >&2; exit 1; }
  [ -d "$data_source" ] ||
    { echo "gpu_check --prepare: $data_source is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  cp "$data_source"/*-ubyte.gz data/fashion-mnist/
  {
    echo "commit: $(git rev-parse HEAD)"
    echo "prepared: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
    if [ -n "$(git status --porcelain)" ]; then
      echo "uncommitted changes (git status --porcelain):"
      git status --porcelain | sed 's/^/  /'
    else
      echo "uncommitted changes: none"
    fi
  } > .deps/prepared.txt
  local bytes
  bytes=$(du -sb .deps data/fashion-mnist | awk '{s += $1} END {print s}')
  if [ "$bytes" -gt "$carry_limit" ]; then
    echo "gpu_check --prepare: .deps and data/fashion-mnist hold $bytes bytes, over the 64 MiB a call carries" >&2
    exit 1
  fi
  cat .deps/prepared.txt
  echo "carry: $((bytes / 1024 / 1024)) MiB of 64"
  echo "carry=[\".deps\", \"data/fashion-mnist\"]"
  echo "command: scripts/gpu_check.sh    (timeout_s 540)"
}

if [ "${1:-}" = "--prepare" ]; then
  prepare
  exit 0
fi
dry=0
if [ "${1:-}" = "--dry-run" ]; then
  dry=1
  shift
fi
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"  # nvcc, compute-sanitizer
results="${OUT:-build/gpu_out}"
out=build/gpu_logs
deadline=${TG_GPU_DEADLINE:-470}
mkdir -p "$results" "$out"
rm -f "$out"/*.log "$results"/phase-*.txt
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(cuda selfcheck bench train sanitize)
for phase in "${phases[@]}"; do
  case "$phase" in
    cuda | selfcheck | bench | train | sanitize) ;;
    *) echo "gpu_check: unknown phase '$phase' (cuda, selfcheck, bench, train, sanitize)" >&2; exit 2 ;;
  esac
done
summary=()
failures=0

# step NAME CAP COMMAND...: runs for at most CAP seconds (and never past the deadline),
# logs to $out/NAME.log; returns the command's status. Records a line for the phase file.
step_lines=()
step() {
  local name=$1 cap=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ "$dry" -eq 1 ]; then
    echo "dry run: would run: $*" > "$out/$name.log"
    step_lines+=("$(printf '  %-26s %-22s' "$name" "dry run")")
    return 0
  fi
  if [ "$left" -lt 20 ]; then
    step_lines+=("$(printf '  %-26s %-22s' "$name" "not run (deadline)")")
    return 125
  fi
  [ "$cap" -lt "$left" ] || cap=$left
  local start=$SECONDS
  timeout "$cap" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  step_lines+=("$(printf '  %-26s %-22s %4ss' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAIL:$rc")" $((SECONDS - start)))")
  tail -n 3 "$out/$name.log"
  return $rc
}

# ctest's counts from a log: "passed failed skipped".
ctest_counts() {
  local log=$1 total failed skipped
  total=$(grep -oE 'tests failed out of [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  failed=$(grep -oE '[0-9]+ tests failed out of' "$log" | grep -oE '^[0-9]+' || echo 0)
  skipped=$(grep -c '(Skipped)' "$log" || true)
  echo "$((total - failed - skipped)) $failed $skipped"
}

# phase_done NAME VERDICT DETAIL: writes $results/phase-<i>-NAME.txt (the verdict, each
# step, the seconds) and the summary so far, at once.
phase_index=0
phase_done() {
  local name=$1 verdict=$2 detail=$3 seconds=$4
  phase_index=$((phase_index + 1))
  [ "$verdict" = fail ] && failures=$((failures + 1))
  local line
  line=$(printf '%-10s %-5s %4ss  %s' "$name" "$verdict" "$seconds" "$detail")
  summary+=("$line")
  {
    echo "$line"
    printf '%s\n' "${step_lines[@]}"
  } > "$results/phase-$phase_index-$name.txt"
  step_lines=()
  write_summary
}

write_summary() {
  {
    echo "gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ), $(head -n 1 "$out/machine.txt" 2>/dev/null)"
    echo "command: scripts/gpu_check.sh $([ "$dry" -eq 1 ] && echo '--dry-run ')${phases[*]}"
    printf '%s\n' "${summary[@]}"
  } > "$results/summary.txt"
}

finish() {
  echo
  echo "==== summary"
  write_summary
  cat "$results/summary.txt"
  for f in machine.txt bench_kernels.log bench_torch_peer.log bench_train_step_cuda.log; do
    [ -f "$out/$f" ] && cp "$out/$f" "$results/"
  done
  tar -czf "$results/logs.tar.gz" -C "$out" . 2>/dev/null
  exit "${1:-$((failures > 0))}"
}

# ---- the machine ---------------------------------------------------------------------
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1)
gpu_ok=$?
[ $gpu_ok -eq 0 ] && [ -n "$gpu" ] || gpu_ok=1
{
  if [ $gpu_ok -eq 0 ]; then echo "gpu: $gpu"; else echo "gpu: none (nvidia-smi: ${gpu:-no output})"; fi
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  if [ -f .deps/prepared.txt ]; then
    cat .deps/prepared.txt
  else
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown) (no .deps/prepared.txt: the device copy's .git may lag its files)"
  fi
  command -v nvcc >/dev/null && nvcc --version | tail -n 2
  cmake --version | head -n 1
  python3 -c 'import torch; print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version())' 2>&1 | tail -n 1
} > "$out/machine.txt"
cat "$out/machine.txt"
cp "$out/machine.txt" "$results/"
if [ $gpu_ok -ne 0 ]; then
  if [ "$dry" -eq 0 ]; then
    summary+=("no GPU: nothing was run (nvidia-smi: ${gpu:-no output})")
    echo "gpu_check: no GPU here; nothing was run (scripts/gpu_check.sh --dry-run checks the bookkeeping)"
    finish 3
  fi
  echo "gpu_check: no GPU; dry run: every phase's bookkeeping runs, nothing is measured"
fi

# ---- dependencies --------------------------------------------------------------------
deps=/tmp/tg-deps
cmake_args=(-DTG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release)
if [ "$dry" -eq 0 ] && compgen -G ".deps/*.deb" >/dev/null; then
  mkdir -p "$deps"
  for f in .deps/*.deb; do dpkg -x "$f" "$deps"; done
  lib="$deps/usr/lib/x86_64-linux-gnu"
  export LD_LIBRARY_PATH="$lib/openblas-openmp:$lib:$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  cmake_args+=(-DTG_BLAS_LIBRARY="$lib/openblas-openmp/libopenblas.so"
               -DTG_GTEST_SOURCE_DIR="$deps/usr/src/googletest"
               -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$deps/lib/x86_64-linux-gnu/libz.so.1"
               -DTG_CLI11_INCLUDE_DIR="$deps/usr/include" -DTG_JSON_INCLUDE_DIR="$deps/usr/include")
fi
# cuDNN and NCCL from PyTorch's wheels when the toolkit has none (tamegrad's CMake says
# which it found).
if [ "$dry" -eq 0 ] && [ ! -f /usr/local/cuda/include/cudnn.h ] && [ -z "${CUDNN_ROOT:-}" ]; then
  CUDNN_ROOT=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null)
  export CUDNN_ROOT
  export LD_LIBRARY_PATH="$CUDNN_ROOT/lib:${LD_LIBRARY_PATH:-}"
fi
nccl_root=$(python3 -c 'import nvidia.nccl as m; print(list(m.__path__)[0])' 2>/dev/null || true)
if [ "$dry" -eq 0 ] && [ -n "$nccl_root" ]; then
  cmake_args+=(-DTG_NCCL_ROOT="$nccl_root")
  export LD_LIBRARY_PATH="$nccl_root/lib:${LD_LIBRARY_PATH:-}"
fi
echo "CUDNN_ROOT=${CUDNN_ROOT:-<toolkit>} NCCL=${nccl_root:-<toolkit or none>}" | tee -a "$out/machine.txt"

# ---- build: only what the phases run -----------------------------------------------------
targets=()
for phase in "${phases[@]}"; do
  case "$phase" in
    cuda | sanitize) targets+=(tg_cuda_tests tg_distributed_tests) ;;
    selfcheck) targets+=(tg_selfcheck) ;;
    bench) targets+=(bench_kernels bench_train_step) ;;
    train) targets+=(mnist_train) ;;
  esac
done
start=$SECONDS
step configure 120 cmake -S . -B build/gpu -G Ninja "${cmake_args[@]}" &&
  step build 300 cmake --build build/gpu -j "$(nproc)" --target $(printf '%s\n' "${targets[@]}" | sort -u)
build_rc=$?
build_verdict=$([ $build_rc -eq 0 ] && echo pass || echo fail)
[ "$dry" -eq 0 ] || build_verdict=skip
phase_done build "$build_verdict" "configure + build of: $(printf '%s\n' "${targets[@]}" | sort -u | tr '\n' ' ')" $((SECONDS - start))
[ $build_rc -eq 0 ] || finish

# ---- the phases ------------------------------------------------------------------------
phase_cuda() {
  local start=$SECONDS counts passed failed skipped verdict
  step ctest_cuda 200 ctest --test-dir build/gpu -L cuda --output-on-failure -j 4 --timeout 150
  if [ "$dry" -eq 1 ]; then
    phase_done cuda skip "dry run" $((SECONDS - start))
    return
  fi
  read -r passed failed skipped <<<"$(ctest_counts "$out/ctest_cuda.log")"
  verdict=pass
  [ "$failed" -eq 0 ] || verdict=fail
  # A skip here is a test that could not run on this GPU machine: named, not hidden.
  if [ "$skipped" -gt 0 ]; then
    [ "$verdict" = pass ] && verdict=skip
    grep '(Skipped)' "$out/ctest_cuda.log" | sed 's/^/  skipped: /' | head -n 10
  fi
  [ "$passed" -gt 0 ] || verdict=fail
  phase_done cuda "$verdict" "$passed passed, $failed failed, $skipped skipped" $((SECONDS - start))
}

phase_selfcheck() {
  local start=$SECONDS
  step selfcheck 60 build/gpu/examples/tg_selfcheck
  local rc=$?
  phase_done selfcheck "$([ "$dry" -eq 1 ] && echo skip || { [ $rc -eq 0 ] && echo pass || echo fail; })" \
    "$([ "$dry" -eq 1 ] && echo 'dry run' || tail -n 1 "$out/selfcheck.log")" $((SECONDS - start))
}

# bench_kernels --json feeds torch_peer.py, which prints the side-by-side table; the step
# rows of bench_train_step take torch_train_step.py's rows as their peer.
phase_bench() {
  local start=$SECONDS ok=0 ran=0
  step bench_kernels 90 build/gpu/bench/bench_kernels --cuda-only --json && ok=$((ok + 1))
  ran=$((ran + 1))
  cp "$out/bench_kernels.log" "$out/bench_ours.jsonl"
  step bench_torch_peer 120 env PYTHONUNBUFFERED=1 python3 bench/torch_peer.py --ours "$out/bench_ours.jsonl" && ok=$((ok + 1))
  ran=$((ran + 1))
  step torch_train_step_cuda 90 python3 bench/torch_train_step.py --device cuda && ok=$((ok + 1))
  ran=$((ran + 1))
  step bench_train_step_cuda 90 build/gpu/bench/bench_train_step --device cuda --peer "$out/torch_train_step_cuda.log" && ok=$((ok + 1))
  ran=$((ran + 1))
  phase_done bench "$([ "$dry" -eq 1 ] && echo skip || { [ $ok -eq $ran ] && echo pass || echo fail; })" \
    "$ok of $ran steps ok$([ "$dry" -eq 1 ] && echo ' (dry run)')" $((SECONDS - start))
}

# The CPU's test accuracy for the same seed and recipe (2-core VM): MLP 10 epochs 0.8953,
# CNN 5 epochs 0.9244 (README); the GPU's should be within 0.3 points.
phase_train() {
  local start=$SECONDS data=${TG_DATA:-data/fashion-mnist} model epochs ok=0 ran=0 detail=""
  for model in mlp cnn; do
    epochs=$([ "$model" = mlp ] && echo 10 || echo 5)
    step "train_${model}_cuda" 120 build/gpu/examples/mnist_train --device cuda --model "$model" \
      --epochs "$epochs" --data "$data" --metrics "$out/${model}_cuda.jsonl" && ok=$((ok + 1))
    ran=$((ran + 1))
    step "torch_mnist_$model" 120 python3 bench/torch_mnist.py --device cuda --model "$model" \
      --epochs "$epochs" --data "$data" && ok=$((ok + 1))
    ran=$((ran + 1))
    detail+="$model: ours $(grep -oE '"test_accuracy": [0-9.]+' "$out/train_${model}_cuda.log" | tail -n 1 | grep -oE '[0-9.]+$' || echo -), "
    detail+="torch $(grep -oE 'test_accuracy[^0-9]*[0-9.]+' "$out/torch_mnist_$model.log" | tail -n 1 | grep -oE '[0-9.]+$' || echo -); "
  done
  phase_done train "$([ "$dry" -eq 1 ] && echo skip || { [ $ok -eq $ran ] && echo pass || echo fail; })" \
    "${detail}CPU: mlp 0.8953, cnn 0.9244" $((SECONDS - start))
}

# Parity cases over 70k elements are left out: the tools slow kernels 10-100x, and the
# small cases cover every kernel and every boundary (the full set ran in phase_cuda).
racecheck_filter='ReduceCuda.*:TelemetryCuda.*:TrainingKernelsCuda.*:LayersCuda.*'
for op in sum mean var max min norm softmax log_softmax cross_entropy nll_loss batch_norm; do
  racecheck_filter+=":Ops/OpParity.CudaMatchesCpu/$op"
done
phase_sanitize() {
  local start=$SECONDS tool ok=0 ran=0 tests=build/gpu/tests/tg_cuda_tests
  export TG_PARITY_MAX_ELEMENTS=70000
  step sanitizer_memcheck 120 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 1 "$tests"
  ran=$((ran + 1))
  # cuDNN's process-static allocations in cudnnCreate are not ours (memcheck_summary.py).
  if [ "$dry" -eq 0 ] && python3 scripts/memcheck_summary.py "$out/sanitizer_memcheck.log" > "$out/memcheck_verdict.log" 2>&1; then
    ok=$((ok + 1))
  fi
  for tool in initcheck synccheck racecheck; do
    local filter=()
    [ "$tool" = racecheck ] && filter=(--gtest_filter="$racecheck_filter")
    step "sanitizer_$tool" 120 compute-sanitizer --tool "$tool" --error-exitcode 1 "$tests" "${filter[@]}" && ok=$((ok + 1))
    ran=$((ran + 1))
  done
  unset TG_PARITY_MAX_ELEMENTS
  phase_done sanitize "$([ "$dry" -eq 1 ] && echo skip || { [ $ok -eq $ran ] && echo pass || echo fail; })" \
    "$ok of $ran tools clean$([ "$dry" -eq 1 ] && echo ' (dry run)')" $((SECONDS - start))
}

for phase in "${phases[@]}"; do "phase_$phase"; done
if [ "$dry" -eq 1 ]; then
  summary+=("no GPU: dry run; every phase's bookkeeping ran, nothing was measured")
  finish 0
fi
finish
