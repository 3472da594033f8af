"""FLOPs of a built network, counted on the module itself with forward hooks.

The convention is that of :mod:`tabular_bench.flops` (NASLib's zero-cost data for
NAS-Bench-201): multiply-accumulates of convolutions and of the classifier, ``k*k`` per
output of a pooling window, one per element for ReLU, two for batch norm, and
``(s+1)**2`` per channel for the global pool of an ``s x s`` map. Counting the module
(rather than a formula) covers every network the builder trains: any channels, cells,
input channels, input size or class count.
"""

from __future__ import annotations

import torch
from torch import nn

from tabular_bench.models.ops import AvgPool3x3


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """Millions of FLOPs of one forward pass of one image shaped ``input_shape`` (C, H, W)."""
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        per_image = output[0].numel()
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total += per_image * (module.in_channels // module.groups) * kernel
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, AvgPool3x3):
            total += per_image * 9
        elif isinstance(module, nn.AvgPool2d):
            total += per_image * module.kernel_size * module.kernel_size
        elif isinstance(module, nn.ReLU):
            total += per_image
        elif isinstance(module, nn.BatchNorm2d):
            total += 2 * per_image
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            channels, side = inputs[0].shape[1], inputs[0].shape[-1]
            total += channels * (side + 1) ** 2

    counted = (
        nn.Conv2d, nn.Linear, nn.AvgPool2d, AvgPool3x3, nn.ReLU, nn.BatchNorm2d,
        nn.AdaptiveAvgPool2d,
    )
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, counted)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return total / 1e6


def count_params(model: nn.Module) -> float:
    """Millions of trainable parameters (batch norm's affine ones included)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
