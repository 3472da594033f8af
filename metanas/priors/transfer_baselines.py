"""Transfer baselines: searches that reuse the training tasks without meta-learning.

They are the controls a meta-learned prior has to beat. Each reads the training tasks only
through ``source=`` (a :class:`~metanas.priors.source.TransferSource`: the restricted view
and its validation signal), as the meta-learners do during meta-training.

* :class:`ZeroShot`: walk the cells by mean normalised training score (syne-tune's
  ``ZeroShotTransfer``, Wistuba et al. 2015);
* :class:`WarmREA` / :class:`WarmTPE`: regularized evolution's initial population / TPE's
  first trials are the training tasks' best cells (Feurer et al. 2015's warm start);
* :class:`BoundingBox`: random search inside the region the training tasks' best cells span
  (Perrone et al. 2019, syne-tune's ``BoundingBox``);
* :class:`QuantilePrior`: Thompson sampling from a Gaussian-copula prior fitted on the
  training tasks (Salinas et al. 2020, syne-tune's ``quantile_based`` searcher).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from metanas.priors.source import TransferSource, ranked_keys
from metanas.strategies.base import Strategy, Trial
from metanas.strategies.optuna_bo import TPE
from metanas.strategies.regularized_evolution import RegularizedEvolution
from tabular_bench.spaces import CellSearchSpace


def _check_space(source: TransferSource, space: CellSearchSpace) -> None:
    if source.view.space.size != space.size:
        raise ValueError(
            f"the transfer source's space {source.view.space.name!r} "
            f"({source.view.space.size} cells) is not the search space {space.name!r} "
            f"({space.size} cells): build the source from the searched benchmark"
        )


def best_cells(source: TransferSource, count: int) -> np.ndarray:
    """``count`` distinct keys: each training task's best in turn (1st of every task, 2nd...)."""
    if count < 1:
        raise ValueError(f"need count >= 1 warm-start cells, got {count}")
    per_task = [ranked_keys(v)[:count] for v in source.normalised()]
    interleaved = np.stack(per_task, axis=1).ravel()
    _, first = np.unique(interleaved, return_index=True)
    return interleaved[np.sort(first)][:count]


class FixedOrderWalk(Strategy):
    """Evaluate keys in an order fixed at construction (``self.order``), never one twice."""

    uses_seed: ClassVar[bool] = False
    order: np.ndarray

    def _propose(self) -> np.ndarray:
        if self._asked >= self.order.size:
            raise RuntimeError(f"every network of {self.space.name!r} has already been proposed")
        return self.space.code(int(self.order[self._asked]))

    def _observe(self, trial: Trial, value: float) -> None:
        """The walk ignores the held-out results; the runner keeps the incumbent."""


class ZeroShot(FixedOrderWalk):
    """Evaluate cells in decreasing mean normalised training score, never one twice.

    The order is fixed by the training data alone (ties: key order), so the seed does not
    change the trajectory; different training data does.

    :param normalisation: ``zscore`` or ``copula`` (see :meth:`TransferSource.normalised`).
    """

    def __init__(
        self,
        space: CellSearchSpace,
        *,
        seed: int,
        source: TransferSource,
        normalisation: str = "zscore",
    ) -> None:
        super().__init__(space, seed=seed)
        _check_space(source, space)
        self.order = ranked_keys(source.normalised(normalisation).mean(axis=0))


class WarmREA(RegularizedEvolution):
    """Regularized evolution whose initial population is the training tasks' best cells."""

    def __init__(
        self, space: CellSearchSpace, *, seed: int, source: TransferSource, **kwargs: Any
    ) -> None:
        super().__init__(space, seed=seed, **kwargs)
        _check_space(source, space)
        self.warm = best_cells(source, self.population_size)

    def _propose(self) -> np.ndarray:
        if self._asked < self.warm.size:
            return self.space.code(int(self.warm[self._asked]))
        return super()._propose()


