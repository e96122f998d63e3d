"""Weights from PyTorch into mnist_train (the training package's load_weights).

check_init_from.py MNIST_TRAIN DIR: writes a small MNIST-format data set, trains PyTorch's
MLP of the same architecture (bench/torch_mnist.py's) for a few steps inside a wrapper (so
its state-dict keys read "model.1.weight", ...), saves it with safetensors.torch, then runs
`mnist_train --init-from FILE --init-rename model.= --evaluate` and checks that tamegrad's
test loss and accuracy are PyTorch's own on the same images, normalised the same way (the
data set's own statistics: it is neither MNIST nor Fashion-MNIST). Without PyTorch
importable it says so and passes (the safetensors half of the interop test needs none).
Exit 0: all held.
"""
import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def expect(condition, message):
    if not condition:
        print(f"check_init_from: FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main():
    mnist_train, directory = sys.argv[1], sys.argv[2]
    try:
        import torch
        import torch.nn.functional as F
        from safetensors.torch import save_file
    except ImportError as e:
        print(f"check_init_from: PyTorch is not importable here ({e}); nothing to compare")
        return
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
    from torch_mnist import mlp

    data = os.path.join(directory, "init_data")
    os.makedirs(data, exist_ok=True)
    rng = np.random.default_rng(1)
    labels = {p: rng.integers(0, 10, (n,)) for p, n in (("train", 512), ("t10k", 200))}
    images = {}
    for prefix, y in labels.items():
        # A label-dependent band over noise, so a few steps learn something.
        x = rng.integers(0, 120, (len(y), 28, 28))
        for i, label in enumerate(y):
            x[i, 2 * label:2 * label + 3, :] += 25
        images[prefix] = x
        write_idx(f"{data}/{prefix}-images-idx3-ubyte.gz", x)
        write_idx(f"{data}/{prefix}-labels-idx1-ubyte.gz", y)
    # tamegrad normalises a data set it does not recognise with its training pixels' own
    # mean and std, rounded to 4 decimals.
    pixels = images["train"].astype(np.float64) / 255.0
    mean, std = round(pixels.mean(), 4), round(pixels.std(), 4)

    def inputs(prefix):
        x = (images[prefix].astype(np.float32) / np.float32(255.0) - np.float32(mean)) / np.float32(std)
        return torch.from_numpy(x.astype(np.float32)).unsqueeze(1)

    torch.manual_seed(0)
    wrapper = torch.nn.Module()
    wrapper.model = mlp()
    opt = torch.optim.Adam(wrapper.parameters(), lr=1e-3)
    x, y = inputs("train"), torch.from_numpy(labels["train"]).long()
    for step in range(6):
        batch = slice(32 * (step % 16), 32 * (step % 16) + 32)
        opt.zero_grad()
        F.cross_entropy(wrapper.model(x[batch]), y[batch]).backward()
        opt.step()
    wrapper.eval()
    with torch.no_grad():
        logits = wrapper.model(inputs("t10k"))
        truth = torch.from_numpy(labels["t10k"]).long()
        loss = F.cross_entropy(logits.double(), truth).item()
        accuracy = (logits.argmax(1) == truth).double().mean().item()
    weights = os.path.join(directory, "torch_mlp.safetensors")
    save_file({k: v.contiguous() for k, v in wrapper.state_dict().items()}, weights)
    out = subprocess.run([mnist_train, "--init-from", weights, "--init-rename", "model.=",
                          "--evaluate", "--device", "cpu", "--data", data],
                         capture_output=True, text=True)
    expect(out.returncode == 0, f"mnist_train --evaluate exited {out.returncode}: {out.stderr}")
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"check_init_from: PyTorch loss {loss:.6f} accuracy {accuracy:.4f}; tamegrad "
          f"{summary['test_loss']} {summary['test_accuracy']}")
    expect(abs(summary["test_loss"] - loss) < 1e-4 * max(1.0, loss),
           f"test loss {summary['test_loss']} against PyTorch's {loss}")
    expect(0.2 < accuracy < 1.0, f"PyTorch's accuracy {accuracy}: the case tells nothing")
    expect(abs(summary["test_accuracy"] - accuracy) < 1e-9,
           f"test accuracy {summary['test_accuracy']} against PyTorch's {accuracy}")
    # Without the renaming the keys do not fit, and the error names them.
    bad = subprocess.run([mnist_train, "--init-from", weights, "--evaluate", "--device", "cpu",
                          "--data", data], capture_output=True, text=True)
    expect(bad.returncode == 1 and "unexpected key 'model.1.weight'" in bad.stderr,
           f"unrenamed keys: exit {bad.returncode}, {bad.stderr}")
    print("check_init_from: OK")


if __name__ == "__main__":
    main()
