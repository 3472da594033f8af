"""The NAS-Bench-201 network (``TinyNetwork``) and M of them fused into one module.

Layout as in NB201's ``cell_infers/tiny_network.py``: a 3x3 stem, three stages of ``N``
cells with ``C``, ``2C`` and ``4C`` channels joined by residual reduction blocks, then
batch norm, ReLU, global average pooling and a linear classifier. Small tasks use a
smaller ``C`` and ``N``. The cell is any :class:`~tabular_bench.spaces.cell.CellSearchSpace`
with a DAG (its edges and op names come from the space; NB201 by default, TransNAS-Bench-101
micro cells too).

:class:`FusedTinyNetwork` holds M networks of the *same cell* (different seeds or tasks)
as grouped convolutions, so a GPU trains them with one kernel launch per layer instead
of M. It is numerically the same as M separate :class:`TinyNetwork` (see the tests):
:meth:`FusedTinyNetwork.from_networks` copies their weights in and
:meth:`FusedTinyNetwork.network_state` copies model ``m`` back out.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from tabular_bench.models.ops import ResNetBasicBlock, cell_space_edges, make_operation
from tabular_bench.spaces.cell import CellSearchSpace
from tabular_bench.spaces.nb201 import NB201


class InferCell(nn.Module):
    """A fixed cell: node ``j`` sums ``op_(j<-i)(node i)`` over its input edges; the last
    node of the space's DAG is the output."""

    def __init__(
        self, cell_ops: Sequence[str], channels: int, groups: int, space: CellSearchSpace
    ) -> None:
        super().__init__()
        self.cell_edges = cell_space_edges(space)
        if len(cell_ops) != len(self.cell_edges):
            raise ValueError(
                f"a {space.name} cell has {len(self.cell_edges)} edges, got ops {cell_ops!r}"
            )
        unknown = [op for op in cell_ops if op not in space.op_names]
        if unknown:
            raise ValueError(
                f"unknown operation {unknown[0]!r} in a {space.name} cell; its ops are "
                f"{', '.join(space.op_names)}"
            )
        self.num_nodes = space.num_nodes
        self.edges = nn.ModuleList(make_operation(op, channels, groups) for op in cell_ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, self.num_nodes):
            nodes.append(
                sum(
                    op(nodes[source])
                    for op, (to, source) in zip(self.edges, self.cell_edges, strict=True)
                    if to == target
                )
            )
        return nodes[-1]


def _feature_extractor(
    cell_ops: Sequence[str], channels: int, cells_per_stage: int, in_channels: int, groups: int,
    space: CellSearchSpace,
) -> tuple[nn.Sequential, int]:
    """Stem, stages and final BN-ReLU-pool of ``groups`` fused networks; returns its width."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels * groups, channels * groups, 3, padding=1, bias=False, groups=groups),
        nn.BatchNorm2d(channels * groups),
    ]
    width = channels
    for stage in range(3):
        if stage:
            layers.append(ResNetBasicBlock(width, width * 2, groups))
            width *= 2
        layers.extend(InferCell(cell_ops, width, groups, space) for _ in range(cells_per_stage))
    layers += [
        nn.BatchNorm2d(width * groups),
        nn.ReLU(inplace=False),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ]
    return nn.Sequential(*layers), width


class TinyNetwork(nn.Module):
    """One NB201 network for cell ``cell_ops`` (one op name per edge of ``space``, in
    its code order).

    :param channels: ``C``, the width of the first stage (16 in NB201).
    :param cells_per_stage: ``N`` (5 in NB201).
    :param space: the cell space whose DAG and op names the cell follows.
    """

    def __init__(
        self,
        cell_ops: Sequence[str],
        channels: int = 16,
        cells_per_stage: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
        space: CellSearchSpace = NB201,
    ) -> None:
        super().__init__()
        self.space = space
        self.features, width = _feature_extractor(
            cell_ops, channels, cells_per_stage, in_channels, groups=1, space=space
        )
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, num_classes)`` of images ``(batch, in_channels, H, W)``."""
        return self.classifier(self.features(x))


