#!/usr/bin/env python3
"""PyTorch trained with mnist_train's recipe, for accuracy and epoch-time comparisons.

The same models (examples/mnist_models.h), the same data normalisation ((x/255 - mean) / std
with the data set's statistics: Fashion-MNIST 0.2860, 0.3530, else MNIST's 0.1307, 0.3081),
Adam lr 1e-3, batch 128, shuffled every epoch, the learning rate annealed per batch along a
cosine to 0 at the last batch (--schedule none: constant), PyTorch's default initialisation.
PyTorch at its best for the step itself: the whole data set lives on the device as uint8
and each batch is gathered, converted and normalised there (no host copy per batch).
Prints one line per epoch and, last, one JSON object like mnist_train's.

  python3 bench/torch_mnist.py [--model mlp|cnn] [--epochs N] [--device cpu|cuda]
                               [--data DIR] [--threads N] [--seed S] [--limit N]
                               [--schedule cosine|none] [--channels-last]
"""
import argparse
import contextlib
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, type_code, dims = struct.unpack(">HBB", data[:4])
    assert zero == 0 and type_code == 8, f"{path}: not an unsigned-byte IDX file"
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, prefix):
    def find(stem):
        gz = os.path.join(directory, stem + ".gz")
        return gz if os.path.exists(gz) else os.path.join(directory, stem)
    images = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte"))
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def mlp(dropout=0.2):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(512, 256), nn.ReLU(), nn.Dropout(dropout), nn.Linear(256, 10))


def cnn(dropout=0.5):
    layers, channels = [], 1
    for out in (32, 64, 128):
        layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                   nn.MaxPool2d(2)]
        channels = out
    layers += [nn.Flatten(), nn.Linear(128 * 3 * 3, 256), nn.ReLU(), nn.Dropout(dropout),
               nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def pixel_stats(directory):
    """data::pixel_stats(data::dataset_name(directory)) of data/mnist.cpp."""
    return (0.2860, 0.3530) if "fashion" in directory else (0.1307, 0.3081)


def normalise(x, stats):
    mean, std = stats
    return ((x.float() / 255.0 - mean) / std).unsqueeze(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--data", default=os.environ.get("TG_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--schedule", choices=["cosine", "none"], default="cosine")
    ap.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                    help="forward and loss under torch.autocast in this dtype (mnist_train's "
                         "--precision); fp16 with a GradScaler, as mnist_train's default")
    ap.add_argument("--channels-last", action="store_true",
                    help="the CNN and its batches in channels_last (PyTorch's faster CPU layout)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "t10k")
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    model = (cnn() if args.model == "cnn" else mlp()).to(device)
    layout = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = train_x.shape[0]
    stats = pixel_stats(args.data)
    steps = args.epochs * ((n + args.batch - 1) // args.batch)
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
                if args.schedule == "cosine" else None)
    generator = torch.Generator(device="cpu").manual_seed(args.seed)
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    scaler = torch.amp.GradScaler(device.type) if args.precision == "fp16" else None

    def forward_context():
        return torch.autocast(device.type, dtype=low) if low else contextlib.nullcontext()
    train_seconds, accuracy, test_loss = 0.0, 0.0, 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        for first in range(0, n, args.batch):
            idx = order[first:first + args.batch]
            x, y = normalise(train_x[idx], stats).contiguous(memory_format=layout), train_y[idx]
            opt.zero_grad(set_to_none=True)
            with forward_context():
                loss = F.cross_entropy(model(x), y)
            if scaler:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            if schedule:
                schedule.step()
            loss_sum += loss.detach() * y.numel()
        train_loss = loss_sum.item() / n
        seconds = time.perf_counter() - start
        train_seconds += seconds
        model.eval()
        correct, loss_total = 0, 0.0
        with torch.no_grad():
            for first in range(0, test_x.shape[0], 1000):
                x = normalise(test_x[first:first + 1000], stats).contiguous(memory_format=layout)
                y = test_y[first:first + 1000]
                logits = model(x)
                loss_total += F.cross_entropy(logits, y, reduction="sum").item()
                correct += (logits.argmax(1) == y).sum().item()
        accuracy, test_loss = correct / test_x.shape[0], loss_total / test_x.shape[0]
        print(f"epoch {epoch}/{args.epochs}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {accuracy:.4f}, {seconds:.2f} s ({n / seconds:.0f} images/s)", flush=True)
    print(json.dumps({"test_accuracy": accuracy, "test_loss": test_loss,
                      "train_seconds": round(train_seconds, 2), "epochs": args.epochs,
                      "device": str(device), "model": args.model, "optimizer": "adam",
                      "schedule": args.schedule, "channels_last": args.channels_last,
                      "framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
                      "seed": args.seed}))


if __name__ == "__main__":
    main()
