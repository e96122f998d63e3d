#!/usr/bin/python3
"""Writes PyTorch optimizer trajectories to tests/golden/data/optim_*.txt.

For each optimizer configuration: 10 float64 parameters start at p0 and follow 100
steps on the gradient g_t = c * (p - target) + 0.05 * sin(0.37 * t + i) (t = 1..100,
i the element), so the gradient depends on where the optimizer went. The file holds p0,
c, target and the parameters after every step ("trajectory", shape [100, 10]), in the
format of make_golden.py; tests/golden/optim_golden_test.cpp replays them.

Run with Debian's Python (apt-get install python3-torch):
/usr/bin/python3 tests/golden/make_optim_golden.py
"""
import math
import os

import torch

from make_golden import write

CONFIGS = {
    "sgd": (torch.optim.SGD, dict(lr=0.05)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.1)),
    "sgd_nesterov_l2": (torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "adagrad": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.02)),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01)),
    "rmsprop_centered_momentum": (torch.optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    "adam": (torch.optim.Adam, dict(lr=0.05)),
    "adam_amsgrad_l2": (torch.optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    "adamw": (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.05)),
}


# Clipped runs: clip_grad_norm_(max_norm) before every step, tight enough that most steps
# are scaled; the file also holds the norm clip_grad_norm_ returned at each step.
CLIP_MAX_NORM = 0.5


def main():
    for clipped in (False, True):
        for name, (cls, kwargs) in CONFIGS.items():
            torch.manual_seed(7)
            p0 = torch.randn(10, dtype=torch.float64)
            c = torch.rand(10, dtype=torch.float64) * 2 + 0.2
            target = torch.randn(10, dtype=torch.float64)
            p = p0.clone().requires_grad_()
            opt = cls([p], **kwargs)
            rows, norms = [], []
            for t in range(1, 101):
                noise = torch.tensor([0.05 * math.sin(0.37 * t + i) for i in range(10)], dtype=torch.float64)
                p.grad = (c * (p.detach() - target) + noise).clone()
                if clipped:
                    norms.append(torch.nn.utils.clip_grad_norm_([p], CLIP_MAX_NORM).detach().clone())
                opt.step()
                rows.append(p.detach().clone())
            data = {"p0": p0, "c": c, "target": target, "trajectory": torch.stack(rows)}
            if clipped:
                data["norms"] = torch.stack(norms)
            write("optim_" + name + ("_clipped" if clipped else ""), data)


if __name__ == "__main__":
    main()
