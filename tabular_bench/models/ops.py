"""NAS-Bench-201 operations, written once for one model or ``groups`` fused models.

Every layer here takes a ``groups`` argument: with ``groups=M`` its tensors hold M models
side by side, model-major along the channel axis (model ``m`` owns channels
``[m * C, (m + 1) * C)``). Convolutions become grouped convolutions, batch norm is per
channel anyway, and pooling, identity and zero act channel-wise, so one fused layer
computes exactly what M separate layers compute, in one kernel launch each.
Semantics follow NB201's ``cell_operations.py`` (Dong & Yang, ICLR 2020).

:data:`OPERATIONS` is the library of cell operations by name; a search space names its
ops, and :func:`cell_space_edges` checks that every one of them is built here (the
TransNAS-Bench-101 micro ops are NB201's ``none``, ``skip_connect`` and two convolutions).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from tabular_bench.spaces.base import SearchSpace
from tabular_bench.spaces.cell import CellSearchSpace


class ReLUConvBN(nn.Sequential):
    """ReLU, bias-free convolution, batch norm (NB201's ``ReLUConvBN``)."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, groups: int = 1
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                c_in * groups, c_out * groups, kernel, stride, padding, bias=False, groups=groups
            ),
            nn.BatchNorm2d(c_out * groups),
        )


class AvgPool3x3(nn.Module):
    """3x3 average pooling, stride 1, padding excluded from the mean (as in NB201)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class Zero(nn.Module):
    """The ``none`` operation: an edge that carries nothing (zeros, so shapes still add)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ResNetBasicBlock(nn.Module):
    """NB201's reduction block: two 3x3 ReLUConvBN (first strided) plus a pooled shortcut."""

    def __init__(self, c_in: int, c_out: int, groups: int = 1) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, groups)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, groups)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in * groups, c_out * groups, 1, bias=False, groups=groups),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


OPERATIONS: dict[str, Callable[[int, int], nn.Module]] = {
    "none": lambda c, g: Zero(),
    "skip_connect": lambda c, g: nn.Identity(),
    "nor_conv_1x1": lambda c, g: ReLUConvBN(c, c, 1, 1, 0, g),
    "nor_conv_3x3": lambda c, g: ReLUConvBN(c, c, 3, 1, 1, g),
    "avg_pool_3x3": lambda c, g: AvgPool3x3(),
}
"""Operation name -> constructor ``(channels per model, models) -> module``."""


def make_operation(name: str, channels: int, groups: int = 1) -> nn.Module:
    """Build operation ``name`` or raise naming the known ones."""
    try:
        factory = OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}") from None
    return factory(channels, groups)


def cell_space_edges(space: SearchSpace) -> tuple[tuple[int, int], ...]:
    """The DAG edges of ``space`` once it is known to be buildable: a cell space with a
    DAG whose every op is in :data:`OPERATIONS`; otherwise a ``ValueError`` naming why."""
    if not isinstance(space, CellSearchSpace):
        raise ValueError(
            f"a cell network needs a CellSearchSpace with a cell DAG (e.g. NB201, "
            f"TRANSNAS_MICRO), got {type(space).__name__} {getattr(space, 'name', space)!r}"
        )
    missing = [op for op in space.op_names if op not in OPERATIONS]
    if missing:
        raise ValueError(
            f"no module for op(s) {missing} of space {space.name}; known operations: "
            f"{', '.join(OPERATIONS)} (add one to tabular_bench.models.ops.OPERATIONS)"
        )
    return space.cell_edges
