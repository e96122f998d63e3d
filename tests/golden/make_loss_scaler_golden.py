#!/usr/bin/python3
"""Writes PyTorch's GradScaler trajectories to tests/golden/data/loss_scaler_*.txt.

Ten float32 parameters p; at step t the loss is sum(p * G) with G the float32 rounding of
c * (p - target) + 0.05 * sin(0.37 * t + i), so backward through scaler.scale(loss) gives
the gradient G times the scale. Forced overflows: on some steps one element of G is made
too large for the scaled gradient (1e35: overflows while the scale is above 3.4e3),
infinite, or NaN. (Not 1e35 with a smaller scale under clipping: PyTorch takes a float32
tensor's norm in float32, where 1e35 squared overflows, and clips with a coefficient of 0;
ours is taken in float64, Note [clip scalars].) Recorded after every step: the parameters, the scale after update(), and
whether the step found infinities (skipped); with clipping, the global norm that
clip_grad_norm_ saw after scaler.unscale_.

  loss_scaler_sgd_clip  SGD (lr 0.05, momentum 0.9), clip_grad_norm_(1.0) after unscale_,
                        growth_interval 3, 1e35 on steps 5-9, NaN on step 20; 30 steps
  loss_scaler_adam      Adam (lr 0.01), no clipping, growth_interval 4, inf on steps 7
                        and 8, NaN on step 15, 1e35 on step 30; 40 steps

torch.amp.GradScaler("cpu") needs PyTorch 2.3 or later (Debian's 1.13 has only the CUDA
scaler): run with the PyPI wheel, ../shared/tools/torch215.sh --setup once, then
  ../shared/tools/torch215.sh tests/golden/make_loss_scaler_golden.py
tests/golden/loss_scaler_golden_test.cpp replays both.
"""
import math

import torch

from make_golden import write


def run(name, make_optimizer, steps, growth_interval, overrides, clip):
    torch.manual_seed(23)
    p0 = torch.randn(10, dtype=torch.float32)
    c = torch.rand(10, dtype=torch.float64) * 2 + 0.2
    target = torch.randn(10, dtype=torch.float64)
    p = p0.clone().requires_grad_()
    opt = make_optimizer([p])
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16, growth_factor=2.0,
                                  backoff_factor=0.5, growth_interval=growth_interval)
    rows, scales, skipped, norms = [], [], [], []
    for t in range(1, steps + 1):
        opt.zero_grad()
        noise = torch.tensor([0.05 * math.sin(0.37 * t + i) for i in range(10)],
                             dtype=torch.float64)
        g = (c * (p.detach().double() - target) + noise).float()
        for index, value in overrides.get(t, []):
            g[index] = value
        loss = (p * g).sum()
        scaler.scale(loss).backward()
        norm = math.nan
        if clip:
            scaler.unscale_(opt)
            norm = torch.nn.utils.clip_grad_norm_([p], 1.0).item()
        scaler.step(opt)
        found = sum(v.item() for v in scaler._found_inf_per_device(opt).values())
        scaler.update()
        rows.append(p.detach().clone())
        scales.append(scaler.get_scale())
        skipped.append(1 if found else 0)
        norms.append(norm)
    data = {"p0": p0, "c": c, "target": target, "trajectory": torch.stack(rows),
            "scales": torch.tensor(scales, dtype=torch.float64),
            "skipped": torch.tensor(skipped, dtype=torch.int64)}
    if clip:
        data["norms"] = torch.tensor(norms, dtype=torch.float64)
    write(name, data)


def main():
    big = [(3, 1e35)]
    run("loss_scaler_sgd_clip", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), 30, 3,
        {**{t: big for t in range(5, 10)}, 20: [(0, math.nan)]}, clip=True)
    run("loss_scaler_adam", lambda ps: torch.optim.Adam(ps, lr=0.01), 40, 4,
        {7: [(2, math.inf)], 8: [(2, -math.inf)], 15: [(0, math.nan)], 30: big}, clip=False)


if __name__ == "__main__":
    main()
