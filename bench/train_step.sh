#!/usr/bin/env bash
# One training step of the MNIST models and its dominant ops, ours beside PyTorch's, same
# thread count: runs bench/torch_train_step.py (Debian's python3-torch) and then
# bench_train_step --peer on its rows, which prints ours_ms torch_ms ratio per row.
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
peer=$(mktemp)
trap 'rm -f "$peer"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "# PyTorch side: OPENBLAS_CORETYPE=${core:-unset}, $threads threads"
OPENBLAS_CORETYPE=$core "$python" bench/torch_train_step.py --threads "$threads" > "$peer"
"$bench" --threads "$threads" --peer "$peer"
