"""Pure functions over parameter dicts: one task's loss and accuracy, and inner-loop steps.

Nothing here mutates a module or an optimizer, so every function composes with
``torch.func.grad`` (second-order MAML differentiates through :func:`sgd_step`) and with
``torch.func.vmap`` over the tasks of a meta-batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn
from torch.func import functional_call, grad_and_value
from torch.nn import functional as F

Params = dict[str, torch.Tensor]


def logits(model: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return functional_call(model, dict(params), (x,))


def loss(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of one task's batch."""
    return F.cross_entropy(logits(model, params, x), y)


def accuracy(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits(model, params, x).argmax(-1) == y).float().mean()


def loss_grad(
    model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor
) -> tuple[Params, torch.Tensor, torch.Tensor]:
    """Gradient of the batch loss, with the loss and logits it came with (no second pass)."""

    def loss_and_logits(p: Params) -> tuple[torch.Tensor, torch.Tensor]:
        out = logits(model, p, x)
        return F.cross_entropy(out, y), out

    grads, (value, out) = grad_and_value(loss_and_logits, has_aux=True)(params)
    return grads, value, out


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """One inner gradient step ``theta - lr * g`` (MAML's adaptation rule)."""
    return {name: p - lr * grads[name] for name, p in params.items()}


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
    params: Params, grads: Params, state: AdamState, *, lr: float, beta2: float, eps: float
) -> tuple[Params, AdamState]:
    """One step of Adam with ``beta1 = 0`` (Reptile's inner optimizer), as TensorFlow's Adam.

    TensorFlow folds the bias correction into the rate, ``lr_t = lr * sqrt(1 - beta2^t)``,
    and adds ``eps`` to the uncorrected ``sqrt(v)``; we do the same so that the published
    hyper-parameters mean what they meant in openai/supervised-reptile.
    """
    t = state.t + 1
    lr_t = lr * torch.sqrt(1 - beta2**t)
    v = {k: beta2 * state.v[k] + (1 - beta2) * grads[k] ** 2 for k in params}
    new = {k: p - lr_t * grads[k] / (torch.sqrt(v[k]) + eps) for k, p in params.items()}
    return new, AdamState(v, t)
