"""Task adaptation of (alpha, w) as pure functions: two parameter groups, two rates.

Architecture logits and weights adapt together but at their own learning rates, which is
what T-NAS and MetaNAS do in their inner loops: the shared inner loop and optimizers of
:mod:`metanas.meta.functional` (``adapt``, ``InnerSGD``, ``InnerAdam``) with a rate per
group (:class:`GroupRates`; Adam with ``beta1 = 0`` is elementwise, so one state over both
groups equals one per group). Everything composes with ``torch.func.vmap`` over the tasks
of a meta-batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch.func import functional_call
from torch.nn import functional as F

from metanas.meta import functional as meta_fn
from metanas.meta.functional import InnerOptimizer, Params
from metanas.supernet.network import ALPHA, SuperNet


def logits_fn(
    model: SuperNet, params: Mapping[str, torch.Tensor], x: torch.Tensor,
    op_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Supernet logits; ``op_weights`` (one-hot) fixes a derived cell."""
    return functional_call(model, dict(params), (x,), {"op_weights": op_weights})


def loss_fn(
    params: Params, model: SuperNet, x: torch.Tensor, y: torch.Tensor,
    op_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    return F.cross_entropy(logits_fn(model, params, x, op_weights), y)


def accuracy_fn(
    params: Params, model: SuperNet, x: torch.Tensor, y: torch.Tensor,
    op_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    return (logits_fn(model, params, x, op_weights).argmax(-1) == y).float().mean()


def split_groups(tensors: Mapping[str, torch.Tensor]) -> tuple[Params, Params]:
    """``({"alpha": ...}, {every weight})``."""
    alpha = {k: v for k, v in tensors.items() if k == ALPHA}
    weights = {k: v for k, v in tensors.items() if k != ALPHA}
    return alpha, weights


@dataclass(frozen=True)
class GroupRates:
    """One learning rate for ``alpha`` and one for every weight tensor; called with a
    parameter name, the rate of its group (a :data:`metanas.meta.functional.Rate`)."""

    alpha: float
    weights: float

    def __call__(self, name: str) -> float:
        return self.alpha if name == ALPHA else self.weights

    def frozen_alpha(self) -> GroupRates:
        """The same rates with ``alpha`` fixed (warm-up, derived-cell fine-tuning)."""
        return GroupRates(alpha=0.0, weights=self.weights)


def adapt(
    params: Params, model: SuperNet, x: torch.Tensor, y: torch.Tensor, *,
    optimizer: InnerOptimizer, steps: int, op_weights: torch.Tensor | None = None,
) -> Params:
    """``steps`` full-batch updates of (alpha, w) on one task's examples (first order:
    the supernet's loss is differentiated once), through :func:`metanas.meta.functional.adapt`.
    """

    def loss(p: Params, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, tuple[()]]:
        return loss_fn(p, model, xb, yb, op_weights), ()

    return meta_fn.adapt(loss, params, [(x, y)] * steps, optimizer=optimizer).params
