"""Held-out rank quality of the surrogate: fit on a seeded fraction of a table's cells.

``python -m tabular_bench.surrogate.validate --fraction 0.05 --seed 0 --out
results/surrogate/nb201_surrogate.csv`` fits on 5% of the NAS-Bench-201 cells and reports
Kendall tau and Spearman rho on the other 95%, per task and metric, at 200 epochs.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from tabular_bench.spaces.nb201 import NB201
from tabular_bench.store import Table
from tabular_bench.surrogate.model import CellPredictor, rank_correlations


def split_cells(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train rows, held-out rows) of a table with ``n`` rows."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(n)
    cut = max(2, round(fraction * n))
    return np.sort(order[:cut]), np.sort(order[cut:])


def validate(table: Table, *, fraction: float, seed: int, fidelity: int) -> list[dict]:
    """One row per (task, metric): training size, held-out size, tau, rho."""
    train, held_out = split_cells(table.num_archs, fraction, seed)
    rows = []
    for name, task in table.tasks.items():
        mean = task.seed_mean()[:, task.fidelities.index(fidelity)]
        for m, metric in enumerate(task.metrics):
            y = mean[:, m]
            fit_rows, test_rows = train[np.isfinite(y[train])], held_out[np.isfinite(y[held_out])]
            predictor = CellPredictor(seed=seed).fit(table.codes[fit_rows], y[fit_rows])
            tau, rho = rank_correlations(y[test_rows], predictor.predict(table.codes[test_rows]))
            rows.append({"task": name, "metric": metric, "fidelity": fidelity, "fraction": fraction,
                             "seed": seed, "n_train": len(fit_rows), "n_test": len(test_rows),
                             "kendall_tau": round(tau, 4), "spearman_rho": round(rho, 4)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", default=None,
                        help="a .h5 table; default the NB201 table of the data directory")
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fidelity", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from tabular_bench.loaders import nb201

    start = time.perf_counter()
    table = nb201(args.table).table
    if table.space != NB201.name:
        raise ValueError(f"the surrogate covers the nb201 space, not {table.space!r}")
    rows = validate(table, fraction=args.fraction, seed=args.seed, fidelity=args.fidelity)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(row)
    print(f"wall time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
