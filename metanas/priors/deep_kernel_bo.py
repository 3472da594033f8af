"""Bayesian optimisation with the meta-learned deep-kernel GP (FSBO-style, ask/tell).

The GP (:mod:`metanas.priors.deep_kernel`) is conditioned on every held-out result so
far; each ask proposes the unevaluated cell of highest expected improvement over the best
(standardised) observation, so the search moves from the zero-shot transfer ranking (the
first ask: highest prior mean) to the held-out dataset's own evidence as it queries.
With probability ``epsilon`` it proposes a uniformly random unevaluated cell instead, so
runs that share a meta-trained prior still differ and a wrong prior cannot trap a run.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from metanas.priors.deep_kernel import DeepKernelPosterior
from metanas.priors.prior import MetaPrior
from metanas.strategies.base import Strategy, Trial
from tabular_bench.spaces import CellSearchSpace


def expected_improvement(mean: np.ndarray, var: np.ndarray, best: float) -> np.ndarray:
    """EI of a maximisation at Gaussian predictions (``var`` > 0)."""
    sd = np.sqrt(var)
    z = (mean - best) / sd
    return (mean - best) * stats.norm.cdf(z) + sd * stats.norm.pdf(z)


class DeepKernelBO(Strategy):
    """EI on the meta-learned deep-kernel GP, conditioned on the search's own queries.

    :param prior: its ``kernel`` (meta-learned GP parameters) and ``features`` are used.
    :param epsilon: probability of a random unevaluated cell instead of the EI maximiser.
    :param pool: EI is maximised over the ``pool`` unevaluated cells of highest prior mean
        (the region the kernel was meta-trained on; its uncertainty is not calibrated far
        from it).
    """

    def __init__(
        self,
        space: CellSearchSpace,
        *,
        seed: int,
        prior: MetaPrior,
        epsilon: float = 0.05,
        pool: int = 1000,
    ) -> None:
        super().__init__(space, seed=seed)
        if prior.kernel is None or prior.features is None or prior.scores is None:
            raise ValueError(
                "DeepKernelBO needs a prior with a meta-trained kernel: set "
                "meta_training.kernel.meta_iterations > 0"
            )
        if prior.features.shape[0] != space.size:
            raise ValueError(
                f"features must encode all {space.size} cells of {space.name!r} in key order, "
                f"got {prior.features.shape[0]} rows"
            )
        if not 0.0 <= epsilon <= 1.0 or pool < 1:
            raise ValueError(f"need 0 <= epsilon <= 1 and pool >= 1, got {epsilon}, {pool}")
        self.gp = DeepKernelPosterior(prior.kernel, prior.features, prior.scores)
        self.by_prior = np.argsort(-self.gp.prior_mean, kind="stable")
        self.pool = pool
        self.epsilon = epsilon
        self._taken = np.zeros(space.size, dtype=bool)
        self._keys: list[int] = []
        self._values: list[float] = []

    def predict(self) -> tuple[np.ndarray, np.ndarray, float | None]:
        """Posterior mean and variance of every cell and the best observation (model units)."""
        keys = np.asarray(self._keys, dtype=np.int64)
        return self.gp.posterior(keys, np.asarray(self._values, dtype=np.float64))

    def _propose(self) -> np.ndarray:
        free = np.flatnonzero(~self._taken)
        if free.size == 0:
            raise RuntimeError(f"every cell of {self.space.name!r} has already been proposed")
        if self.rng.random() < self.epsilon:
            key = int(free[self.rng.integers(free.size)])
        else:
            candidates = self.by_prior[~self._taken[self.by_prior]][: self.pool]
            mean, var, best = self.predict()
            if best is None:
                score = mean[candidates]
            else:
                score = expected_improvement(mean[candidates], var[candidates], best)
            key = int(candidates[np.argmax(score)])
        self._taken[key] = True
        return self.space.code(key)

    def _observe(self, trial: Trial, value: float) -> None:
        self._keys.append(trial.key)
        self._values.append(value)
