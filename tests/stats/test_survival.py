"""Time to target as censored data, Kaplan-Meier, log-rank, sign and McNemar tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metanas import stats


def times(durations: list[float], observed: list[int], runs: list[int] | None = None):
    index = pd.Index(range(len(durations)) if runs is None else runs, name="run")
    return pd.DataFrame({"duration": durations, "observed": np.asarray(observed, bool)}, index)


def two_runs() -> pd.DataFrame:
    """Run 0 evaluates the optimum (95) at 30 s; run 1 never gets within 0.5 of it."""
    return pd.DataFrame(
        {
            "run": [0, 0, 0, 1, 1],
            "step": [0, 1, 2, 0, 1],
            "cum_cost": [10.0, 30.0, 60.0, 20.0, 50.0],
            "test_acc": [90.0, 95.0, 93.0, 90.0, 94.4],
            "best_test_acc": [90.0, 95.0, 95.0, 90.0, 94.4],
        }
    )


def test_time_to_target_observes_the_first_hit_and_censors_the_rest() -> None:
    at_budget = stats.time_to_target(two_runs(), 95.0, budget=100.0)
    assert at_budget.loc[0].tolist() == [30.0, True]
    assert at_budget.loc[1].tolist() == [100.0, False]
    own_cost = stats.time_to_target(two_runs(), 95.0)
    assert own_cost.loc[1].tolist() == [50.0, False]
    within = stats.time_to_target(two_runs(), 95.0 - 0.5, budget=100.0)
    assert within["observed"].tolist() == [True, False]  # 94.4 is 0.6 away
    queries = stats.time_to_target(stats.with_query_axis(two_runs()), 95.0, cost=stats.QUERIES)
    assert queries.loc[0].tolist() == [2.0, True]
    with pytest.raises(ValueError, match="budget"):
        stats.time_to_target(two_runs(), 95.0, budget=40.0)


def test_km_median_counts_censored_runs_as_still_searching() -> None:
    # S(1) = 5/6, censored at 2, S(3) = 5/6 * 3/4 = 0.625, S(4) = 0.625 * 2/3 = 0.417
    data = times([1, 2, 3, 4, 5, 6], [1, 0, 1, 1, 0, 1])
    assert stats.km_median(data) == 4.0  # the median of the durations would say 3.5
    survival = stats.kaplan_meier(data).survival_function_.iloc[:, 0]
    assert survival.loc[3.0] == pytest.approx(0.625)


def test_km_median_is_not_reached_when_more_than_half_are_censored() -> None:
    assert np.isnan(stats.km_median(times([1, 2, 3, 4, 5], [1, 1, 0, 0, 0])))
    assert stats.km_median(times([1, 2, 3, 4, 5], [1, 1, 1, 0, 0])) == 3.0


def test_logrank_matches_the_hand_computed_statistic() -> None:
    # Events a at 1, 3; b at 2, 4. O_a - E_a = 2 - (1/2 + 1/3 + 1/2) = 2/3,
    # V = 1/4 + 2/9 + 1/4 = 13/18 -> chi2 = (4/9) / (13/18) = 8/13.
    result = stats.logrank(times([1, 3], [1, 1]), times([2, 4], [1, 1]))
    assert result.statistic == pytest.approx(8 / 13)
    from scipy.stats import chi2

    assert result.pvalue == pytest.approx(chi2.sf(8 / 13, 1))


def test_sign_test_treats_never_as_later_than_every_hit() -> None:
    a = times([10, 100, 100, 50, 5, 7, 9], [1, 0, 0, 1, 1, 1, 1])
    b = times([20, 30, 100, 100, 6, 8, 10], [1, 1, 0, 0, 1, 1, 1])
    result = stats.sign_test(a, b)
    assert (result.a_first, result.b_first, result.ties) == (5, 1, 1)
    assert result.pvalue == pytest.approx(2 * (1 + 6) / 64)  # binomial(6, 1/2), two-sided
    with pytest.raises(ValueError, match="same runs"):
        stats.sign_test(a, b.iloc[:-1])


def test_mcnemar_on_a_hand_table() -> None:
    # both 5, a only 8, b only 2, neither 3: p = 2 * P(Bin(10, 1/2) <= 2) = 112 / 1024
    found_a = [1] * 5 + [1] * 8 + [0] * 2 + [0] * 3
    found_b = [1] * 5 + [0] * 8 + [1] * 2 + [0] * 3
    result = stats.mcnemar_exact(found_a, found_b)
    assert (result.a_only, result.b_only) == (8, 2)
    assert result.pvalue == pytest.approx(112 / 1024)
    assert stats.mcnemar_exact([1, 0], [1, 0]).pvalue == 1.0


def test_found_share_and_paired_flags_respect_the_budget() -> None:
    a = times([10, 60, 100], [1, 1, 0])
    b = times([20, 100, 30], [1, 0, 1])
    assert stats.found_share(a) == pytest.approx(2 / 3)
    assert stats.found_share(a, budget=50) == pytest.approx(1 / 3)
    fa, fb = stats.paired_found(a, b, budget=50)
    assert fa.tolist() == [True, False, False] and fb.tolist() == [True, False, True]
