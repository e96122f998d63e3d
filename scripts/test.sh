#!/usr/bin/env bash
# Sets everything up and runs the whole test suite, in three builds:
#   build/default  TG_CUDA=AUTO: CUDA compiled whenever nvcc is present (CUDA tests skip,
#                  saying why, when no GPU is);
#   build/cpu      TG_CUDA=OFF: the CPU-only library;
#   build/asan     TG_CUDA=OFF with AddressSanitizer + UndefinedBehaviorSanitizer, and
#                  TG_MPI=OFF (Open MPI's own allocations would fail LeakSanitizer; this
#                  build checks that everything works without MPI).
#   build/fuzz     clang with libFuzzer, ASan and UBSan, the library and the fuzz targets
#                  only (tests/fuzz), each fuzzed for 30 s from its committed corpus.
# Each test build also installs itself and builds an outside consumer project against it.
# Every build treats a warning in the project's own code as an error (TG_WERROR), and
# before any build the sources are checked against .clang-format: a difference fails.
# Usage: scripts/test.sh [default|cpu|asan|fuzz ...]   (no argument: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --tests
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"

jobs=$(nproc)

echo "=== formatting (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -n 1))"
mapfile -t sources < <(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh')
if ! clang-format --dry-run -Werror "${sources[@]}"; then
  echo "scripts/test.sh: the files above differ from .clang-format; run clang-format -i on them" >&2
  exit 1
fi

run_build() {
  local name=$1
  shift
  echo "=== build/$name: $*"
  cmake -S . -B "build/$name" -G Ninja -DTG_WERROR=ON "$@"
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs"
}

builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(default cpu asan fuzz)
for b in "${builds[@]}"; do
  case "$b" in
    default) run_build default -DTG_CUDA=AUTO ;;
    cpu) run_build cpu -DTG_CUDA=OFF ;;
    asan) run_build asan -DTG_CUDA=OFF -DTG_MPI=OFF -DTG_SANITIZE=address,undefined \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
    fuzz) run_build fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DTG_FUZZ=ON \
            -DTG_CUDA=OFF -DTG_MPI=OFF -DTG_SANITIZE=address,undefined \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_BUILD_TESTS=OFF -DTG_BUILD_EXAMPLES=OFF \
            -DTG_BUILD_BENCHMARKS=OFF ;;
    *) echo "scripts/test.sh: unknown build '$b' (default, cpu, asan, fuzz)" >&2; exit 2 ;;
  esac
done
echo "scripts/test.sh: all builds passed (${builds[*]})"
