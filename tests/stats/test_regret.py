"""Anytime regret on hand-computed traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metanas import stats


def three_queries() -> pd.DataFrame:
    """One run, three queries: incumbent 90 -> 92 -> 92 at 10, 30, 60 simulated seconds."""
    return pd.DataFrame(
        {
            "run": [0, 0, 0],
            "step": [0, 1, 2],
            "cost": [10.0, 20.0, 30.0],
            "cum_cost": [10.0, 30.0, 60.0],
            "best_test_acc": [90.0, 92.0, 92.0],
            "test_acc": [90.0, 92.0, 85.0],
        }
    )


def test_regret_is_a_step_function_of_the_budget_and_undefined_before_the_first_query() -> None:
    grid = [5.0, 10.0, 29.0, 30.0, 100.0]
    curves = stats.regret_curves(three_queries(), grid, optimum=95.0, scale=5.0)
    np.testing.assert_allclose(curves.loc[0].to_numpy(), [np.nan, 1.0, 1.0, 0.6, 0.6])
    filled = stats.regret_curves(three_queries(), grid, optimum=95.0, scale=5.0, before_first=2.0)
    assert filled.loc[0, 5.0] == 2.0


def test_regret_against_queries() -> None:
    traces = stats.with_query_axis(three_queries())
    curves = stats.regret_curves(traces, [1, 2, 3, 4], optimum=95.0, scale=5.0, cost=stats.QUERIES)
    np.testing.assert_allclose(curves.loc[0].to_numpy(), [1.0, 0.6, 0.6, 0.6])


def test_rows_out_of_order_are_sorted_by_step() -> None:
    shuffled = three_queries().iloc[[2, 0, 1]]
    curves = stats.incumbent_on_grid(shuffled, [10.0, 60.0])
    np.testing.assert_allclose(curves.loc[0].to_numpy(), [90.0, 92.0])


def test_regret_auc_integrates_the_step_function_exactly() -> None:
    # [0, 10): 2.0 (before_first), [10, 30): 1.0, [30, 100]: 0.6 -> (20 + 20 + 42) / 100
    auc = stats.regret_auc(three_queries(), optimum=95.0, scale=5.0, budget=100.0, before_first=2.0)
    assert auc.loc[0] == pytest.approx(0.82)
    later = stats.regret_auc(three_queries(), optimum=95.0, scale=5.0, budget=100.0, start=10.0)
    assert later.loc[0] == pytest.approx((20 * 1.0 + 70 * 0.6) / 90)
    with pytest.raises(ValueError, match="before_first"):
        stats.regret_auc(three_queries(), optimum=95.0, scale=5.0, budget=100.0)
    with pytest.raises(ValueError, match="budget"):
        stats.regret_auc(three_queries(), optimum=95.0, scale=5.0, budget=50.0, before_first=2.0)


def test_mean_band_is_undefined_until_every_run_has_started() -> None:
    second = three_queries().assign(run=1, cum_cost=[20.0, 40.0, 70.0])
    traces = pd.concat([three_queries(), second])
    curves = stats.regret_curves(traces, [10.0, 20.0, 100.0], optimum=95.0, scale=5.0)
    band = stats.mean_band(curves)
    assert np.isnan(band.loc[0, "mean"]) and band.loc[0, "runs"] == 1
    assert band.loc[1, "mean"] == pytest.approx(1.0)
    assert band.loc[2, "mean"] == pytest.approx(0.6)
    assert band.loc[2, "low"] == band.loc[2, "high"] == pytest.approx(0.6)


def test_regret_scale_and_bad_input() -> None:
    assert stats.regret_scale([1.0, 2.0, 4.0, np.nan]) == 2.0
    assert stats.regret_scale([1.0, 2.0, 4.0], reference="worst") == 3.0
    with pytest.raises(ValueError, match="scale"):
        stats.regret_curves(three_queries(), [10.0], optimum=95.0, scale=0.0)
    with pytest.raises(ValueError, match="lacks column"):
        stats.regret_curves(three_queries().drop(columns="cum_cost"), [1.0], optimum=1, scale=1)
    decreasing = three_queries().assign(cum_cost=[10.0, 5.0, 60.0])
    with pytest.raises(ValueError, match="decreases"):
        stats.incumbent_on_grid(decreasing, [10.0])
