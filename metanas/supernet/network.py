"""The supernet of a cell search space: every cell edge mixes all of the space's operations.

One architecture-logit matrix ``alpha`` (``edges x ops`` of the space; NB201: 6 x 5) is
shared by every cell, as in DARTS and T-NAS: the searched object is one cell, which is what
a cell table indexes. The cell's DAG, op names and zero op come from the
:class:`~tabular_bench.spaces.cell.CellSearchSpace` (NB201 by default; TransNAS-Bench-101
micro works the same). The macro skeleton is NB201's ``TinyNetwork`` (stem, cells,
residual reduction blocks, BN-ReLU, global pooling, linear head) built from the same
operation modules (:mod:`tabular_bench.models.ops`), shrunk for 28x28 Omniglot.

Batch norm always uses batch statistics (no running buffers), as MAML does, so the network
is a pure function of its parameters under ``torch.func`` and a :class:`MetaLearner` model.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import replace_all_batch_norm_modules_
from torch.nn import functional as F

from tabular_bench.models.ops import ResNetBasicBlock, cell_space_edges, make_operation
from tabular_bench.spaces import NB201, CellSearchSpace

ALPHA = "alpha"
"""Name of the architecture-logit parameter; every other parameter is a weight."""


class MixedCell(nn.Module):
    """A cell of ``space`` whose edge ``e`` outputs ``sum_o weights[e, o] * op_o(x)`` (DARTS)."""

    def __init__(self, channels: int, space: CellSearchSpace) -> None:
        super().__init__()
        self.cell_edges, self.num_nodes = cell_space_edges(space), space.num_nodes
        self.zero_op = space.zero_op
        self.ops = nn.ModuleList(
            nn.ModuleList(make_operation(name, channels) for name in space.op_names)
            for _ in self.cell_edges
        )

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Mixed forward; ``weights`` is ``(num_edges, num_ops)`` (softmax or one-hot)."""
        nodes = [x]
        for target in range(1, self.num_nodes):
            total = torch.zeros_like(x)
            for e, (to, source) in enumerate(self.cell_edges):
                if to != target:
                    continue
                for o, op in enumerate(self.ops[e]):
                    if o != self.zero_op:  # the zero op adds nothing; it only takes softmax mass
                        total = total + weights[e, o] * op(nodes[source])
            nodes.append(total)
        return nodes[-1]


class SuperNet(nn.Module):
    """Supernet of a cell space for few-shot classification; parameters are ``alpha`` and
    weights.

    :param space: the cell space (DAG, op names, zero op); ``alpha`` is
        ``(space.num_edges, space.num_ops)``.
    :param channels: stem width C; the stages have C, 2C and 4C channels (NB201: 16).
    :param cells_per_stage: NB201's N (5 in the benchmark).
    :param num_classes: the N of N-way.
    :param stem_stride: 2 halves the input before the first cell (the stride-2 Conv-4 of
        MAML on Omniglot does the same); NB201 itself uses 1 on 32x32 CIFAR.
    :param generator: seeds the weight and ``alpha`` initialisation.

    Inputs are zero-padded (centred) to a side divisible by ``4 * stem_stride``, so the two
    reductions halve even sizes exactly as NB201's block expects (28x28 -> 32x32).
    """

    def __init__(
        self,
        *,
        channels: int = 8,
        cells_per_stage: int = 1,
        num_classes: int = 5,
        in_channels: int = 1,
        stem_stride: int = 2,
        space: CellSearchSpace = NB201,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if channels < 1 or cells_per_stage < 1 or num_classes < 2 or stem_stride < 1:
            raise ValueError(
                "need channels >= 1, cells_per_stage >= 1, num_classes >= 2, stem_stride >= 1; "
                f"got {channels}, {cells_per_stage}, {num_classes}, {stem_stride}"
            )
        cell_space_edges(space)  # a space no cell can be built from fails here, named
        self.stem_stride, self.space = stem_stride, space
        self.alpha = nn.Parameter(torch.zeros(space.num_edges, space.num_ops))
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, stride=stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        blocks: list[nn.Module] = []
        width = channels
        for stage in range(3):
            if stage:
                blocks.append(ResNetBasicBlock(width, 2 * width))
                width *= 2
            blocks.extend(MixedCell(width, space) for _ in range(cells_per_stage))
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Sequential(
            nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(width, num_classes),
        )
        replace_all_batch_norm_modules_(self)
        self.reset_parameters(generator or torch.Generator().manual_seed(0))

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Seeded init: PyTorch's default conv/linear rule, ``alpha ~ 1e-3 N(0, 1)`` (DARTS)."""
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, nn.Conv2d | nn.Linear):
                    bound = 1.0 / module.weight[0].numel() ** 0.5
                    module.weight.uniform_(-bound, bound, generator=generator)
                    if module.bias is not None:
                        module.bias.uniform_(-bound, bound, generator=generator)
            self.alpha.normal_(0.0, 1e-3, generator=generator)

    def forward(self, x: torch.Tensor, op_weights: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; edges mix ops by ``softmax(alpha)``, or by ``op_weights`` when given
        (a one-hot ``op_weights`` is the derived cell, see :func:`one_hot_weights`)."""
        weights = torch.softmax(self.alpha, dim=-1) if op_weights is None else op_weights
        h = self.stem(self._pad(x))
        for block in self.blocks:
            h = block(h, weights) if isinstance(block, MixedCell) else block(h)
        return self.head(h)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        multiple = 4 * self.stem_stride
        h, w = x.shape[-2:]
        dh, dw = -h % multiple, -w % multiple
        if not dh and not dw:
            return x
        return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def derive_codes(alpha: torch.Tensor, space: CellSearchSpace = NB201) -> torch.Tensor:
    """Argmax op per edge, never the zero op (as DARTS derives):
    ``(..., num_edges, num_ops) -> (..., num_edges)``.

    DARTS excludes the zero op because its logit does not compete on the same footing (it
    only rescales the others); every derived cell is therefore a full cell. A space without
    a zero op (``space.zero_op is None``) takes the plain argmax.
    """
    if alpha.shape[-2:] != (space.num_edges, space.num_ops):
        raise ValueError(
            f"alpha of a {space.name} supernet ends in (edges, ops) = "
            f"({space.num_edges}, {space.num_ops}), got shape {tuple(alpha.shape)}"
        )
    scores = alpha.detach().clone()
    if space.zero_op is not None:
        scores[..., space.zero_op] = float("-inf")
    return scores.argmax(dim=-1)


def one_hot_weights(codes: torch.Tensor, space: CellSearchSpace = NB201) -> torch.Tensor:
    """Op weights ``(..., num_edges, num_ops)`` that make the supernet compute ``codes``."""
    if codes.shape[-1:] != (space.num_edges,):
        raise ValueError(
            f"{space.name} codes end in {space.num_edges} edges, got shape {tuple(codes.shape)}"
        )
    return F.one_hot(codes, space.num_ops).to(torch.float32)

