"""One summary row per (benchmark, held-out task, method) from the runs' traces.

Columns (:data:`SUMMARY_COLUMNS`):

* ``runs``; ``meta_seeds``: distinct meta-training seeds (clusters), 0 for a method
  without a meta-trained prior;
* ``cost_unit``: what durations and budgets count (``simulated_s`` or ``queries``);
* ``km_median_cost_to_optimum``: Kaplan-Meier median cost until a cell within ``delta``
  of the optimum was evaluated; NaN (an empty CSV cell) = not reached;
* ``found_by_budget``: share of runs that evaluated one within the budget;
* ``regret_auc``: mean over runs of the area under the normalized regret curve on
  ``[0, budget]`` (0 = optimum from the start; before a run's first query its regret is
  the worst cell's);
* ``final_test_acc_mean`` and ``final_test_acc_ci95`` (half-width; ``_low``/``_high`` are
  the interval itself): the incumbent's test accuracy at the budget, with a cluster
  bootstrap over meta-training seeds where the runs have them, over runs otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from metanas.stats.bootstrap import MIN_CLUSTERS, cluster_bootstrap
from metanas.stats.regret import regret_auc, regret_scale
from metanas.stats.survival import found_share, km_median, time_to_target
from metanas.stats.traces import CLUSTER, CUM_COST, INCUMBENT, QUERY_TEST, RUN, require_columns

SUMMARY_COLUMNS = (
    "runs",
    "meta_seeds",
    "cost_unit",
    "km_median_cost_to_optimum",
    "found_by_budget",
    "regret_auc",
    "final_test_acc_mean",
    "final_test_acc_ci95",
    "final_test_acc_ci95_low",
    "final_test_acc_ci95_high",
)


@dataclass(frozen=True)
class TaskTargets:
    """What a held-out task's runs are measured against.

    :param optimum: best test accuracy in the space (the target).
    :param worst: worst test accuracy: the regret of a run before its first query.
    :param scale: regret normaliser (:func:`metanas.stats.regret_scale`).
    :param budget: the runs' budget, in ``cost_unit``.
    :param cost_unit: label of the cost axis (``simulated_s``, ``queries``).
    """

    optimum: float
    worst: float
    scale: float
    budget: float
    cost_unit: str

    @classmethod
    def from_space(
        cls,
        test_acc: ArrayLike,
        *,
        budget: float,
        cost_unit: str = "simulated_s",
        scale: Literal["median", "worst"] = "median",
    ) -> TaskTargets:
        """Targets from every cell's test accuracy on the task (NaN = unmeasured)."""
        values = np.asarray(test_acc, dtype=np.float64)
        values = values[np.isfinite(values)]
        return cls(
            optimum=float(values.max()),
            worst=float(values.min()),
            scale=regret_scale(values, reference=scale),
            budget=float(budget),
            cost_unit=cost_unit,
        )


def summary_row(
    traces: pd.DataFrame,
    targets: TaskTargets,
    *,
    delta: float = 0.0,
    cost: str = CUM_COST,
    value: str = QUERY_TEST,
    incumbent: str = INCUMBENT,
    cluster: str | None = CLUSTER,
    run: str = RUN,
    seed: int = 0,
) -> dict[str, object]:
    """The :data:`SUMMARY_COLUMNS` of one method's runs on one task.

    :param traces: that method's trace rows on that task (one row per told query).
    :param delta: reach within ``delta`` points of the optimum (0: the optimum itself).
    :param value: per-query accuracy column for time to target (``test_acc``); pass
        ``best_test_acc`` for runner traces without it (the incumbent reaching it).
    :param cluster: column of meta-training seeds (negative = none); None = independent.
    :param seed: seeds the bootstrap.
    """
    times = time_to_target(
        traces, targets.optimum - delta, budget=targets.budget, cost=cost, value=value, run=run
    )
    before_first = (targets.optimum - targets.worst) / targets.scale
    auc = regret_auc(
        traces,
        optimum=targets.optimum,
        scale=targets.scale,
        budget=targets.budget,
        before_first=before_first,
        cost=cost,
        value=incumbent,
        run=run,
    )
    finals, clusters = _finals(traces, incumbent=incumbent, cluster=cluster, run=run)
    groups = np.unique(clusters).size if clusters is not None else finals.size
    low = high = half = float("nan")
    if groups >= MIN_CLUSTERS:
        interval = cluster_bootstrap(finals, clusters, seed=seed)
        low, high, half = float(interval.low), float(interval.high), interval.half_width
    return {
        "runs": int(finals.size),
        "meta_seeds": 0 if clusters is None else int(groups),
        "cost_unit": targets.cost_unit,
        "km_median_cost_to_optimum": km_median(times),
        "found_by_budget": found_share(times, targets.budget),
        "regret_auc": float(auc.mean()),
        "final_test_acc_mean": float(finals.mean()),
        "final_test_acc_ci95": half,
        "final_test_acc_ci95_low": low,
        "final_test_acc_ci95_high": high,
    }


def summary_table(
    traces: pd.DataFrame,
    targets: Mapping[object, TaskTargets],
    *,
    task: str | Sequence[str] = "dataset",
    method: str = "strategy",
    **options: object,
) -> pd.DataFrame:
    """:func:`summary_row` for every (task, method) in ``traces``.

    :param targets: per task key (the value of ``task``, or a tuple when ``task`` names
        several columns, e.g. ``("benchmark", "dataset")``).
    :param options: passed to :func:`summary_row` (``delta``, ``cost``, ``value``, ...).
    """
    keys = [task] if isinstance(task, str) else list(task)
    require_columns(traces, [*keys, method], "summary_table")
    rows = []
    for group, rows_of in traces.groupby([*keys, method], sort=False):
        key = group[0] if len(keys) == 1 else tuple(group[:-1])
        if key not in targets:
            raise ValueError(f"no TaskTargets for task {key!r}; have {list(targets)}")
        row = dict(zip([*keys, method], group, strict=True))
        row.update(summary_row(rows_of, targets[key], **options))  # type: ignore[arg-type]
        rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, method, *SUMMARY_COLUMNS])


def _finals(
    traces: pd.DataFrame, *, incumbent: str, cluster: str | None, run: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Final incumbent test accuracy per run, and the runs' cluster labels (None = none)."""
    columns = [run, incumbent] + ([cluster] if cluster and cluster in traces.columns else [])
    require_columns(traces, columns[:2], "summary")
    order = [run, "step"] if "step" in traces.columns else [run]
    last = traces.sort_values(order, kind="stable").groupby(run, sort=True).tail(1)
    finals = last[incumbent].to_numpy(np.float64)
    if len(columns) < 3:
        return finals, None
    labels = last[cluster].to_numpy()
    if np.all(labels < 0):
        return finals, None
    if np.any(labels < 0):
        raise ValueError(f"some runs have a {cluster!r} and some do not: mix of methods?")
    return finals, labels
