"""Bayesian optimisation through Optuna's ask/tell API: TPE and a Gaussian process.

Each edge is one categorical Optuna parameter whose choices are the operation indices, so a
cell is one trial's parameters. The study lives in Optuna's in-memory storage and maximises
the told signal; Optuna's own INFO logging (one line per trial) is silenced. The sampler's
seed is drawn from the strategy's generator, so any integer seed works.

* :class:`TPE` (Bergstra et al., NeurIPS 2011; Watanabe, 2023) is the stand-in for BOHB,
  whose model is a multivariate TPE-like KDE (Falkner et al., ICML 2018). NB201 runs BOHB at
  a single fidelity, which leaves BOHB's Bayesian-optimisation part: a multivariate TPE.
* :class:`GaussianProcessBO` is Optuna's ``GPSampler`` (Matern-5/2 kernel over the
  categoricals, log expected improvement). Optuna imports torch for it lazily.

Asking ahead of telling is supported: Optuna keeps asked trials as running; TPE's
``constant_liar`` (on by default) treats them as bad results so parallel asks spread out.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import optuna

from metanas.strategies.base import Strategy, Trial
from tabular_bench.spaces import SearchSpace


class OptunaStrategy(Strategy):
    """Adapter that drives an Optuna sampler through ``Study.ask`` / ``Study.tell``."""

    def __init__(self, space: SearchSpace, *, seed: int) -> None:
        super().__init__(space, seed=seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        choices = tuple(range(space.num_ops))
        self._names = tuple(f"edge{e}" for e in range(space.num_edges))
        self._distributions = {
            name: optuna.distributions.CategoricalDistribution(choices) for name in self._names
        }
        sampler_seed = int(self.rng.integers(2**31 - 1))
        self.study = optuna.create_study(
            storage=optuna.storages.InMemoryStorage(),
            sampler=self._make_sampler(sampler_seed),
            direction="maximize",
        )
        self._running: dict[int, optuna.trial.Trial] = {}

    @abstractmethod
    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        """The Optuna sampler this strategy runs, seeded with ``seed``."""

    def _propose(self) -> np.ndarray:
        trial = self.study.ask(self._distributions)
        self._running[self._asked] = trial
        params = trial.params
        return np.fromiter((params[name] for name in self._names), np.int64, len(self._names))

    def _observe(self, trial: Trial, value: float) -> None:
        self.study.tell(self._running.pop(trial.number), value)


class TPE(OptunaStrategy):
    """Optuna's ``TPESampler``; the BOHB stand-in.

    :param n_startup_trials: random trials before the model is used (Optuna: 10).
    :param n_ei_candidates: candidates drawn from the good-cell density per ask (Optuna: 24).
    :param multivariate: one joint density over all edges, as BOHB's KDE (Optuna 5: on for
        single-objective studies).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool = True,
    ) -> None:
        self.n_startup_trials = n_startup_trials
        self.n_ei_candidates = n_ei_candidates
        self.multivariate = multivariate
        super().__init__(space, seed=seed)

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=self.n_startup_trials,
            n_ei_candidates=self.n_ei_candidates,
            multivariate=self.multivariate,
        )


class GaussianProcessBO(OptunaStrategy):
    """Optuna's ``GPSampler``.

    :param n_startup_trials: random trials before the GP is used (Optuna: 10).
    """

    def __init__(self, space: SearchSpace, *, seed: int, n_startup_trials: int = 10) -> None:
        self.n_startup_trials = n_startup_trials
        super().__init__(space, seed=seed)

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=self.n_startup_trials)