class WarmTPE(TPE):
    """Optuna TPE whose first trials (``study.enqueue_trial``) are the training tasks' best.

    :param warm_trials: enqueued cells (default: ``n_startup_trials``, replacing the random
        start-up).
    """

    def __init__(
        self,
        space: CellSearchSpace,
        *,
        seed: int,
        source: TransferSource,
        warm_trials: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(space, seed=seed, **kwargs)
        _check_space(source, space)
        self.warm = best_cells(source, warm_trials or self.n_startup_trials)
        for key in self.warm:
            code = space.code(int(key))
            self.study.enqueue_trial(
                {name: int(op) for name, op in zip(self._names, code, strict=True)}
            )


class BoundingBox(Strategy):
    """Random search without repeats inside the training tasks' best region.

    Per edge, the box allows the operations that appear in the ``top_k`` best cells of any
    training task. Cells are drawn uniformly from the box; once every box cell has been
    proposed, from the rest of the space (so a long search is never stuck).

    :param top_k: best cells per training task that span the box.
    """

    def __init__(
        self, space: CellSearchSpace, *, seed: int, source: TransferSource, top_k: int = 10
    ) -> None:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        super().__init__(space, seed=seed)
        _check_space(source, space)
        codes = space.all_codes()
        allowed = np.zeros((space.num_edges, space.num_ops), dtype=bool)
        for scores in source.normalised():
            top = codes[ranked_keys(scores)[:top_k]]
            allowed[np.arange(space.num_edges)[None, :], top] = True
        self.allowed = allowed
        inside = allowed[np.arange(space.num_edges)[None, :], codes].all(axis=1)
        self.box = np.flatnonzero(inside)
        self.order = np.concatenate([
            self.rng.permutation(self.box),
            self.rng.permutation(np.flatnonzero(~inside)),
        ])

    def _propose(self) -> np.ndarray:
        if self._asked >= self.order.size:
            raise RuntimeError(f"every cell of {self.space.name!r} has already been proposed")
        return self.space.code(int(self.order[self._asked]))

    def _observe(self, trial: Trial, value: float) -> None:
        """Random search in the box learns nothing from results."""


class QuantilePrior(Strategy):
    """Thompson sampling from a Gaussian-copula prior of the training tasks.

    Each training task's signal is mapped to normal scores by its empirical quantiles (a
    Gaussian copula, so tasks with different accuracy scales agree); a cell's prior is
    ``N(mean, (exploration * sd)^2 + noise^2)`` over the training tasks. Every ask draws one
    sample per unevaluated cell and proposes the largest, so the best-supported cells come
    first and the seed decides among the uncertain ones. Like syne-tune's searcher, the
    prior is not updated by held-out results.

    :param exploration: scale of the between-task spread in the sampled score.
    :param noise: floor of the sampled score's standard deviation (normal-score units).
    """

    def __init__(
        self,
        space: CellSearchSpace,
        *,
        seed: int,
        source: TransferSource,
        exploration: float = 1.0,
        noise: float = 0.1,
    ) -> None:
        if exploration < 0 or noise < 0 or exploration + noise == 0:
            raise ValueError("need exploration >= 0, noise >= 0 and not both 0")
        super().__init__(space, seed=seed)
        _check_space(source, space)
        z = source.normalised("copula")
        self.mean = z.mean(axis=0)
        self.sd = np.sqrt((exploration * z.std(axis=0)) ** 2 + noise**2)
        self._taken = np.zeros(space.size, dtype=bool)

    def _propose(self) -> np.ndarray:
        sample = self.mean + self.sd * self.rng.standard_normal(self.mean.size)
        sample[self._taken] = -np.inf
        key = int(np.argmax(sample))
        if self._taken[key]:
            raise RuntimeError(f"every cell of {self.space.name!r} has already been proposed")
        self._taken[key] = True
        return self.space.code(key)

    def _observe(self, trial: Trial, value: float) -> None:
        """The prior is fixed; the runner keeps the incumbent."""
