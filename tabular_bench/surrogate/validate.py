"""Held-out rank quality of the surrogate: fit on a seeded fraction of a table's cells.

``python -m tabular_bench.builder surrogate --fraction 0.05 --seed 0 --out
results/surrogate/nb201_surrogate.csv`` fits on 5% of the NAS-Bench-201 cells and reports
Kendall tau and Spearman rho on the other 95%, per task and metric, at 200 epochs.
Any importer's table works the same way, e.g. TransNAS-Bench-101 micro, each task's search
metric only, fitted on 80% of the measured cells::

    python -m tabular_bench.builder surrogate --importer naslib-zc-transnas-micro \
        --src transnas101/zc_transbench101_micro.json --fraction 0.8 --metrics first \
        --out results/transnas101/surrogate_micro.csv
"""

from __future__ import annotations

import numpy as np

from tabular_bench.spaces import SearchSpace, space_named
from tabular_bench.store import Table
from tabular_bench.surrogate.model import CellPredictor, rank_correlations


def split_cells(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train rows, held-out rows) of a table with ``n`` rows."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(n)
    cut = max(2, round(fraction * n))
    return np.sort(order[:cut]), np.sort(order[cut:])


def validate(
    table: Table,
    *,
    fraction: float,
    seed: int,
    fidelity: int | None,
    space: SearchSpace | None = None,
    first_metric_only: bool = False,
) -> list[dict]:
    """One row per (task, metric): training size, held-out size, tau, rho.

    :param fidelity: ``None`` takes each task's last fidelity.
    :param first_metric_only: only each task's first metric (the importers' search metric).
    """
    space = space_named(table.space) if space is None else space
    train, held_out = split_cells(table.num_archs, fraction, seed)
    rows = []
    for name, task in table.tasks.items():
        at = task.fidelities[-1] if fidelity is None else fidelity
        mean = task.seed_mean()[:, task.fidelities.index(at)]
        for m, metric in enumerate(task.metrics[:1] if first_metric_only else task.metrics):
            y = mean[:, m]
            fit_rows, test_rows = train[np.isfinite(y[train])], held_out[np.isfinite(y[held_out])]
            predictor = CellPredictor(seed=seed, space=space).fit(table.codes[fit_rows],
                                                                  y[fit_rows])
            tau, rho = rank_correlations(y[test_rows], predictor.predict(table.codes[test_rows]))
            rows.append({"task": name, "metric": metric, "fidelity": at, "fraction": fraction,
                             "seed": seed, "n_train": len(fit_rows), "n_test": len(test_rows),
                             "kendall_tau": round(tau, 4), "spearman_rho": round(rho, 4)})
    return rows
