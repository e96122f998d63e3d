#!/usr/bin/python3
"""Writes PyTorch learning-rate schedules to tests/golden/data/schedule_*.txt.

For each schedule: an SGD optimizer with lr 0.1 (OneCycle: max_lr 0.1), 120 calls to
step(), and the learning rate before the first call and after each ("lr", 121 values).
ReduceLROnPlateau is fed metric_t = 1 / (1 + t) for t < 30, then a plateau of
0.03 + 0.001·sin(t) ("metric", 120 values). tests/golden/optim_golden_test.cpp replays them.

Run with Debian's Python (apt-get install python3-torch):
/usr/bin/python3 tests/golden/make_schedule_golden.py
"""
import math

import torch
from torch.optim import lr_scheduler as S

from make_golden import write

STEPS = 120


def metric(t):
    return 1.0 / (1 + t) if t < 30 else 0.03 + 0.001 * math.sin(t)


CONFIGS = {
    "step": lambda o: S.StepLR(o, step_size=25, gamma=0.5),
    "multistep": lambda o: S.MultiStepLR(o, milestones=[10, 40, 41, 90], gamma=0.3),
    "exponential": lambda o: S.ExponentialLR(o, gamma=0.97),
    "cosine": lambda o: S.CosineAnnealingLR(o, T_max=120, eta_min=0.001),
    "cosine_warmup": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.25, total_iters=15), S.CosineAnnealingLR(o, T_max=105)],
        milestones=[15]),
    "onecycle": lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=121, pct_start=0.25,
                                       cycle_momentum=False),
    "plateau": lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=5, threshold=0.01,
                                             cooldown=3, min_lr=0.004),
    "plateau_max_abs": lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.2, patience=2,
                                                     threshold=0.001, threshold_mode="abs"),
}


def main():
    for name, make in CONFIGS.items():
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        lrs = [opt.param_groups[0]["lr"]]
        metrics = []
        for t in range(STEPS):
            opt.step()
            if name.startswith("plateau"):
                m = metric(t) if name == "plateau" else -metric(t)
                metrics.append(m)
                sched.step(m)
            else:
                sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        out = {"lr": torch.tensor(lrs, dtype=torch.float64)}
        if metrics:
            out["metric"] = torch.tensor(metrics, dtype=torch.float64)
        write("schedule_" + name, out)


if __name__ == "__main__":
    main()
