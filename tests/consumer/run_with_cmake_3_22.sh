#!/usr/bin/env bash
# install_and_consume with CMake 3.22 (Ubuntu 22.04's), which predates file sets: the package
# must still give its consumers the include path (issue 25). CMake 3.22 comes from PyPI into
# a virtual environment under the build tree; when that cannot be made, the test fails and
# says why. Usage: run_with_cmake_3_22.sh BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR SANITIZE
set -euo pipefail
build=$1 source=$2 work=$3 generator=$4 sanitize=${5:-}
venv="$build/tests/cmake-3.22-venv"
if [ ! -x "$venv/bin/cmake" ]; then
  python3 -m venv "$venv" ||
    { echo "cannot make a virtual environment (python3-venv, scripts/setup.sh)" >&2; exit 1; }
  "$venv/bin/pip" install -q cmake==3.22.6 ||
    { echo "cannot install cmake==3.22.6 from PyPI into $venv" >&2; exit 1; }
fi
"$venv/bin/cmake" --version | head -n 1
exec cmake -DBUILD_DIR="$build" -DSOURCE_DIR="$source" -DWORK_DIR="$work" -DGENERATOR="$generator" \
  -DSANITIZE="$sanitize" -DCONSUMER_CMAKE="$venv/bin/cmake" -P "$source/run_consumer_test.cmake"
