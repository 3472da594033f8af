"""Pure functions over parameter dicts: one task's loss and accuracy, and the inner loop.

Nothing here mutates a module or an optimizer, so every function composes with
``torch.func.grad`` (second-order MAML differentiates through :func:`adapt`) and with
``torch.func.vmap`` over the tasks of a meta-batch.

:func:`adapt` is the one inner loop of every MAML/Reptile variant in the project (Conv-4
MAML and Reptile, the supernet's T-NAS and MetaNAS, the prior's predictor): a loss
``loss(params, *batch) -> (value, aux)`` (parameters first, as ``torch.func`` takes them),
the batches to step on, and an inner optimizer (:class:`InnerSGD`, :class:`InnerAdam`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.func import functional_call, grad_and_value
from torch.nn import functional as F

Params = dict[str, torch.Tensor]


def logits(model: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return functional_call(model, dict(params), (x,))


def accuracy(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits(model, params, x).argmax(-1) == y).float().mean()


def classification_loss(model: nn.Module) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """``loss(params, x, y) -> (mean cross-entropy, logits)`` of ``model``, for :func:`adapt`."""

    def loss(params: Params, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = logits(model, params, x)
        return F.cross_entropy(out, y), out

    return loss


Rate = float | Callable[[str], float]
"""One learning rate, or one per parameter name (the supernet's alpha and weights)."""


def _rate(lr: Rate, name: str) -> float:
    return lr(name) if callable(lr) else lr


def sgd_step(params: Params, grads: Params, lr: Rate) -> Params:
    """One inner gradient step ``theta - lr * g`` (MAML's adaptation rule)."""
    return {name: p - _rate(lr, name) * grads[name] for name, p in params.items()}


class AdamState(NamedTuple):
    """Second moments and step count of an inner Adam with ``beta1 = 0``.

    With ``beta1 = 0`` Adam keeps no first moment: the step is ``g / sqrt(v_hat)``. A named
    tuple, so that ``vmap`` can return it.
    """

    v: Params
    t: torch.Tensor

    @staticmethod
    def zeros_like(params: Params) -> AdamState:
        device = next(iter(params.values())).device
        v = {k: torch.zeros_like(p) for k, p in params.items()}
        return AdamState(v, torch.zeros((), device=device))


def adam_step(
    params: Params, grads: Params, state: AdamState, *, lr: Rate, beta2: float, eps: float
) -> tuple[Params, AdamState]:
    """One step of Adam with ``beta1 = 0`` (Reptile's inner optimizer), as TensorFlow's Adam.

    TensorFlow folds the bias correction into the rate, ``lr_t = lr * sqrt(1 - beta2^t)``,
    and adds ``eps`` to the uncorrected ``sqrt(v)``; we do the same so that the published
    hyper-parameters mean what they meant in openai/supervised-reptile.
    """
    t = state.t + 1
    correction = torch.sqrt(1 - beta2**t)
    v = {k: beta2 * state.v[k] + (1 - beta2) * grads[k] ** 2 for k in params}
    new = {
        k: p - (_rate(lr, k) * correction) * grads[k] / (torch.sqrt(v[k]) + eps)
        for k, p in params.items()
    }
    return new, AdamState(v, t)


@dataclass(frozen=True)
class InnerSGD:
    """Plain gradient steps (MAML, T-NAS, the predictor)."""

    lr: Rate

    def init(self, params: Params) -> tuple[()]:
        return ()

    def step(self, params: Params, grads: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        return sgd_step(params, grads, self.lr), state


@dataclass(frozen=True)
class InnerAdam:
    """Adam with ``beta1 = 0`` (:func:`adam_step`): Reptile's and MetaNAS' inner optimizer."""

    lr: Rate
    beta2: float = 0.999
    eps: float = 1e-8

    def init(self, params: Params) -> AdamState:
        return AdamState.zeros_like(params)

    def step(self, params: Params, grads: Params, state: AdamState) -> tuple[Params, AdamState]:
        return adam_step(params, grads, state, lr=self.lr, beta2=self.beta2, eps=self.eps)


InnerOptimizer = InnerSGD | InnerAdam


class Adapted(NamedTuple):
    """What :func:`adapt` returns: the adapted parameters, the optimizer's state, and the
    loss and auxiliary output (e.g. logits) of the last batch, before its step."""

    params: Params
    state: Any
    loss: torch.Tensor | None
    aux: Any


def adapt(
    loss: Callable[..., tuple[torch.Tensor, Any]],
    params: Params,
    batches: Iterable[tuple[torch.Tensor, ...]],
    *,
    optimizer: InnerOptimizer,
    state: Any = None,
    first_order: bool = False,
) -> Adapted:
    """One ``optimizer`` step on ``loss(params, *batch)`` per batch: the inner loop.

    Pure: differentiable through the steps (second-order MAML) unless ``first_order``,
    which stops the gradient at each step's gradient.

    :param loss: returns ``(value, aux)``; ``aux`` of the last batch is returned.
    :param batches: e.g. ``[(x, y)] * steps`` (full batch) or one mini-batch per step.
    :param state: the optimizer's state to continue from (default: a fresh one).
    """
    step_grad = grad_and_value(loss, has_aux=True)
    state = optimizer.init(params) if state is None else state
    value = aux = None
    for batch in batches:
        grads, (value, aux) = step_grad(params, *batch)
        if first_order:
            grads = {k: g.detach() for k, g in grads.items()}
        params, state = optimizer.step(params, grads, state)
    return Adapted(params, state, value, aux)
