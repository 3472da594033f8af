"""Meta-learn the predictor's initialisation as few-shot regression over training tables.

A task is a random subset of cells of one training dataset: a support set to adapt on
and a query set to score the adaptation, both with targets standardised over the task.
Reptile (Nichol et al. 2018) moves the initialisation towards each task's adapted
weights; MAML (Finn et al. 2017) follows the gradient of the query loss through the
inner SGD steps (second order, via :mod:`torch.func`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import vmap

from metanas.meta.functional import InnerSGD, adapt
from metanas.priors.predictor import Params, init_mlp, mse, standardise


@dataclass(frozen=True)
class PredictorMetaConfig:
    """Hyper-parameters of predictor meta-training."""

    algorithm: str = "reptile"
    """``reptile`` or ``maml``."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the MLP."""
    meta_iterations: int = 300
    """Outer updates."""
    tasks_per_batch: int = 4
    """Tasks averaged per outer update."""
    support: int = 20
    """Cells a task adapts on (about the held-out search's first queries)."""
    query: int = 100
    """Cells a task is scored on (MAML's outer loss; Reptile adapts on support + query)."""
    inner_steps: int = 10
    """SGD steps of the inner adaptation."""
    inner_lr: float = 0.05
    """Learning rate of the inner SGD."""
    meta_lr: float = 0.1
    """Reptile's step size epsilon, or MAML's Adam learning rate."""

    def __post_init__(self) -> None:
        if self.algorithm not in ("reptile", "maml"):
            raise ValueError(f"algorithm must be 'reptile' or 'maml', got {self.algorithm!r}")
        if min(self.meta_iterations, self.tasks_per_batch, self.support, self.query) < 1:
            raise ValueError("meta_iterations, tasks_per_batch, support, query must be >= 1")


def meta_train_predictor(
    features: np.ndarray,
    tables: Mapping[str, np.ndarray],
    config: PredictorMetaConfig,
    *,
    seed: int,
) -> Params:
    """Meta-learned initial parameters of the predictor.

    :param features: encoding of every cell of the space, ``(space.size, F)``.
    :param tables: per training task, the signal of every cell (index = key); built by
        the caller from a restricted view, so only training tasks can be present.
    :param seed: seeds both task sampling and the weight initialisation.
    """
    if not tables:
        raise ValueError("predictor meta-training needs at least one training table")
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    x_all = torch.as_tensor(features, dtype=torch.float32)
    names = sorted(tables)
    params = init_mlp(x_all.shape[1], config.hidden, generator=generator)
    optimiser = None
    if config.algorithm == "maml":
        for p in params.values():
            p.requires_grad_(True)
        optimiser = torch.optim.Adam(params.values(), lr=config.meta_lr)
    size = config.support + config.query
    for _ in range(config.meta_iterations):
        xs, ys = [], []
        for _ in range(config.tasks_per_batch):
            values = tables[names[int(rng.integers(len(names)))]]
            keys = rng.choice(values.shape[0], size=size, replace=False)
            xs.append(x_all[keys])
            ys.append(torch.as_tensor(standardise(values[keys]), dtype=torch.float32))
        x, y = torch.stack(xs), torch.stack(ys)
        if optimiser is None:
            params = _reptile_step(params, x, y, config)
        else:
            _maml_step(params, x, y, config, optimiser)
    return {name: p.detach().clone() for name, p in params.items()}


def _mse_loss(params: Params, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, tuple[()]]:
    return mse(params, x, y), ()


def _adapt(params: Params, x: torch.Tensor, y: torch.Tensor, config: PredictorMetaConfig) -> Params:
    """``inner_steps`` SGD steps on ``(x, y)`` (the shared inner loop); differentiable w.r.t.
    ``params`` (for MAML)."""
    return adapt(
        _mse_loss, params, [(x, y)] * config.inner_steps, optimizer=InnerSGD(config.inner_lr)
    ).params


def _reptile_step(
    params: Params, x: torch.Tensor, y: torch.Tensor, config: PredictorMetaConfig
) -> Params:
    """theta += eps * mean_i(phi_i - theta), phi_i adapted on all of task i's cells.

    Tasks are batched with ``vmap`` (``x``: ``(tasks, cells, F)``), one call per step.
    """

    def task_adapt(x_task: torch.Tensor, y_task: torch.Tensor) -> Params:
        return _adapt(params, x_task, y_task, config)

    adapted = vmap(task_adapt)(x, y)
    return {
        name: p + config.meta_lr * (adapted[name].mean(dim=0) - p) for name, p in params.items()
    }


def _maml_step(
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    config: PredictorMetaConfig,
    optimiser: torch.optim.Optimizer,
) -> None:
    """One Adam step on the mean query loss after adapting on each task's support."""
    s = config.support

    def task_loss(x_task: torch.Tensor, y_task: torch.Tensor) -> torch.Tensor:
        adapted = _adapt(params, x_task[:s], y_task[:s], config)
        return mse(adapted, x_task[s:], y_task[s:])

    optimiser.zero_grad()
    vmap(task_loss)(x, y).mean().backward()
    optimiser.step()
