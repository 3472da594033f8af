"""A small MLP performance predictor over cell encodings, written as pure functions.

Parameters live in a plain ``dict[str, Tensor]`` so that adaptation is a pure function
of (parameters, data) under :mod:`torch.func`: MAML differentiates through it, Reptile
only reads its result, and the BO loop calls the same function to fine-tune on a held-out
dataset's first queries. Targets are standardised per task (see :func:`standardise`), so
what transfers between datasets is the *ranking* of cells, not each dataset's accuracy
scale.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch
from torch.func import grad

from metanas.meta.functional import Params, sgd_step


def init_mlp(in_features: int, hidden: Sequence[int], *, generator: torch.Generator) -> Params:
    """He-initialised weights of an MLP ``in -> hidden... -> 1`` (zero biases)."""
    sizes = [in_features, *hidden, 1]
    params: Params = {}
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        std = (2.0 / fan_in) ** 0.5
        params[f"w{layer}"] = torch.randn(fan_in, fan_out, generator=generator) * std
        params[f"b{layer}"] = torch.zeros(fan_out)
    return params


def mlp(params: Params, x: torch.Tensor) -> torch.Tensor:
    """Predicted (standardised) score of each row of ``x``; shape ``(n,)``."""
    layers = len(params) // 2
    for layer in range(layers):
        x = x @ params[f"w{layer}"] + params[f"b{layer}"]
        if layer < layers - 1:
            x = torch.relu(x)
    return x.squeeze(-1)


def mse(params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of :func:`mlp` on ``(x, y)``."""
    return torch.mean((mlp(params, x) - y) ** 2)


def adapt(params: Params, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float) -> Params:
    """``steps`` plain SGD steps on ``(x, y)``; differentiable w.r.t. ``params`` (for MAML)."""
    loss_grad = grad(mse)
    for _ in range(steps):
        grads = loss_grad(params, x, y)
        params = sgd_step(params, grads, lr)
    return params


def standardise(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (a constant vector maps to zeros)."""
    values = np.asarray(values, dtype=np.float64)
    std = values.std()
    return (values - values.mean()) / (std if std > 1e-12 else 1.0)


ENCODINGS = ("one_hot", "path_encoding")


def cell_features(space: object, codes: np.ndarray, encodings: Sequence[str]) -> np.ndarray:
    """Concatenate the space's encodings (method names in :data:`ENCODINGS`).

    :raises ValueError: naming the encodings the space does offer.
    """
    offered = [name for name in ENCODINGS if callable(getattr(space, name, None))]
    missing = [name for name in encodings if name not in offered]
    if missing or not encodings:
        raise ValueError(
            f"space {getattr(space, 'name', space)!r} has no encoding {missing or '(none given)'};"
            f" use some of {offered}"
        )
    return np.concatenate(
        [np.asarray(getattr(space, name)(codes), dtype=np.float32) for name in encodings], axis=1
    )
