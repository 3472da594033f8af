"""A BO-style search driven by a meta-learned predictor (ask/tell).

Each ask proposes the unevaluated cell the predictor ranks highest (with probability
``epsilon`` a uniformly random unevaluated cell instead, so a wrong prior cannot trap the
search). Every ``refit_every`` observations the predictor is re-adapted from its
meta-learned initialisation on everything observed so far, with the same SGD adaptation
meta-training used, so the first asks are the prior's zero-shot ranking and later ones
follow the held-out dataset's own signal.
"""

from __future__ import annotations

import numpy as np
import torch

from metanas.priors.predictor import Params, adapt, mlp, standardise
from metanas.priors.prior import MetaPrior
from metanas.strategies.base import Strategy, Trial
from tabular_bench.spaces import CellSearchSpace


class PredictorBO(Strategy):
    """Greedy-with-exploration search on a fine-tuned meta-learned predictor.

    :param prior: its ``predictor`` (the meta-learned initialisation) and ``features``
        (encoding of every cell of ``space`` in key order, ``(size, F)``) are used.
    :param finetune_steps: SGD steps of each re-adaptation.
    :param finetune_lr: its learning rate.
    :param refit_every: observations between re-adaptations.
    :param epsilon: probability of a random unevaluated cell instead of the predicted best.
    """

    def __init__(
        self,
        space: CellSearchSpace,
        *,
        seed: int,
        prior: MetaPrior,
        finetune_steps: int = 20,
        finetune_lr: float = 0.05,
        refit_every: int = 5,
        epsilon: float = 0.1,
    ) -> None:
        super().__init__(space, seed=seed)
        if prior.predictor is None or prior.features is None:
            raise ValueError("PredictorBO needs a prior with a meta-trained predictor and features")
        if prior.features.shape[0] != space.size:
            raise ValueError(
                f"features must encode all {space.size} cells of {space.name!r} in key order, "
                f"got {prior.features.shape[0]} rows"
            )
        if not 0.0 <= epsilon <= 1.0 or refit_every < 1 or finetune_steps < 0:
            raise ValueError("need 0 <= epsilon <= 1, refit_every >= 1, finetune_steps >= 0")
        self.init_params = {k: v.detach() for k, v in prior.predictor.items()}
        # A copy: priors shipped to worker processes arrive as read-only memory maps.
        self.features = torch.tensor(np.asarray(prior.features), dtype=torch.float32)
        self.finetune_steps = finetune_steps
        self.finetune_lr = finetune_lr
        self.refit_every = refit_every
        self.epsilon = epsilon
        self._taken = np.zeros(space.size, dtype=bool)
        self._observed_keys: list[int] = []
        self._observed_values: list[float] = []
        self._scores = self._predict(self.init_params)
        self._since_refit = 0

    def _predict(self, params: Params) -> np.ndarray:
        with torch.no_grad():
            return mlp(params, self.features).numpy().astype(np.float64)

    def _refit(self) -> None:
        keys = np.asarray(self._observed_keys)
        y = torch.as_tensor(standardise(np.asarray(self._observed_values)), dtype=torch.float32)
        params = adapt(
            self.init_params,
            self.features[keys],
            y,
            steps=self.finetune_steps,
            lr=self.finetune_lr,
        )
        self._scores = self._predict(params)
        self._since_refit = 0

    def _propose(self) -> np.ndarray:
        free = np.flatnonzero(~self._taken)
        if free.size == 0:
            raise RuntimeError(f"every cell of {self.space.name!r} has already been proposed")
        if self.rng.random() < self.epsilon:
            key = int(free[self.rng.integers(free.size)])
        else:
            key = int(free[np.argmax(self._scores[free])])
        self._taken[key] = True
        return self.space.code(key)

    def _observe(self, trial: Trial, value: float) -> None:
        self._observed_keys.append(trial.key)
        self._observed_values.append(value)
        self._since_refit += 1
        if self._since_refit >= self.refit_every:
            self._refit()
