#!/usr/bin/env python3
"""PyTorch twin of bench/bench_train_step.cpp: the same training steps and op rows, timed
the same way (median of --runs runs after 3 warm-up runs, wall clock), printed as
"name ms" lines that bench_train_step --peer reads. Run with Debian's python3-torch:

    /usr/bin/python3 bench/torch_train_step.py --threads 2 > /tmp/torch_rows.txt

With --device cuda the step rows run on the GPU as ours do (bench_train_step --device cuda):
<model>_step bracketed by CUDA events on the current stream, <model>_step_issue the host's
time to issue one step on an idle GPU, and <model>_step_graph the same step captured once
in a CUDA graph (torch.cuda.graphs, Adam with capturable=True) and replayed; the op rows
are CPU-only, as ours.

The models are bench/torch_mnist.py's (the trainer's recipe); the inputs are random, as on
our side; cnn_step is the faster of the default layout and channels_last (both are printed
to stderr); the BLAS/oneDNN configuration is whatever this torch build picks (it prints its
version, threads and OPENBLAS_CORETYPE to stderr so a reader can see them).
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_mnist import cnn, mlp  # noqa: E402

BATCH = 128


def median_ms(runs, f):
    for _ in range(3):
        f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def step_ms(model, x, y, runs, bf16=False):
    """One Adam step; with bf16, forward and loss under torch.autocast("cpu", bfloat16)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return median_ms(runs, step)


def cuda_rows(rows, name, model, x, y, runs, bf16=False):
    """<name>, <name>_issue and <name>_graph on the GPU (see the module's docstring); with
    bf16, forward and loss under torch.autocast("cuda", bfloat16) (its cache off, as graph
    capture needs)."""
    model = model.cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=True)

    def step():
        opt.zero_grad(set_to_none=False)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    def timed(f):
        for _ in range(3):
            f()
        torch.cuda.synchronize()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for _ in range(runs):
            start.record()
            f()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
        return statistics.median(times)

    def issued(f):
        times = []
        for _ in range(runs):
            torch.cuda.synchronize()
            begin = time.perf_counter()
            f()
            times.append(time.perf_counter() - begin)
        torch.cuda.synchronize()
        return statistics.median(times) * 1e3

    rows.append((name, timed(step)))
    rows.append((name + "_issue", issued(step)))
    # Warm up on a side stream, as torch.cuda.graphs asks, then capture one whole step.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    rows.append((name + "_graph", timed(graph.replay)))


def op_rows(rows, name, runs, forward, bf16=False):
    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    def fwd():
        with torch.no_grad(), autocast():
            forward()

    def fwd_bwd():
        with autocast():
            y = forward()
        y.backward(ones.to(y.dtype))

    rows.append((name + "_fwd", median_ms(runs, fwd)))
    with autocast():
        ones = torch.ones_like(forward())
    rows.append((name + "_fwd_bwd", median_ms(runs, fwd_bwd)))


def leaf(*shape):
    return torch.randn(*shape, requires_grad=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}", file=sys.stderr)
    runs = max(args.runs, 20)
    y = torch.tensor([(i * 7) % 10 for i in range(BATCH)])
    if args.device == "cuda":
        print(f"# {torch.cuda.get_device_name()}, cuDNN {torch.backends.cudnn.version()}",
              file=sys.stderr)
        torch.backends.cudnn.benchmark = True
        rows = []
        x = torch.randn(BATCH, 1, 28, 28, device="cuda")
        cuda_rows(rows, "mlp_step", mlp(), x, y.cuda(), runs)
        cuda_rows(rows, "cnn_step", cnn(), x, y.cuda(), runs)
        cuda_rows(rows, "mlp_step_bf16", mlp(), x, y.cuda(), runs, bf16=True)
        cuda_rows(rows, "cnn_step_bf16", cnn(), x, y.cuda(), runs, bf16=True)
        for name, ms in rows:
            print(f"{name} {ms:.4f}")
        return
    # The CNN at PyTorch's best: eager in the default layout or channels_last, the faster.
    x = torch.randn(BATCH, 1, 28, 28)
    cnn_eager = step_ms(cnn(), x, y, runs)
    cnn_cl = step_ms(cnn().to(memory_format=torch.channels_last),
                     x.contiguous(memory_format=torch.channels_last), y, runs)
    print(f"# cnn_step: eager {cnn_eager:.3f} ms, channels_last {cnn_cl:.3f} ms", file=sys.stderr)
    rows = [("mlp_step", step_ms(mlp(), x, y, runs)), ("cnn_step", min(cnn_eager, cnn_cl))]
    # CPU autocast to bfloat16 (the _bf16 rows), the CNN again in the faster layout.
    cnn_bf16 = step_ms(cnn(), x, y, runs, bf16=True)
    cnn_cl_bf16 = step_ms(cnn().to(memory_format=torch.channels_last),
                          x.contiguous(memory_format=torch.channels_last), y, runs, bf16=True)
    print(f"# cnn_step_bf16: eager {cnn_bf16:.3f} ms, channels_last {cnn_cl_bf16:.3f} ms",
          file=sys.stderr)
    rows += [("mlp_step_bf16", step_ms(mlp(), x, y, runs, bf16=True)),
             ("cnn_step_bf16", min(cnn_bf16, cnn_cl_bf16))]
    x784, w1, b1 = leaf(BATCH, 784), leaf(512, 784), leaf(512)
    op_rows(rows, "linear_784_512", runs, lambda: F.linear(x784, w1, b1))
    op_rows(rows, "linear_784_512_bf16", runs, lambda: F.linear(x784, w1, b1), bf16=True)
    x14, wc, bc = leaf(BATCH, 32, 14, 14), leaf(64, 32, 3, 3), leaf(64)
    op_rows(rows, "conv2d_32_64_14", runs, lambda: F.conv2d(x14, wc, bc, padding=1))
    op_rows(rows, "conv2d_32_64_14_bf16", runs, lambda: F.conv2d(x14, wc, bc, padding=1),
            bf16=True)
    a14, gamma, beta = leaf(BATCH, 64, 14, 14), leaf(64), leaf(64)
    mean, var = torch.zeros(64), torch.ones(64)
    op_rows(rows, "batch_norm_64_14", runs,
            lambda: F.batch_norm(a14, mean, var, gamma, beta, training=True))
    op_rows(rows, "max_pool2d_64_14", runs, lambda: F.max_pool2d(a14, 2))
    op_rows(rows, "relu_64_14", runs, lambda: F.relu(a14))
    h512 = leaf(BATCH, 512)
    op_rows(rows, "dropout_512", runs, lambda: F.dropout(h512, 0.2, training=True))
    for name, ms in rows:
        print(f"{name} {ms:.4f}")


if __name__ == "__main__":
    main()
