"""Anytime normalized regret of the incumbent against a cost axis, and its area.

A run's incumbent at budget ``b`` is the one chosen after every query with cumulative
cost ``<= b`` (a step function of the budget); before the first query there is none, so
its regret is undefined. Every function here says what it does there: NaN by default, or
the caller's ``before_first`` value (the regret of the worst cell is the honest choice:
a search that has evaluated nothing is no better than one that picked the worst cell).

Normalized regret is ``(optimum - incumbent) / scale`` with the scale given by the caller
(:func:`regret_scale`: ``optimum - median`` or ``optimum - worst`` of the whole space), so
that tasks with different accuracy ranges can be averaged and ranked.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from metanas.stats.bootstrap import cluster_bootstrap
from metanas.stats.traces import CUM_COST, INCUMBENT, RUN, iter_runs


def regret_scale(values: ArrayLike, *, reference: Literal["median", "worst"] = "median") -> float:
    """``max - median`` or ``max - min`` of every cell's test accuracy: a regret normaliser.

    :param values: the test accuracy of every cell in the space (NaN = unmeasured, ignored).
    """
    if reference not in ("median", "worst"):
        raise ValueError(f"reference must be 'median' or 'worst', got {reference!r}")
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < 2:
        raise ValueError("regret_scale needs the accuracies of at least two cells")
    low = np.median(values) if reference == "median" else values.min()
    scale = float(values.max() - low)
    if not scale > 0:
        raise ValueError(f"every cell scores the same ({values.max()}): no regret scale")
    return scale


def budget_grid(
    max_budget: float, points: int = 100, *, log: bool = False, min_budget: float | None = None
) -> np.ndarray:
    """Common budgets to evaluate every run at: linear from 0 or log-spaced from ``min_budget``.

    A log grid needs ``min_budget > 0`` (e.g. the cheapest query's cost).
    """
    if not max_budget > 0 or points < 2:
        raise ValueError(f"need max_budget > 0 and points >= 2, got {max_budget}, {points}")
    if not log:
        return np.linspace(0.0 if min_budget is None else min_budget, max_budget, points)
    if min_budget is None or not 0 < min_budget < max_budget:
        raise ValueError("a log grid needs 0 < min_budget < max_budget (e.g. the cheapest cost)")
    return np.geomspace(min_budget, max_budget, points)


def incumbent_on_grid(
    traces: pd.DataFrame,
    budgets: ArrayLike,
    *,
    cost: str = CUM_COST,
    value: str = INCUMBENT,
    run: str = RUN,
) -> pd.DataFrame:
    """``(runs, budgets)`` frame of the incumbent's ``value`` after all queries within each budget.

    NaN where a run has told no query yet; a run that stopped early keeps its last value.
    """
    budgets = _budgets(budgets)
    rows, ids = [], []
    for run_id, arrays in iter_runs(traces, [value], run=run, cost=cost):
        last = np.searchsorted(arrays[cost], budgets, side="right") - 1
        held = arrays[value][np.maximum(last, 0)]
        rows.append(np.where(last >= 0, held, np.nan))
        ids.append(run_id)
    return pd.DataFrame(np.vstack(rows), index=pd.Index(ids, name=run), columns=budgets)


def regret_curves(
    traces: pd.DataFrame,
    budgets: ArrayLike,
    *,
    optimum: float,
    scale: float,
    before_first: float | None = None,
    cost: str = CUM_COST,
    value: str = INCUMBENT,
    run: str = RUN,
) -> pd.DataFrame:
    """Normalized regret ``(optimum - incumbent) / scale`` per run (rows) and budget (columns).

    :param before_first: regret where a run has no incumbent yet; None leaves NaN there.
    """
    _check_scale(scale)
    incumbent = incumbent_on_grid(traces, budgets, cost=cost, value=value, run=run)
    regret = (optimum - incumbent) / scale
    return regret if before_first is None else regret.fillna(float(before_first))


def mean_band(
    curves: pd.DataFrame,
    clusters: pd.Series | ArrayLike | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean over runs and its bootstrap band at each budget (columns of ``curves``).

    :param clusters: one label per row of ``curves`` (e.g. the meta-training seed); the
        band then resamples clusters, not runs (:func:`metanas.stats.cluster_bootstrap`).
        A Series is aligned on ``curves``' index.
    :return: one row per budget: ``budget, mean, low, high, runs``. Where a run is still
        undefined (NaN) the row is NaN: a mean over the runs that have started would be
        biased towards fast starters. Fill with ``before_first`` to define it.
    """
    if isinstance(clusters, pd.Series):
        clusters = clusters.reindex(curves.index).to_numpy()
    values = curves.to_numpy(np.float64)
    defined = ~np.isnan(values).any(axis=0)
    mean = np.full(values.shape[1], np.nan)
    low, high = mean.copy(), mean.copy()
    if defined.any():
        interval = cluster_bootstrap(
            values[:, defined],
            clusters,
            confidence=confidence,
            n_resamples=n_resamples,
            seed=seed,
        )
        mean[defined], low[defined], high[defined] = interval.mean, interval.low, interval.high
    return pd.DataFrame(
        {
            "budget": np.asarray(curves.columns, dtype=np.float64),
            "mean": mean,
            "low": low,
            "high": high,
            "runs": (~np.isnan(values)).sum(axis=0),
        }
    )


def regret_auc(
    traces: pd.DataFrame,
    *,
    optimum: float,
    scale: float,
    budget: float,
    start: float = 0.0,
    before_first: float | None = None,
    cost: str = CUM_COST,
    value: str = INCUMBENT,
    run: str = RUN,
) -> pd.Series:
    """Area under each run's regret step function over ``[start, budget]``, divided by its width.

    Exact (no grid): the mean normalized regret over the budget axis, 0 for a run that
    starts at the optimum; lower is better, and a run that gets there sooner scores lower.

    :param before_first: regret before a run's first query; required when a first query
        ends after ``start`` (else a ValueError says so).
    """
    _check_scale(scale)
    if not budget > start:
        raise ValueError(f"need budget > start, got budget={budget}, start={start}")
    width = budget - start
    out = {}
    for run_id, arrays in iter_runs(traces, [value], run=run, cost=cost):
        spent, regret = arrays[cost], (optimum - arrays[value]) / scale
        if spent[-1] > budget * (1 + 1e-12):
            raise ValueError(
                f"run {run_id!r} spent {spent[-1]:g} > budget {budget:g}: pass the budget the "
                "runs were given (or the largest spent cost)"
            )
        edges = np.clip(np.r_[spent, budget], start, budget)
        area = float(np.sum(np.diff(edges) * regret))
        if spent[0] > start:
            if before_first is None:
                raise ValueError(
                    f"run {run_id!r} has no incumbent before {spent[0]:g} > start={start:g}: "
                    "pass before_first (e.g. the worst cell's regret) or a later start"
                )
            area += (min(spent[0], budget) - start) * float(before_first)
        out[run_id] = area / width
    return pd.Series(out, name="regret_auc").rename_axis(run)


def _budgets(budgets: ArrayLike) -> np.ndarray:
    budgets = np.asarray(budgets, dtype=np.float64).ravel()
    if budgets.size == 0 or np.any(np.diff(budgets) <= 0) or not np.all(np.isfinite(budgets)):
        raise ValueError("budgets must be a non-empty, finite, strictly increasing grid")
    return budgets


def _check_scale(scale: float) -> None:
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be finite and > 0 (see regret_scale), got {scale}")