class FusedTinyNetwork(nn.Module):
    """``num_models`` NB201 networks of one cell in one module (grouped convolutions).

    Inputs are ``(batch, num_models, in_channels, H, W)``: each model sees its own images
    (its own task or data order). Outputs are logits ``(batch, num_models, max classes)``;
    a model with fewer classes than the widest has its extra logits at ``-inf``, which
    leaves its softmax and cross-entropy exactly those of its own network.
    """

    def __init__(
        self,
        cell_ops: Sequence[str],
        num_models: int,
        channels: int = 16,
        cells_per_stage: int = 5,
        num_classes: int | Sequence[int] = 10,
        in_channels: int = 3,
        space: CellSearchSpace = NB201,
    ) -> None:
        super().__init__()
        classes = (
            [num_classes] * num_models if isinstance(num_classes, int) else list(num_classes)
        )
        if len(classes) != num_models or num_models < 1:
            raise ValueError(f"need one class count per model ({num_models}), got {classes}")
        self.num_models, self.space = num_models, space
        self.in_channels = in_channels
        self.width_per_model = 4 * channels
        self.features, width = _feature_extractor(
            cell_ops, channels, cells_per_stage, in_channels, groups=num_models, space=space
        )
        max_classes = max(classes)
        self.weight = nn.Parameter(torch.zeros(num_models, max_classes, width))
        self.bias = nn.Parameter(torch.zeros(num_models, max_classes))
        mask = torch.zeros(num_models, max_classes)
        for m, k in enumerate(classes):
            mask[m, k:] = float("-inf")
        self.register_buffer("logit_mask", mask, persistent=False)
        self.num_classes = tuple(classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, models = x.shape[:2]
        if models != self.num_models or x.shape[2] != self.in_channels:
            raise ValueError(
                f"expected input (batch, {self.num_models}, {self.in_channels}, H, W), "
                f"got {tuple(x.shape)}"
            )
        pooled = self.features(x.reshape(batch, models * self.in_channels, *x.shape[3:]))
        pooled = pooled.view(batch, models, self.width_per_model)
        return torch.einsum("bmc,mkc->bmk", pooled, self.weight) + self.bias + self.logit_mask

    # -- weights in and out ----------------------------------------------------------
    @classmethod
    def from_networks(
        cls,
        cell_ops: Sequence[str],
        networks: Sequence[TinyNetwork],
        channels: int,
        cells_per_stage: int,
        in_channels: int,
    ) -> FusedTinyNetwork:
        """Fuse separately built (seeded) networks of one space, so fused training starts
        where theirs does."""
        spaces = {net.space for net in networks}
        if len(spaces) != 1:
            raise ValueError(f"networks of one space fuse, got {sorted(s.name for s in spaces)}")
        classes = [net.classifier.out_features for net in networks]
        fused = cls(cell_ops, len(networks), channels, cells_per_stage, classes, in_channels,
                    space=spaces.pop())
        with torch.no_grad():
            fused_feats = fused.features.state_dict()
            separate = [net.features.state_dict() for net in networks]
            for name in fused_feats:
                parts = [state[name] for state in separate]
                fused_feats[name].copy_(parts[0] if parts[0].ndim == 0 else torch.cat(parts))
            for m, net in enumerate(networks):
                k = net.classifier.out_features
                fused.weight[m, :k] = net.classifier.weight
                fused.bias[m, :k] = net.classifier.bias
        return fused

    def network_state(self, m: int) -> dict[str, torch.Tensor]:
        """State dict of model ``m`` as a :class:`TinyNetwork` would have it."""
        state: dict[str, torch.Tensor] = {}
        for name, tensor in self.features.state_dict().items():
            if tensor.ndim == 0:  # BN's num_batches_tracked is shared by all models
                state[f"features.{name}"] = tensor.clone()
            else:
                block = tensor.shape[0] // self.num_models
                state[f"features.{name}"] = tensor[m * block : (m + 1) * block].clone()
        k = self.num_classes[m]
        state["classifier.weight"] = self.weight[m, :k].detach().clone()
        state["classifier.bias"] = self.bias[m, :k].detach().clone()
        return state
