#!/usr/bin/env python3
"""PyTorch timing of the work bench_kernels does, for a side-by-side ours/PyTorch table.

Rows (same names as bench_kernels): fused Adam and AdamW, foreach RMSprop, SGD with
momentum and Adagrad, the global norm (torch.linalg.vector_norm), the full sum and max of a
vector (torch.sum, torch.max), clip_grad_norm_ + fused
Adam, F.dropout forward and its backward, BatchNorm2d (cuDNN) forward and backward on
(N, 64, 32, 32). Each is timed with CUDA events (median of 100 runs after warm-up, as
bench_kernels times ours), at 1M, 10M and 100M float32 elements.

  python3 bench/torch_peer.py [--json] [--device cuda] [--ours bench_ours.jsonl]

With --ours (bench_kernels --json output) the table adds our time and ours/PyTorch.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

BYTES = {"adam": 28, "adamw": 28, "rmsprop": 20, "sgd_momentum": 20, "adagrad": 20, "global_norm": 4,
         "sum_full": 4, "max_full": 4, "clip_adam": 32, "dropout_fwd": 8, "dropout_bwd": 8, "batchnorm_fwd": 8, "batchnorm_bwd": 12}


def timer(device, repeats, fn):
    """Median of `repeats` runs after warm-up, as bench_kernels times ours (CUDA events)."""
    for _ in range(3):
        fn()
    times = []
    if device.type == "cuda":
        torch.cuda.synchronize()
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
    else:
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def optimizer_step(device, n, cls, **kwargs):
    p = torch.randn(n, device=device, requires_grad=True)
    p.grad = torch.randn(n, device=device)
    opt = cls([p], **kwargs)
    opt.step()  # state exists before timing
    return opt.step


def rows(device, n, repeats):
    cuda = device.type == "cuda"
    fused = {"fused": True} if cuda else {}
    foreach = {"foreach": True}
    out = {}
    out["adam"] = timer(device, repeats, optimizer_step(device, n, torch.optim.Adam, lr=1e-3, **fused))
    out["adamw"] = timer(device, repeats, optimizer_step(device, n, torch.optim.AdamW, lr=1e-3, **fused))
    out["rmsprop"] = timer(device, repeats, optimizer_step(device, n, torch.optim.RMSprop, lr=1e-3, **foreach))
    out["sgd_momentum"] = timer(device, repeats,
                                optimizer_step(device, n, torch.optim.SGD, lr=1e-3, momentum=0.9, **foreach))
    out["adagrad"] = timer(device, repeats, optimizer_step(device, n, torch.optim.Adagrad, lr=1e-3, **foreach))
    g = torch.randn(n, device=device)
    out["global_norm"] = timer(device, repeats, lambda: torch.linalg.vector_norm(g))
    out["sum_full"] = timer(device, repeats, lambda: torch.sum(g))
    out["max_full"] = timer(device, repeats, lambda: torch.max(g))
    p = torch.randn(n, device=device, requires_grad=True)
    p.grad = torch.randn(n, device=device)
    opt = torch.optim.Adam([p], lr=1e-3, **fused)
    opt.step()

    def clip_adam():
        torch.nn.utils.clip_grad_norm_([p], 1.0)
        opt.step()
    out["clip_adam"] = timer(device, repeats, clip_adam)
    x = torch.randn(n, device=device, requires_grad=True)
    out["dropout_fwd"] = timer(device, repeats, lambda: F.dropout(x, 0.1, training=True))
    y = F.dropout(x, 0.1, training=True)
    dy = torch.randn(n, device=device)
    out["dropout_bwd"] = timer(device, repeats, lambda: torch.autograd.grad(y, x, dy, retain_graph=True))
    batch = max(n // (64 * 32 * 32), 1)
    bn = torch.nn.BatchNorm2d(64).to(device).train()
    xb = torch.randn(batch, 64, 32, 32, device=device, requires_grad=True)
    out["batchnorm_fwd"] = timer(device, repeats, lambda: bn(xb))
    yb = bn(xb)
    gb = torch.randn_like(yb)
    out["batchnorm_bwd"] = timer(device, repeats, lambda: torch.autograd.grad(yb, [xb] + list(bn.parameters()), gb,
                                                                            retain_graph=True))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--ours", help="bench_kernels --json output to compare with")
    args = parser.parse_args()
    device = torch.device(args.device)
    ours = {}
    if args.ours:
        with open(args.ours) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    r = json.loads(line)
                    if r["device"].startswith(device.type):
                        ours[(r["name"], r["elements"])] = r["seconds"]
    sizes = [1 << 20] if args.quick else [1 << 20, 10 << 20, 100 << 20]
    repeats = 3 if args.quick else (100 if device.type == "cuda" else 5)
    if not args.json:
        print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}")
        print(f"{'kernel':16} {'elements':>11} {'torch ms':>10} {'torch GB/s':>11} {'ours ms':>9} {'ours/torch':>10}")
    for n in sizes:
        for name, seconds in rows(device, n, repeats).items():
            elements = n if not name.startswith("batchnorm") else max(n // 65536, 1) * 65536
            mine = ours.get((name, elements))
            if args.json:
                print(json.dumps({"peer": "torch", "device": str(device), "name": name, "elements": elements,
                                  "seconds": seconds, "gbps": BYTES[name] * elements / seconds / 1e9,
                                  "ours_seconds": mine, "ours_over_torch": mine / seconds if mine else None}))
            else:
                ratio = f"{mine / seconds:10.2f}" if mine else f"{'-':>10}"
                ours_ms = f"{mine * 1e3:9.3f}" if mine else f"{'-':>9}"
                print(f"{name:16} {elements:11d} {seconds * 1e3:10.3f} {BYTES[name] * elements / seconds / 1e9:11.1f} "
                      f"{ours_ms} {ratio}")


if __name__ == "__main__":
    main()
