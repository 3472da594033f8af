"""Analytic FLOPs and parameter counts of the standard NAS-Bench-201 network.

The network (Dong & Yang, ICLR 2020; ``TinyNetwork`` in AutoDL-Projects): a 3x3 conv stem
(3 -> C, no bias) with BatchNorm; three stages of N cells at C, 2C, 4C channels; between
stages a residual reduction block (ReLU-conv3x3/2-BN, ReLU-conv3x3-BN, shortcut
avgpool2x2/2 + conv1x1); a final BN + ReLU, global average pooling and a linear classifier.
Every cell edge is built and run, even one that cannot reach the output. A conv edge is
ReLU-conv-BN; an ``avg_pool_3x3`` edge is a 3x3/1 average pool; ``skip_connect`` and
``none`` are free.

Counting convention: the one of NASLib's zero-cost data (``naslib_zc_nasbench201.json``,
computed with tensorwatch's torchstat-style counter), which these functions reproduce
exactly for all its cells: a convolution costs its multiply-accumulates (no bias), a
pooling window ``k*k`` per output, ReLU one per element, BatchNorm (affine) two per
element, the classifier ``in*out``, and the global average pool ``(s+1)**2`` per channel
for an ``s x s`` input (the value that counter yields; an empirical term). Parameters are
all trainable weights, BatchNorm's affine ones included (running statistics are buffers).
Both are in millions, like the benchmark tables.

The cell is any cell space's (NB201 by default): each edge costs what its op costs, looked
up by op name in :data:`_OP_COSTS`; a space with an op that has no cost model is refused.
For a TransNAS-Bench-101 micro code this counts the NB201 network with that cell (what
:class:`~tabular_bench.models.TinyNetwork` builds for it), not TransNAS-Bench's own network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tabular_bench.spaces.cell import CellSearchSpace
from tabular_bench.spaces.nb201 import NB201


@dataclass(frozen=True)
class NetworkConfig:
    """Input and width of the standard network for one dataset."""

    resolution: int
    num_classes: int
    channels: int = 16
    cells_per_stage: int = 5


DATASET_CONFIGS: dict[str, NetworkConfig] = {
    "cifar10-valid": NetworkConfig(32, 10),
    "cifar10": NetworkConfig(32, 10),
    "cifar100": NetworkConfig(32, 100),
    "ImageNet16-120": NetworkConfig(16, 120),
}


def network_config(dataset: str) -> NetworkConfig:
    """The standard network's configuration for ``dataset``."""
    if dataset not in DATASET_CONFIGS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {tuple(DATASET_CONFIGS)}")
    return DATASET_CONFIGS[dataset]


def flops(codes: np.ndarray, dataset: str, space: CellSearchSpace = NB201) -> np.ndarray:
    """FLOPs (millions) of the standard network of each code of ``space``, shape ``(n,)``."""
    fixed, per_op = _Counter(network_config(dataset), flops=True).totals(space)
    return fixed + _edge_sum(codes, per_op, space)


def params(codes: np.ndarray, dataset: str, space: CellSearchSpace = NB201) -> np.ndarray:
    """Trainable parameters (millions) of the standard network of each code of ``space``."""
    fixed, per_op = _Counter(network_config(dataset), flops=False).totals(space)
    return fixed + _edge_sum(codes, per_op, space)


def _edge_sum(codes: np.ndarray, per_op: np.ndarray, space: CellSearchSpace) -> np.ndarray:
    codes = np.atleast_2d(np.asarray(codes))
    space.keys(codes)  # validates: a ValueError names the space's code shape and ops
    return per_op[codes.astype(np.int64)].sum(axis=1)


@dataclass(frozen=True)
class _Counter:
    """FLOPs or parameters of the network's layers, one method per layer type."""

    cfg: NetworkConfig
    flops: bool

    def totals(self, space: CellSearchSpace) -> tuple[float, np.ndarray]:
        """Cost of the fixed layers, and of one edge per op of ``space`` summed over all
        cells (M)."""
        space.cell_edges  # noqa: B018 -- a space with no cell DAG is refused, named
        unknown = [op for op in space.op_names if op not in _OP_COSTS]
        if unknown:
            raise ValueError(
                f"no cost model for op(s) {unknown} of space {space.name}; costed ops: "
                f"{', '.join(_OP_COSTS)} (add one to tabular_bench.flops._OP_COSTS)"
            )
        c, side, cells = self.cfg.channels, self.cfg.resolution, self.cfg.cells_per_stage
        fixed = self.conv(3, c, 3, side) + self.bn(c, side)  # stem
        per_op = np.zeros(space.num_ops)
        for stage in range(3):
            width = c * 2**stage
            if stage:
                fixed += self.reduction_block(width // 2, width, side)
                side //= 2
            for o, op in enumerate(space.op_names):
                per_op[o] += cells * _OP_COSTS[op](self, width, side)
        last = 4 * c
        fixed += self.bn(last, side) + self.relu(last, side)
        fixed += self.global_pool(last, side) + self.linear(last, self.cfg.num_classes)
        return fixed / 1e6, per_op / 1e6

    def conv(self, c_in: int, c_out: int, kernel: int, out_side: int) -> int:
        weights = c_in * c_out * kernel * kernel
        return weights * out_side * out_side if self.flops else weights

    def bn(self, channels: int, side: int) -> int:
        return 2 * channels * side * side if self.flops else 2 * channels

    def relu(self, channels: int, side: int) -> int:
        return channels * side * side if self.flops else 0

    def pool(self, channels: int, kernel: int, out_side: int) -> int:
        return channels * out_side * out_side * kernel * kernel if self.flops else 0

    def global_pool(self, channels: int, side: int) -> int:
        return channels * (side + 1) ** 2 if self.flops else 0

    def linear(self, n_in: int, n_out: int) -> int:
        return n_in * n_out if self.flops else n_in * n_out + n_out

    def reduction_block(self, c_in: int, c_out: int, in_side: int) -> int:
        out = in_side // 2
        total = self.relu(c_in, in_side) + self.conv(c_in, c_out, 3, out) + self.bn(c_out, out)
        total += self.relu(c_out, out) + self.conv(c_out, c_out, 3, out) + self.bn(c_out, out)
        total += self.pool(c_in, 2, out) + self.conv(c_in, c_out, 1, out)  # shortcut
        return total


def _relu_conv_bn(kernel: int) -> Callable[[_Counter, int, int], int]:
    def cost(counter: _Counter, width: int, side: int) -> int:
        conv = counter.conv(width, width, kernel, side)
        return conv + counter.relu(width, side) + counter.bn(width, side)

    return cost


_OP_COSTS: dict[str, Callable[[_Counter, int, int], int]] = {
    "none": lambda counter, width, side: 0,
    "skip_connect": lambda counter, width, side: 0,
    "nor_conv_1x1": _relu_conv_bn(1),
    "nor_conv_3x3": _relu_conv_bn(3),
    "avg_pool_3x3": lambda counter, width, side: counter.pool(width, 3, side),
}
"""Cost of one cell edge by op name: ``(counter, channels, side) -> count``."""
