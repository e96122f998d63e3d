#!/usr/bin/env bash
# One training step of the MNIST models and its dominant ops, ours beside each PyTorch peer at
# the same thread count: bench/torch_train_step.py under Debian's python3-torch (1.13) and,
# when its virtual environment is set up, under the PyPI 2.15 wheel (MKL, oneDNN 3:
# ../shared/tools/torch215.sh --setup), then bench_train_step --peer on their rows, which
# prints ours, each peer, the best peer, ours/best, and each row's floor on this machine
# (Note [row floors] in bench/bench_train_step.cpp).
#
#   bench/train_step.sh [BUILD_DIR]      (default build/cpu; THREADS=2 by default)
#
# PyTorch at its best: Debian's torch multiplies through OpenBLAS (libblas.so.3), which
# picks its kernels from a CPU model table; OPENBLAS_CORETYPE is set for the PyTorch side
# to the core matching the CPU's ISA (SkylakeX with AVX-512, Haswell with AVX2), since on
# these VMs that is several times faster than what it picks alone. Our side needs no
# variable (Note [cpu matmul backend] in kernels/cpu/matmul.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/cpu}
threads=${THREADS:-2}
bench="$build/bench/bench_train_step"
[ -x "$bench" ] || { echo "train_step.sh: $bench is not built (cmake --build $build)" >&2; exit 2; }
python=/usr/bin/python3
"$python" -c "import torch" 2>/dev/null || { echo "train_step.sh: $python has no torch (apt-get install python3-torch)" >&2; exit 2; }
core=""
if grep -qw avx512f /proc/cpuinfo; then core=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then core=Haswell; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "# torch113: Debian's python3-torch, OPENBLAS_CORETYPE=${core:-unset}, $threads threads"
OPENBLAS_CORETYPE=$core "$python" bench/torch_train_step.py --threads "$threads" > "$work/torch113" 2> "$work/torch113.err"
sed 's/^/# torch113: /' "$work/torch113.err"
peers=(--peer "torch113=$work/torch113")
torch215=../shared/tools/torch215.sh
if [ -x "$torch215" ] && [ -x /tmp/torch215/bin/python ]; then
  echo "# torch215: the PyPI wheel ($torch215), $threads threads"
  "$torch215" bench/torch_train_step.py --threads "$threads" > "$work/torch215" 2> "$work/torch215.err"
  sed 's/^/# torch215: /' "$work/torch215.err"
  peers+=(--peer "torch215=$work/torch215")
else
  echo "# torch215: not set up here ($torch215 --setup makes it); compared with 1.13 only"
fi
"$bench" --threads "$threads" "${peers[@]}"
