"""How a transfer strategy reads the training tasks: one ``source`` keyword.

Every strategy that learns from other datasets (the transfer baselines of
:mod:`metanas.priors.transfer_baselines`) takes ``source=`` a :class:`TransferSource`: the
:class:`~metanas.priors.restricted.RestrictedBenchmark` over the training datasets, their
search tasks and the signal (metric, fidelity) to read. It is the only data path: the view
raises :class:`~metanas.priors.restricted.HeldOutTaskError` for the held-out dataset, and
the signal is a validation metric (a test metric is refused here), so a transfer strategy
can see exactly what the meta-learners see during meta-training. The transfer job
(:class:`metanas.priors.transfer.TransferJob`) binds ``source`` per held-out dataset, as it
binds ``prior`` for the meta methods; :func:`needs_source` tells the two kinds apart.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from metanas.priors.meta_train import PriorSignal, training_tables
from metanas.priors.restricted import RestrictedBenchmark


@dataclass(frozen=True)
class TransferSource:
    """The training tasks as a transfer strategy may read them.

    :param view: the restricted benchmark (training datasets only).
    :param tasks: the training datasets' search tasks, each visible in ``view``.
    :param signal: which metric and fidelity to read (a validation metric).
    """

    view: RestrictedBenchmark
    tasks: tuple[str, ...]
    signal: PriorSignal = field(default_factory=PriorSignal)

    def __post_init__(self) -> None:
        if not isinstance(self.view, RestrictedBenchmark):
            raise TypeError(
                f"a transfer source reads a RestrictedBenchmark, got {type(self.view).__name__}:"
                " wrap the table with metanas.priors.restricted.RestrictedBenchmark"
            )
        if not self.tasks:
            raise ValueError("a transfer source needs at least one training task")
        if "test" in self.signal.metric:
            raise ValueError(
                f"transfer strategies learn from a validation signal, not {self.signal.metric!r}"
            )
        object.__setattr__(self, "tasks", tuple(self.tasks))

    def tables(self) -> dict[str, np.ndarray]:
        """Signal of every cell (index = key) on each training task."""
        return _tables(self)

    def normalised(self, how: str = "zscore") -> np.ndarray:
        """``(tasks, cells)`` of per-task normalised signal, so tasks share one scale.

        :param how: ``zscore`` (mean 0, sd 1) or ``copula`` (Gaussian copula: the inverse
            normal CDF of each cell's empirical quantile, Salinas et al. 2020).
        """
        tables = self.tables()
        rows = [tables[t] for t in self.tasks]
        if how == "zscore":
            return np.stack([(v - v.mean()) / max(v.std(), 1e-12) for v in rows])
        if how == "copula":
            return np.stack([gaussian_copula(v) for v in rows])
        raise ValueError(f"normalisation must be 'zscore' or 'copula', got {how!r}")


@functools.lru_cache(maxsize=8)
def _tables(source: TransferSource) -> dict[str, np.ndarray]:
    # Cached per process: every run of a shard builds a strategy from the same source.
    return training_tables(source.view, source.tasks, source.signal)


def gaussian_copula(values: np.ndarray) -> np.ndarray:
    """Phi^-1 of each value's empirical quantile (ties share their mean rank)."""
    ranks = stats.rankdata(values)
    return stats.norm.ppf(ranks / (len(values) + 1))


def needs_source(factory: Callable[..., object]) -> bool:
    """Whether a strategy factory takes ``source=`` (a transfer strategy)."""
    func = factory.func if isinstance(factory, functools.partial) else factory
    return "source" in inspect.signature(func).parameters


def ranked_keys(scores: np.ndarray) -> np.ndarray:
    """Keys (indices of ``scores``) by decreasing score; ties keep key order."""
    return np.argsort(-np.asarray(scores), kind="stable")
