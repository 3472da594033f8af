"""The per-(task, method) summary row on small hand-built traces."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metanas import stats


def run_rows(run: int, meta_seed: int, test_acc: list[float], cost: float = 10.0) -> pd.DataFrame:
    acc = np.asarray(test_acc)
    return pd.DataFrame(
        {
            "dataset": "toy",
            "strategy": "m",
            "run": run,
            "meta_seed": meta_seed,
            "step": np.arange(acc.size),
            "cum_cost": cost * np.arange(1, acc.size + 1),
            "test_acc": acc,
            "best_test_acc": np.maximum.accumulate(acc),
        }
    )


TARGETS = stats.TaskTargets(optimum=95.0, worst=75.0, scale=5.0, budget=40.0, cost_unit="s")


def test_summary_row_by_hand() -> None:
    # Runs 0 and 1 reach 95 at 20 s and 30 s; runs 2 and 3 never: KM median = 30.
    traces = pd.concat(
        [
            run_rows(0, 0, [90, 95, 80, 80]),
            run_rows(1, 1, [90, 92, 95, 80]),
            run_rows(2, 0, [90, 90, 90, 90]),
            run_rows(3, 1, [85, 90, 90, 93]),
        ]
    )
    row = stats.summary_row(traces, TARGETS)
    assert row["runs"] == 4 and row["meta_seeds"] == 2 and row["cost_unit"] == "s"
    assert row["km_median_cost_to_optimum"] == 30.0
    assert row["found_by_budget"] == 0.5
    assert row["final_test_acc_mean"] == pytest.approx((95 + 95 + 90 + 93) / 4)
    # regret before the first query: (95 - 75) / 5 = 4 for the first 10 of 40 s
    run0 = (10 * 4 + 10 * 1 + 20 * 0) / 40
    run1 = (10 * 4 + 10 * 1 + 10 * 0.6 + 10 * 0) / 40
    run2 = (10 * 4 + 30 * 1) / 40
    run3 = (10 * 4 + 10 * 2 + 10 * 1 + 10 * 1) / 40  # 93 arrives at 40 s: zero width
    assert row["regret_auc"] == pytest.approx((run0 + run1 + run2 + run3) / 4)
    # two clusters: {0: 95, 90}, {1: 95, 93}; the interval spans their means
    assert row["final_test_acc_ci95_low"] == pytest.approx(92.5)
    assert row["final_test_acc_ci95_high"] == pytest.approx(94.0)


def test_not_reached_is_empty_and_baselines_have_no_clusters() -> None:
    traces = pd.concat([run_rows(r, -1, [90, 91, 92, 93]) for r in range(3)])
    table = stats.summary_table(traces, {"toy": TARGETS})
    assert list(table.columns[:2]) == ["dataset", "strategy"]
    row = table.iloc[0]
    assert math.isnan(row["km_median_cost_to_optimum"])
    assert row["found_by_budget"] == 0.0 and row["meta_seeds"] == 0
    assert row["final_test_acc_ci95"] == 0.0  # every run ends at 93
    assert table.to_csv(index=False).splitlines()[1].split(",")[5] == ""  # empty = not reached
    with pytest.raises(ValueError, match="no TaskTargets"):
        stats.summary_table(traces, {"other": TARGETS})


def test_task_targets_from_space() -> None:
    targets = stats.TaskTargets.from_space([70.0, 80.0, 90.0, np.nan], budget=100.0)
    assert (targets.optimum, targets.worst, targets.scale) == (90.0, 70.0, 10.0)
