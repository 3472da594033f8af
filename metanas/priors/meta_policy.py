"""Reptile over search policies: meta-learn the initial REINFORCE logits from tables.

The inner loop is the held-out search's own REINFORCE strategy, started from the current
initial logits and run by ask/tell on one training dataset's table; Reptile (Nichol et
al. 2018) then moves the initial logits a step towards the mean adapted logits. The
result is a per-edge categorical prior over operations that both REINFORCE (as its
starting logits) and evolution (as its sampling distribution) use on the held-out dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from metanas.strategies.base import Strategy

# (initial logits, seed) -> a strategy whose ``logits`` are its current policy.
PolicyLearnerFactory = Callable[[np.ndarray, int], Strategy]


@dataclass(frozen=True)
class PolicyMetaConfig:
    """Hyper-parameters of the Reptile meta-training of the policy."""

    meta_iterations: int = 30
    """Reptile updates; each adapts once on every training table."""
    inner_steps: int = 100
    """REINFORCE queries per inner run (about a held-out search's budget)."""
    meta_lr: float = 1.0
    """Reptile step size epsilon (1.0: start the next round from the mean adapted logits)."""

    def __post_init__(self) -> None:
        if self.meta_iterations < 1 or self.inner_steps < 1 or not self.meta_lr > 0:
            raise ValueError("need meta_iterations >= 1, inner_steps >= 1 and meta_lr > 0")


def meta_train_policy(
    initial_logits: np.ndarray,
    tables: Mapping[str, np.ndarray],
    make_learner: PolicyLearnerFactory,
    config: PolicyMetaConfig,
    *,
    seed: int,
) -> np.ndarray:
    """Reptile-learned initial logits, shape of ``initial_logits``.

    :param tables: per training task, the reward of every cell (index = key), read by the
        caller from a restricted view.
    :param make_learner: builds the inner REINFORCE learner from logits and a seed.
    """
    if not tables:
        raise ValueError("policy meta-training needs at least one training table")
    rng = np.random.default_rng(seed)
    theta = np.array(initial_logits, dtype=np.float64, copy=True)
    names = sorted(tables)
    for _ in range(config.meta_iterations):
        adapted = [
            _adapt(theta, tables[name], make_learner, config.inner_steps, rng) for name in names
        ]
        theta = theta + config.meta_lr * (np.mean(adapted, axis=0) - theta)
    return theta


def _adapt(
    theta: np.ndarray,
    rewards: np.ndarray,
    make_learner: PolicyLearnerFactory,
    steps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    learner = make_learner(theta.copy(), int(rng.integers(2**31)))
    for _ in range(steps):
        trial = learner.ask()
        learner.tell(trial, float(rewards[trial.key]))
    return np.asarray(learner.logits, dtype=np.float64)
