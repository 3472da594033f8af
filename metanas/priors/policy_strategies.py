"""REINFORCE and regularized evolution started from a meta-learned operation prior.

Both read the prior's per-edge logits (:class:`metanas.priors.prior.MetaPrior`): REINFORCE
starts its policy there instead of near uniform; evolution samples its initial population
from the prior and, when it mutates an edge, draws the new operation from the prior
(renormalised over the other operations) instead of uniformly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metanas.priors.prior import MetaPrior
from metanas.strategies.regularized_evolution import RegularizedEvolution
from metanas.strategies.reinforce import Reinforce
from tabular_bench.spaces import CellSearchSpace


def _check_shape(prior: MetaPrior, space: CellSearchSpace) -> np.ndarray:
    logits = np.asarray(prior.logits, dtype=np.float64)
    if logits.shape != (space.num_edges, space.num_ops):
        raise ValueError(
            f"prior logits have shape {logits.shape}; space {space.name!r} needs "
            f"({space.num_edges}, {space.num_ops}): meta-train the prior on this space"
        )
    return logits


class PriorReinforce(Reinforce):
    """NB201's REINFORCE whose initial logits are the prior's (plus its usual tiny noise)."""

    def __init__(
        self, space: CellSearchSpace, *, seed: int, prior: MetaPrior, **kwargs: Any
    ) -> None:
        logits = _check_shape(prior, space)
        super().__init__(space, seed=seed, **kwargs)
        self.logits += logits
        self._refresh_policy()


class PriorEvolution(RegularizedEvolution):
    """Regularized evolution whose sampling distribution over operations is the prior."""

    def __init__(
        self, space: CellSearchSpace, *, seed: int, prior: MetaPrior, **kwargs: Any
    ) -> None:
        logits = _check_shape(prior, space)
        super().__init__(space, seed=seed, **kwargs)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        self.op_probabilities = probs / probs.sum(axis=1, keepdims=True)

    def _sample_op(self, edge: int, exclude: int | None = None) -> int:
        probs = self.op_probabilities[edge].copy()
        if exclude is not None:
            probs[exclude] = 0.0
        return int(self.rng.choice(self.space.num_ops, p=probs / probs.sum()))

    def _propose(self) -> np.ndarray:
        if self._asked < self.population_size or not self.population:
            return np.array([self._sample_op(e) for e in range(self.space.num_edges)])
        child = np.array(self._tournament(), dtype=np.int64, copy=True)
        edge = int(self.rng.integers(self.space.num_edges))
        child[edge] = self._sample_op(edge, exclude=int(child[edge]))
        return child
