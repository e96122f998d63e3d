#!/usr/bin/python3
"""Writes PyTorch trajectories of clipped training to tests/golden/data/clip_*.txt.

clip_agc: unit-wise adaptive gradient clipping (Brock et al. 2021) written here as timm's
  adaptive_clip_grad does it (the reference implementation for PyTorch), before each of
  30 steps of torch.optim.SGD (lr 0.1, momentum 0.9) over a conv weight [4, 3, 3, 3] (one
  output row zero: the eps floor), its bias [4], a linear weight [5, 36], its bias [5] and
  a one-element vector. The gradient of element i (over the parameters in that order) at
  step t is s_k * (c_i * (p_i - target_i) + 0.05 * sin(0.37 * t + i)), s_k a per-parameter
  scale so that some units clip and some do not.
clip_autoclip: AutoClip (Seetharaman et al. 2020) as its paper's code does it: each step's
  global norm joins the history, and clip_grad_norm_ clips to numpy.percentile(history, 10);
  100 steps of SGD (lr 0.05, momentum 0.9) on 10 parameters whose gradient is
  c * (p - target) + 0.05 * sin(0.37 * t + i), times 30 every 7th step (spikes).

tests/golden/clip_golden_test.cpp replays both. Run with Debian's Python
(apt-get install python3-torch): /usr/bin/python3 tests/golden/make_clip_golden.py
"""
import math

import numpy as np
import torch

from make_golden import write

AGC_SHAPES = [(4, 3, 3, 3), (4,), (5, 36), (5,), (1,)]
AGC_SCALES = [1.0, 5.0, 0.012, 0.001, 3.0]
AGC_LAMBDA = 0.05
AGC_EPS = 1e-3


def unitwise_norm(x):
    if x.ndim <= 1:
        return x.norm(2)
    return x.norm(2, dim=tuple(range(1, x.ndim)), keepdim=True)


def adaptive_clip_grad(parameters, clip_factor, eps):
    for p in parameters:
        max_norm = unitwise_norm(p.detach()).clamp(min=eps).mul(clip_factor)
        grad_norm = unitwise_norm(p.grad.detach())
        clipped = p.grad.detach() * (max_norm / grad_norm.clamp(min=1e-6))
        p.grad.detach().copy_(torch.where(grad_norm < max_norm, p.grad.detach(), clipped))


def agc():
    torch.manual_seed(11)
    params = [torch.randn(*s, dtype=torch.float64) * 0.3 for s in AGC_SHAPES]
    params[0][2].zero_()
    total = sum(p.numel() for p in params)
    c = torch.rand(total, dtype=torch.float64) * 2 + 0.2
    target = torch.randn(total, dtype=torch.float64)
    data = {f"p0_{k}": p.clone() for k, p in enumerate(params)}
    params = [p.clone().requires_grad_() for p in params]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    rows = []
    for t in range(1, 31):
        flat = torch.cat([p.detach().reshape(-1) for p in params])
        noise = torch.tensor([0.05 * math.sin(0.37 * t + i) for i in range(total)], dtype=torch.float64)
        g = c * (flat - target) + noise
        offset = 0
        for p, s in zip(params, AGC_SCALES):
            p.grad = (s * g[offset:offset + p.numel()]).reshape(p.shape).clone()
            offset += p.numel()
        adaptive_clip_grad(params, AGC_LAMBDA, AGC_EPS)
        opt.step()
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]))
    data.update({"c": c, "target": target, "trajectory": torch.stack(rows)})
    write("clip_agc", data)


def autoclip():
    torch.manual_seed(7)
    p0 = torch.randn(10, dtype=torch.float64)
    c = torch.rand(10, dtype=torch.float64) * 2 + 0.2
    target = torch.randn(10, dtype=torch.float64)
    p = p0.clone().requires_grad_()
    opt = torch.optim.SGD([p], lr=0.05, momentum=0.9)
    history, rows, norms = [], [], []
    for t in range(1, 101):
        noise = torch.tensor([0.05 * math.sin(0.37 * t + i) for i in range(10)], dtype=torch.float64)
        g = c * (p.detach() - target) + noise
        p.grad = (g * (30.0 if t % 7 == 0 else 1.0)).clone()
        norm = p.grad.norm(2).item()
        history.append(norm)
        torch.nn.utils.clip_grad_norm_([p], float(np.percentile(history, 10)))
        opt.step()
        rows.append(p.detach().clone())
        norms.append(norm)
    write("clip_autoclip", {"p0": p0, "c": c, "target": target, "trajectory": torch.stack(rows),
                            "norms": torch.tensor(norms, dtype=torch.float64)})


if __name__ == "__main__":
    agc()
    autoclip()
