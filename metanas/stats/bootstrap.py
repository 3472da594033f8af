"""Cluster bootstrap: a confidence interval for a mean when runs are not independent.

Runs that share a meta-trained prior (one meta-training seed) are correlated: treating
100 runs on 10 priors as 100 independent values understates the uncertainty. The
cluster (block) bootstrap resamples whole clusters with replacement and recomputes the
mean over the runs drawn (Davison & Hinkley 1997, sec. 3.8; Cameron & Miller 2015), so
the interval reflects the variation between priors.

The resampling is ``scipy.stats.bootstrap`` over cluster-level totals: data = per cluster
(sum of values, number of runs), paired, statistic = total sum / total runs (the mean
over runs of the drawn clusters; for equal cluster sizes, the mean of cluster means).
Without clusters every run is its own cluster: the ordinary bootstrap of the mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

#: Fewest clusters a bootstrap interval is computed from.
MIN_CLUSTERS = 2


@dataclass(frozen=True)
class Interval:
    """Mean and its confidence interval (floats, or arrays for several columns)."""

    mean: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    clusters: int

    @property
    def half_width(self) -> float | np.ndarray:
        """Half the interval's width (the ``±`` of a table; percentile intervals may be
        asymmetric, so keep ``low``/``high`` where that matters)."""
        half = (np.asarray(self.high) - np.asarray(self.low)) / 2
        return float(half) if half.ndim == 0 else half


def cluster_bootstrap(
    values: ArrayLike,
    clusters: ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    method: Literal["percentile", "basic", "BCa"] = "percentile",
) -> Interval:
    """Bootstrap interval of the mean of ``values`` (over runs), resampling ``clusters``.

    :param values: one value per run, or ``(runs, k)`` for ``k`` means at once (e.g. a
        regret curve on a budget grid; the same resamples serve every column).
    :param clusters: one label per run (e.g. the meta-training seed); None = independent.
    :param seed: seeds the resampler, so that the interval is reproducible.
    :param method: scipy's interval method. Percentile is the default: with 10 clusters
        BCa's jackknife acceleration is itself noisy, and percentile stays defined when
        every cluster has the same mean.
    :raises ValueError: NaN values, mismatched lengths, or fewer than 2 clusters.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[0] == 0:
        raise ValueError(f"values must be 1-D or (runs, k) with runs >= 1, got {values.shape}")
    if np.isnan(values).any():
        raise ValueError("values contain NaN: drop or fill undefined runs first")
    labels = np.arange(values.shape[0]) if clusters is None else np.asarray(clusters)
    if labels.shape != (values.shape[0],):
        raise ValueError(
            f"clusters must hold one label per run ({values.shape[0]}), got shape {labels.shape}"
        )
    names, index = np.unique(labels, return_inverse=True)
    if names.size < MIN_CLUSTERS:
        raise ValueError(
            f"a bootstrap interval needs >= {MIN_CLUSTERS} clusters, got {names.size}: "
            "meta-train more seeds (or report the mean without an interval)"
        )
    sums = np.zeros((names.size, *values.shape[1:]))
    np.add.at(sums, index, values)
    sizes = np.bincount(index).astype(np.float64)
    sizes = np.broadcast_to(sizes.reshape(-1, *([1] * (values.ndim - 1))), sums.shape)
    mean = values.mean(axis=0)

    def ratio(total: np.ndarray, runs: np.ndarray, axis: int = -1) -> np.ndarray:
        return total.sum(axis=axis) / runs.sum(axis=axis)

    result = stats.bootstrap(
        (sums, sizes),
        ratio,
        paired=True,
        vectorized=True,
        axis=0,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method=method,
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval.low, result.confidence_interval.high
    if values.ndim == 1:
        return Interval(float(mean), float(low), float(high), int(names.size))
    return Interval(mean, np.asarray(low), np.asarray(high), int(names.size))
