"""Task adaptation of (alpha, w) as pure functions: two parameter groups, two rates.

Architecture logits and weights adapt together but at their own learning rates, which is
what T-NAS and MetaNAS do in their inner loops. The update rules themselves are the shared
ones of :mod:`metanas.meta.functional` (``sgd_step``, ``adam_step``), applied per group.
Everything composes with ``torch.func.vmap`` over the tasks of a meta-batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch.func import functional_call, grad
from torch.nn import functional as F

from metanas.meta import functional as meta_fn
from metanas.meta.functional import AdamState, Params
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
    """One learning rate for ``alpha`` and one for every weight tensor."""

    alpha: float
    weights: float

    def frozen_alpha(self) -> GroupRates:
        """The same rates with ``alpha`` fixed (warm-up, derived-cell fine-tuning)."""
        return GroupRates(alpha=0.0, weights=self.weights)


@dataclass(frozen=True)
class InnerSGD:
    """Plain gradient steps per group, as MAML and T-NAS adapt."""

    rates: GroupRates

    def init(self, params: Params) -> tuple[()]:
        return ()

    def step(self, params: Params, grads: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        (a, w), (ga, gw) = split_groups(params), split_groups(grads)
        return {
            **meta_fn.sgd_step(a, ga, self.rates.alpha),
            **meta_fn.sgd_step(w, gw, self.rates.weights),
        }, state


@dataclass(frozen=True)
class InnerAdam:
    """Adam with ``beta1 = 0`` per group: the inner optimiser of Reptile and MetaNAS."""

    rates: GroupRates
    beta2: float = 0.999
    eps: float = 1e-8

    def init(self, params: Params) -> tuple[AdamState, AdamState]:
        a, w = split_groups(params)
        return AdamState.zeros_like(a), AdamState.zeros_like(w)

    def step(
        self, params: Params, grads: Params, state: tuple[AdamState, AdamState]
    ) -> tuple[Params, tuple[AdamState, AdamState]]:
        (a, w), (ga, gw) = split_groups(params), split_groups(grads)
        a, sa = meta_fn.adam_step(a, ga, state[0], lr=self.rates.alpha, beta2=self.beta2,
                                  eps=self.eps)
        w, sw = meta_fn.adam_step(w, gw, state[1], lr=self.rates.weights, beta2=self.beta2,
                                  eps=self.eps)
        return {**a, **w}, (sa, sw)


InnerOptimizer = InnerSGD | InnerAdam


def adapt(
    params: Params, model: SuperNet, x: torch.Tensor, y: torch.Tensor, *,
    optimizer: InnerOptimizer, steps: int, op_weights: torch.Tensor | None = None,
) -> Params:
    """``steps`` full-batch updates of (alpha, w) on one task's examples (first order)."""
    loss_grad = grad(loss_fn)
    state = optimizer.init(params)
    for _ in range(steps):
        params, state = optimizer.step(params, loss_grad(params, model, x, y, op_weights), state)
    return params
