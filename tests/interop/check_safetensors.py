"""The Python side of the safetensors interoperability test.

check_safetensors.py TOOL DIR: runs `TOOL write DIR`, reads what tamegrad wrote with
Python's `safetensors` (names, dtypes, shapes, values, metadata), writes
DIR/python.safetensors for `TOOL check`, checks the BF16 and F16 tensors tamegrad wrote bit
for bit against PyTorch's rounding and writes PyTorch's for `TOOL check-halves` (PyTorch is
needed for that: numpy has no bfloat16), and, where PyTorch can be imported, loads the
MNIST models' weights into the same architectures written in PyTorch (strict
load_state_dict) and compares their outputs with tamegrad's. Exit 0: all held.
"""
import math
import os
import subprocess
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def counting(shape, dtype, scale):
    return (np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * scale).astype(dtype)


def expect(condition, message):
    if not condition:
        print(f"check_safetensors: FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def check_tamegrad_file(path):
    got = load_file(path)
    expected = {
        "layer.0.weight": counting((2, 3), np.float32, 0.5),
        "stats.running_var": counting((4,), np.float64, 0.25),
        "labels": np.array([-1, 1099511627776, 7], dtype=np.int64),
        "image": counting((2, 2, 2), np.uint8, 30),
        "count": np.array(42, dtype=np.int64),
        "scalar": np.array(3.25, dtype=np.float64),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "größe.λ": np.array([1.5, -2.0], dtype=np.float32),
    }
    expect(sorted(got) == sorted(expected), f"{path}: names {sorted(got)}")
    for name, want in expected.items():
        have = got[name]
        expect(have.dtype == want.dtype, f"{name}: dtype {have.dtype}, expected {want.dtype}")
        expect(have.shape == want.shape, f"{name}: shape {have.shape}, expected {want.shape}")
        expect(np.array_equal(have, want), f"{name}: values {have}, expected {want}")
    with safe_open(path, framework="numpy") as f:
        expect(f.metadata() == {"written_by": "tamegrad"}, f"metadata {f.metadata()}")
    print(f"check_safetensors: {path}: {len(got)} tensors as tamegrad wrote them")


def write_python_file(path):
    save_file({
        "py.weight": counting((3, 2), np.float32, 0.5),
        "py.ids": np.array([-5, 4398046511104], dtype=np.int64),
        "py.bytes": counting((5,), np.uint8, 51),
        "py.scalar": np.array(-0.125, dtype=np.float64),
        "py.empty": np.zeros((3, 0), dtype=np.float64),
        "py.ñame": np.array([0.25], dtype=np.float32),
    }, path, metadata={"written_by": "python"})


# The floats of safetensors_tool.cpp's half_values(), all exact in float32.
HALF_VALUES = [0.0, 0.3333333432674408, -0.6666666865348816, math.ldexp(1.0, -133), 65520.0,
               1.00390625, 1.01171875, 1.5 * math.ldexp(1.0, 127), math.inf, -0.0,
               1.0009765625]


def check_halves(tool, directory):
    try:
        import torch
        from safetensors.torch import load_file as load_torch, save_file as save_torch
    except ImportError as e:
        expect(False, f"PyTorch is needed to read BF16 (numpy has no bfloat16) and is not "
                      f"importable here ({e}); scripts/setup.sh installs python3-torch")
    values = torch.tensor(HALF_VALUES, dtype=torch.float32)
    got = load_torch(f"{directory}/halves.safetensors")
    for name, dtype in (("half.bf16", torch.bfloat16), ("half.f16", torch.float16)):
        want = values.to(dtype)
        have = got[name]
        expect(have.dtype == dtype, f"{name}: dtype {have.dtype}, expected {dtype}")
        expect(torch.equal(have.view(torch.int16), want.view(torch.int16)),
               f"{name}: bits {have.view(torch.int16).tolist()}, PyTorch rounds to "
               f"{want.view(torch.int16).tolist()}")
    save_torch({"py.bf16": values.to(torch.bfloat16), "py.f16": values.to(torch.float16)},
               f"{directory}/python_halves.safetensors")
    subprocess.run([tool, "check-halves", f"{directory}/python_halves.safetensors"], check=True)
    print(f"check_safetensors: BF16 and F16 agree with PyTorch {torch.__version__} bit for bit")


def check_models_in_pytorch(directory):
    try:
        import torch
        from safetensors.torch import load_file as load_torch
    except ImportError as e:
        print(f"check_safetensors: PyTorch not importable here ({e}); "
              "the load into PyTorch models was not checked")
        return
    nn = torch.nn

    def mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(256, 10))

    def cnn():
        layers, c = [], 1
        for out in (32, 64, 128):
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c = out
        layers += [nn.Flatten(), nn.Linear(128 * 3 * 3, 256), nn.ReLU(), nn.Dropout(0.5),
                   nn.Linear(256, 10)]
        return nn.Sequential(*layers)

    for name, build in (("mlp", mlp), ("cnn", cnn)):
        model = build()
        model.load_state_dict(load_torch(f"{directory}/{name}.safetensors"), strict=True)
        model.eval()
        io = load_torch(f"{directory}/{name}_io.safetensors")
        with torch.no_grad():
            y = model(io["x"])
        err = (y - io["y"]).abs().max().item()
        expect(err < 1e-4, f"{name}: PyTorch's output differs from tamegrad's by {err}")
        print(f"check_safetensors: {name}: loaded into torch.nn (strict), outputs agree "
              f"to {err:.1e} (torch {torch.__version__})")


def check_readers_agree(tool):
    """Every file of the fuzz corpus (tests/fuzz/corpus/safetensors) is accepted by both
    readers or refused by both (issue 25: a byte-order mark, a field twice in an entry, a
    shape whose strides overflow 64 bits)."""
    from safetensors.numpy import load
    corpus = os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus", "safetensors")
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            data = f.read()
        try:
            load(data)
            python_accepts = True
        except Exception:  # safetensors raises SafetensorError, or others on odd input
            python_accepts = False
        ours = subprocess.run([tool, "accepts", os.path.join(corpus, name)],
                              capture_output=True, text=True)
        expect(ours.returncode in (0, 3), f"{name}: safetensors_tool failed: {ours.stderr}")
        tamegrad_accepts = ours.returncode == 0
        expect(python_accepts == tamegrad_accepts,
               f"{name}: Python {'accepts' if python_accepts else 'refuses'}, tamegrad "
               f"{'accepts' if tamegrad_accepts else 'refuses'} ({ours.stdout.strip()})")
        print(f"check_safetensors: {name}: both {'accept' if python_accepts else 'refuse'}")


def main():
    tool, directory = sys.argv[1], sys.argv[2]
    check_readers_agree(tool)
    subprocess.run([tool, "write", directory], check=True)
    check_tamegrad_file(f"{directory}/tamegrad.safetensors")
    write_python_file(f"{directory}/python.safetensors")
    subprocess.run([tool, "check", f"{directory}/python.safetensors"], check=True)
    check_halves(tool, directory)
    check_models_in_pytorch(directory)
    print("check_safetensors: OK")


if __name__ == "__main__":
    main()
