"""Average ranks with ties, Friedman + Wilcoxon-Holm, the critical-difference diagram."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from metanas import stats


def tidy(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"task": t, "method": m, "value": v} for t, by in rows.items() for m, v in by.items()]
    )


def test_average_ranks_with_ties() -> None:
    frame = tidy(
        {
            "t1": {"A": 3.0, "B": 2.0, "C": 1.0},  # ranks 1, 2, 3
            "t2": {"A": 2.0, "B": 2.0, "C": 1.0},  # ranks 1.5, 1.5, 3
            "t3": {"A": 1.0, "B": 3.0, "C": 2.0},  # ranks 3, 1, 2
        }
    )
    ranks = stats.average_ranks(frame, higher_is_better=True)
    assert ranks.to_dict() == pytest.approx({"A": 5.5 / 3, "B": 4.5 / 3, "C": 8 / 3})
    lower = stats.average_ranks(frame, higher_is_better=False)
    assert lower.to_dict() == pytest.approx({"A": 6.5 / 3, "B": 7.5 / 3, "C": 4 / 3})
    assert stats.rank_tests(frame, higher_is_better=True) is None  # 3 < 5 tasks
    assert stats.critical_difference_diagram(None, "unused.png") is None


def test_average_ranks_per_budget() -> None:
    early = tidy({"t1": {"A": 1.0, "B": 2.0}, "t2": {"A": 1.0, "B": 2.0}}).assign(budget=10)
    late = tidy({"t1": {"A": 2.0, "B": 1.0}, "t2": {"A": 1.0, "B": 1.0}}).assign(budget=20)
    ranks = stats.average_ranks(pd.concat([early, late]), higher_is_better=False, by="budget")
    assert ranks.loc[10].to_dict() == {"A": 1.0, "B": 2.0}
    assert ranks.loc[20].to_dict() == {"A": 1.75, "B": 1.25}


def five_tasks() -> pd.DataFrame:
    """A beats B beats C on every task, with distinct gaps (exact Wilcoxon)."""
    a = [5.0, 6.0, 7.0, 8.0, 9.0]
    b = [4.0] * 5
    c = [3.5, 2.5, 1.5, 0.5, -0.6]
    return tidy({f"t{i}": {"A": a[i], "B": b[i], "C": c[i]} for i in range(5)})


def test_friedman_and_holm_on_a_known_order(tmp_path: Path) -> None:
    tests = stats.rank_tests(five_tasks(), higher_is_better=True)
    assert tests is not None and tests.tasks == 5
    assert tests.ranks.to_dict() == {"A": 1.0, "B": 2.0, "C": 3.0}
    # chi2 = 12 / (n k (k+1)) * sum R_j^2 - 3 n (k+1) = 0.2 * (25 + 100 + 225) - 60
    assert tests.friedman_statistic == pytest.approx(10.0)
    assert tests.friedman_pvalue == pytest.approx(math.exp(-5))  # chi2 sf, 2 dof
    # each pair: exact two-sided Wilcoxon p = 2 / 2^5; Holm over 3 pairs -> 3 * 0.0625
    pairs = tests.pairwise_pvalues
    assert pairs.loc["A", "B"] == pytest.approx(0.1875)
    assert pairs.loc["B", "C"] == pytest.approx(0.1875)
    path = stats.critical_difference_diagram(tests, tmp_path / "cd.png")
    assert path is not None and path.read_bytes()[:4] == b"\x89PNG"


def test_incomplete_or_too_small_inputs_raise() -> None:
    frame = five_tasks()
    with pytest.raises(ValueError, match="every method on every task"):
        stats.rank_tests(frame.iloc[1:], higher_is_better=True)
    with pytest.raises(ValueError, match=">= 3 methods"):
        stats.rank_tests(frame[frame["method"] != "C"], higher_is_better=True)
    with pytest.raises(ValueError, match="aggregate runs first"):
        stats.average_ranks(pd.concat([frame, frame]), higher_is_better=True)
