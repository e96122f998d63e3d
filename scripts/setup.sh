#!/usr/bin/env bash
# Installs what building and training tamegrad needs, from Debian's packages, and only what
# is missing (so a machine that has everything makes no network call); with --tests, also
# what the test suite needs (scripts/test.sh).
# The CUDA toolkit is not a Debian package here: when nvcc is absent the CUDA build is
# simply skipped (TG_CUDA=AUTO).
# Usage: scripts/setup.sh [--tests]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-openmp-dev   # OpenBLAS threaded with OpenMP, like our own loops (float64 GEMM)
  libdnnl-dev             # oneDNN: float32 GEMM on the CPU (Note [cpu matmul backend])
  zlib1g-dev
  libcli11-dev            # mnist_train's flags
  nlohmann-json3-dev      # safetensors headers (core/safetensors*.cpp)
  dataset-fashion-mnist   # the default training data, IDX .gz files
)
if [ "${1:-}" = "--tests" ]; then
  packages+=(
    libgtest-dev
    python3-venv            # the interoperability tests' virtual environments (PyPI)
    python3-torch           # golden data (tests/golden/*.py) and the interop test loading our models into torch.nn
    clang-format            # scripts/test.sh fails on a formatting difference
    libopenmpi-dev openmpi-bin  # distributed training on the CPU (distributed/, mpirun)
    iproute2                # the multi-host test's network namespaces (ip netns, tc)
    curl                    # scripts/get_mnist.sh (MNIST for users with internet)
    clang libclang-rt-14-dev libomp-dev  # the fuzz build (libFuzzer, tests/fuzz)
  )
elif [ $# -gt 0 ]; then
  echo "setup.sh: unknown argument '$1' (--tests or nothing)" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
