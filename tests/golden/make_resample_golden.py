#!/usr/bin/python3
"""Golden values for conv1d, adaptive_avg_pool2d and interpolate (issue 31), from PyTorch's
torch.nn.functional in float64: inputs, an upstream gradient, the output and the input
gradients, in make_golden.py's format. Run with Debian's Python:
/usr/bin/python3 tests/golden/make_resample_golden.py
"""
import torch
import torch.nn.functional as F

from make_golden import leaf, with_grads, write


def conv1d_case(name, x_shape, w_shape, **kwargs):
    x, w, b = leaf(*x_shape), leaf(*w_shape), leaf(w_shape[0])
    data = {"x": x, "weight": w, "bias": b}
    data.update(with_grads(F.conv1d(x, w, b, **kwargs), [x, w, b], ["x", "weight", "bias"]))
    write(name, data)


def unary_case(name, x_shape, f):
    x = leaf(*x_shape)
    data = {"x": x}
    data.update(with_grads(f(x), [x], ["x"]))
    write(name, data)


def main():
    torch.manual_seed(3100)
    conv1d_case("conv1d", (2, 3, 11), (4, 3, 3), stride=2, padding=1, dilation=2)
    conv1d_case("conv1d_groups_unbatched", (4, 9), (6, 2, 4), padding=2, groups=2)
    unary_case("adaptive_avg_pool2d", (2, 3, 7, 10), lambda x: F.adaptive_avg_pool2d(x, (3, 4)))
    unary_case("adaptive_avg_pool2d_grow", (1, 2, 2, 5), lambda x: F.adaptive_avg_pool2d(x, (3, 1)))
    unary_case("interpolate_nearest", (2, 2, 3, 5),
               lambda x: F.interpolate(x, size=(7, 4), mode="nearest"))
    unary_case("interpolate_nearest_scale", (1, 3, 4, 3),
               lambda x: F.interpolate(x, scale_factor=(2.0, 1.5), mode="nearest"))
    unary_case("interpolate_bilinear", (2, 2, 4, 6),
               lambda x: F.interpolate(x, size=(7, 3), mode="bilinear", align_corners=False))
    unary_case("interpolate_bilinear_corners", (1, 2, 5, 3),
               lambda x: F.interpolate(x, size=(4, 8), mode="bilinear", align_corners=True))
    unary_case("interpolate_bilinear_scale", (1, 1, 4, 5),
               lambda x: F.interpolate(x, scale_factor=(1.5, 0.5), mode="bilinear"))


if __name__ == "__main__":
    main()
