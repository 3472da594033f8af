"""The one interface every strategy's objective comes from.

A :class:`Benchmark` answers "what would training this cell on this task to this
fidelity have given, and how long would it have taken?". Tabular benchmarks read the
answer from a table; surrogate benchmarks predict it. The public methods validate their
arguments and then call a protected hook, so subclasses only implement look-ups
(the pattern of syne-tune's ``Blackbox``).

Strategies never receive a ``Benchmark``: the runner queries it and hands them the
validation signal. Only reports call :meth:`Benchmark.query` with ``metric="test_acc"``.

Every metric has a unit and a direction (:func:`metric_spec`), so that reports label axes
from the table and priors that cross tasks compare :meth:`Benchmark.normalize`-d values.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from tabular_bench.spaces import SearchSpace


@dataclass(frozen=True)
class MetricSpec:
    """What a metric's numbers mean.

    :param label: axis label, e.g. ``"validation SSIM"``.
    :param unit: ``"%"``, ``"SSIM"``, ``"negative L2 loss"``, ``"score"``, ...
    :param higher_is_better: direction; every objective a table stores for search is
        higher-is-better (losses are stored negated), costs such as FLOPs are not.
    """

    name: str
    label: str
    unit: str
    higher_is_better: bool = True


_SPLITS = {"train": "training", "valid": "validation", "test": "test"}
_KINDS = {
    "acc": ("accuracy", "%", True),
    "top1": ("top-1 accuracy", "%", True),
    "top5": ("top-5 accuracy", "%", True),
    "mIoU": ("mIoU", "%", True),
    "ssim": ("SSIM", "SSIM", True),
    "neg_loss": ("negative L2 loss", "negative L2 loss", True),
    "loss": ("loss", "loss", False),
    "l1_loss": ("L1 loss", "L1 loss", False),
    # The task metric min-max scaled over the task's records (importers that cross tasks).
    "norm": ("score (0 worst, 1 best recorded)", "fraction of the recorded range", True),
}
METRICS: dict[str, MetricSpec] = {
    f"{split}_{kind}": MetricSpec(f"{split}_{kind}", f"{word} {label}", unit, up)
    for (split, word), (kind, (label, unit, up)) in itertools.product(
        _SPLITS.items(), _KINDS.items()
    )
} | {
    "flops": MetricSpec("flops", "FLOPs", "MFLOPs", higher_is_better=False),
    "params": MetricSpec("params", "parameters", "M", higher_is_better=False),
}
"""Known metric names; zero-cost proxies are ``zc_<proxy>`` (see :func:`metric_spec`)."""


def metric_spec(metric: str) -> MetricSpec:
    """Unit and direction of a table metric; ``KeyError`` says how to register a new one."""
    if metric in METRICS:
        return METRICS[metric]
    if metric.startswith("zc_"):
        return MetricSpec(metric, f"zero-cost proxy {metric[3:]}", "score")
    raise KeyError(
        f"metric {metric!r} has no unit or direction: name it <split>_<kind> with split in "
        f"{sorted(_SPLITS)} and kind in {sorted(_KINDS)}, zc_<proxy>, or add it to "
        "tabular_bench.benchmark.METRICS"
    )


class Benchmark(ABC):
    """Objectives of a search space over tasks, fidelities (epochs) and seeds."""

    space: SearchSpace
    tasks: tuple[str, ...]
    fidelities: tuple[int, ...]
    metrics: tuple[str, ...]

    # -- public, validating --------------------------------------------------------
    def query(
        self,
        keys: np.ndarray | int,
        *,
        task: str,
        fidelity: int,
        metric: str = "valid_acc",
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Metric values of the architectures ``keys`` (units: :meth:`metric_spec`).

        :param rng: ``None`` returns the mean over seeds; a generator draws one recorded
            seed per query at random, as the NAS-Bench-201 paper's searches do.
        """
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be None (seed mean) or a numpy.random.Generator (one recorded seed "
                f"per query), got {type(rng).__name__} {rng!r}: pass "
                f"np.random.default_rng({rng!r}) to draw seeds reproducibly"
            )
        keys = self._check(keys, task, fidelity)
        if metric not in self.metrics:
            raise KeyError(f"unknown metric {metric!r}; this benchmark has {self.metrics}")
        return self._query(keys, task, fidelity, metric, rng)

    def cost(self, keys: np.ndarray | int, *, task: str, fidelity: int) -> np.ndarray:
        """Simulated cost of evaluating each cell at ``fidelity``, in :meth:`cost_unit`
        (seconds of the source's training, or 1 a query where it records no time)."""
        return self._cost(self._check(keys, task, fidelity), task, fidelity)

    def cost_unit(self, task: str) -> str:
        """What :meth:`cost` and budgets count on ``task``: ``simulated_s`` or ``queries``."""
        return "simulated_s"

    def is_measured(self, keys: np.ndarray | int, *, task: str) -> np.ndarray:
        """True where the value comes from training, False where a surrogate predicts it.

        Concrete (all measured) so that purely synthetic benchmarks need not override it.
        """
        return np.ones(np.atleast_1d(self.space.validate_keys(keys)).shape, dtype=bool)

    def metric_spec(self, metric: str) -> MetricSpec:
        """Unit and direction of one of this benchmark's metrics."""
        if metric not in self.metrics:
            raise KeyError(f"unknown metric {metric!r}; this benchmark has {self.metrics}")
        return metric_spec(metric)

    def value_range(self, *, task: str, fidelity: int, metric: str) -> tuple[float, float]:
        """Smallest and largest value of ``metric`` over the space (seed means).

        Default: query every key; tables override this with their recorded rows.
        """
        keys = np.arange(self.space.size, dtype=np.int64)
        values = self.query(keys, task=task, fidelity=fidelity, metric=metric)
        return float(np.nanmin(values)), float(np.nanmax(values))

    def normalize(
        self, values: np.ndarray, *, task: str, fidelity: int, metric: str
    ) -> np.ndarray:
        """``values`` on ``task`` mapped to [0, 1]: 0 the worst recorded, 1 the best.

        Tasks measure different things (accuracy in %, SSIM, negative loss); whatever
        pools signals across tasks (priors, transfer) compares these, not raw values.
        """
        low, high = self.value_range(task=task, fidelity=fidelity, metric=metric)
        if not high > low:
            raise ValueError(
                f"{metric} on {task} takes the single value {low}: nothing to normalise"
            )
        scaled = (np.asarray(values, dtype=np.float64) - low) / (high - low)
        return scaled if self.metric_spec(metric).higher_is_better else 1.0 - scaled

    def index_of(self, keys: np.ndarray | int) -> np.ndarray:
        """Official architecture index of each key (what traces and reports show).

        Default: the space's published order (:meth:`SearchSpace.official_index`),
        which is the key itself for a space without one.
        """
        return self.space.official_index(np.atleast_1d(keys))

    def identity(self) -> dict[str, str]:
        """What tells this benchmark's values apart from another's, for resume checks.

        A search resumed against a different identity would mix traces of different
        objectives; subclasses add what their values depend on (table checksum, seeds).
        """
        return {"class": f"{type(self).__module__}.{type(self).__qualname__}"}

    # -- hooks ---------------------------------------------------------------------
    @abstractmethod
    def _query(
        self,
        keys: np.ndarray,
        task: str,
        fidelity: int,
        metric: str,
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        """Look up validated ``keys`` (int64 array)."""

    @abstractmethod
    def _cost(self, keys: np.ndarray, task: str, fidelity: int) -> np.ndarray:
        """Simulated cost of validated ``keys``."""

    # -- helpers -------------------------------------------------------------------
    def _check(self, keys: np.ndarray | int, task: str, fidelity: int) -> np.ndarray:
        if task not in self.tasks:
            raise KeyError(f"unknown task {task!r}; this benchmark has {self.tasks}")
        if fidelity not in self.fidelities:
            raise KeyError(
                f"unknown fidelity {fidelity!r}; this benchmark has epochs {self.fidelities}"
            )
        return np.atleast_1d(self.space.validate_keys(keys))
