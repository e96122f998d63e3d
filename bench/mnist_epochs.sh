#!/usr/bin/env bash
# Whole MNIST training runs on the CPU, ours beside each PyTorch peer at its best, same
# threads, data and recipe (mnist_train's; bench/torch_mnist.py is its PyTorch twin): the MLP
# for 3 epochs, the CNN for 1 epoch and on 6,000 images (a short run, warm-up included).
# PyTorch 1.13 is Debian's python3-torch (OPENBLAS_CORETYPE set as in train_step.sh); 2.15
# is the PyPI wheel when ../shared/tools/torch215.sh --setup has made its environment. Each
# peer's CNN runs in the default layout and in channels_last; the best of all counts.
# Prints train_seconds and test accuracy per run and ours / best peer per workload.
#
#   bench/mnist_epochs.sh [BUILD_DIR]     (default build/cpu; THREADS=2, DATA=the default,
#                                          PRECISION=fp32|bf16|fp16: --precision on both
#                                          sides; fp16 needs torch.amp.GradScaler (2.3+),
#                                          so only the 2.15 peer runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/cpu}
threads=${THREADS:-2}
precision=${PRECISION:-fp32}
data=${DATA:-/usr/share/datasets/fashion-mnist}
train="$build/examples/mnist_train"
[ -x "$train" ] || { echo "mnist_epochs.sh: $train is not built" >&2; exit 2; }
core=""
if grep -qw avx512f /proc/cpuinfo; then core=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then core=Haswell; fi
torch215=../shared/tools/torch215.sh
have215=0
[ -x "$torch215" ] && [ -x /tmp/torch215/bin/python ] && have215=1
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $threads threads, data $data"
[ $have215 = 1 ] || echo "# torch215: not set up here ($torch215 --setup makes it); compared with 1.13 only"

field() { grep -o "\"$1\": [0-9.a-z]*" | tail -1 | cut -d' ' -f2; }
run() {  # label, command...: prints "label seconds accuracy", sets $seconds
  local label=$1 out
  shift
  out=$("$@" 2>/dev/null | tail -1)
  seconds=$(field train_seconds <<< "$out")
  printf '%-34s %8s s  accuracy %s\n' "$label" "$seconds" "$(field test_accuracy <<< "$out")"
}
workload() {  # name, model, epochs, limit
  local name=$1 model=$2 epochs=$3 limit=$4 ours best=""
  local args=(--model "$model" --epochs "$epochs" --limit "$limit" --threads "$threads" --data "$data" --precision "$precision")
  echo "## $name"
  run "tamegrad" "$train" "${args[@]}"
  ours=$seconds
  layouts=("")
  [ "$model" = cnn ] && layouts=("" --channels-last)
  for layout in "${layouts[@]}"; do
    if [ "$precision" != fp16 ]; then
      run "torch 1.13 ${layout:-eager}" env OPENBLAS_CORETYPE=$core /usr/bin/python3 bench/torch_mnist.py "${args[@]}" $layout
      best=$(python3 -c "print(min(x for x in [$seconds, ${best:-1e9}]))")
    fi
    if [ $have215 = 1 ]; then
      run "torch 2.15 ${layout:-eager}" "$torch215" bench/torch_mnist.py "${args[@]}" $layout
      best=$(python3 -c "print(min(x for x in [$seconds, $best]))")
    fi
  done
  python3 -c "print(f'ours / best peer: {$ours / $best:.2f} ({$ours} s against {$best} s)')"
}
workload "MLP, 3 epochs" mlp 3 0
workload "CNN, 1 epoch" cnn 1 0
workload "CNN, 6000 images" cnn 1 6000
