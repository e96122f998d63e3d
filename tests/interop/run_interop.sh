#!/usr/bin/env bash
# The interoperability test (CTest: python_interop). Creates a Python virtual environment
# in WORK (once; it sees the system's packages, e.g. Debian's python3-torch when
# installed), installs `safetensors`, `numpy` and `tensorboard` from PyPI into it, and runs
# check_safetensors.py against TOOL, check_tensorboard.py and check_init_from.py (weights
# trained by PyTorch into mnist_train) against MNIST_TRAIN. Fails,
# saying why, when the environment cannot be made (no python3-venv, PyPI unreachable): a
# check that did not run is not a pass.
# Usage: run_interop.sh TOOL MNIST_TRAIN WORK
set -euo pipefail
tool=$1
mnist_train=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
venv="$work/venv"
# Debian's interpreter (python3-venv belongs to it), not one a version manager put first
# on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
mkdir -p "$work"
if ! "$venv/bin/python" -c "import safetensors, numpy, tensorboard" 2>/dev/null; then
  rm -rf "$venv"
  if ! "$python" -m venv --system-site-packages "$venv"; then
    echo "run_interop: cannot create a virtual environment (is python3-venv installed? scripts/setup.sh installs it)" >&2
    exit 1
  fi
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check --timeout 30 safetensors numpy tensorboard; then
    echo "run_interop: cannot install safetensors, numpy and tensorboard from PyPI (no network?); the interoperability check did not run" >&2
    exit 1
  fi
fi
"$venv/bin/python" -c "import safetensors, tensorboard; print('run_interop: safetensors', safetensors.__version__, '/ tensorboard', tensorboard.__version__)"
"$venv/bin/python" "$here/check_safetensors.py" "$tool" "$work"
"$venv/bin/python" "$here/check_tensorboard.py" "$mnist_train" "$work"
"$venv/bin/python" "$here/check_init_from.py" "$mnist_train" "$work"
