"""Average ranks across tasks, Friedman + Wilcoxon-Holm, and the critical-difference diagram.

Demsar (2006) / Benavoli et al. (2016): rank the methods within each task (ties get the
average rank), average the ranks over tasks, test "all methods equal" with Friedman's
test and pairs with Wilcoxon signed-rank tests, Holm-corrected
(``scikit_posthocs.posthoc_wilcoxon(p_adjust="holm")``); the critical-difference diagram
(``scikit_posthocs.critical_difference_diagram``) draws the average ranks and links the
methods no pair test separates. With fewer than :data:`MIN_TASKS` tasks the tests have
no power (the smallest two-sided Wilcoxon p over 4 tasks is 0.125), so they return None.

Input is a tidy frame with one value per (task, method), e.g. the mean final regret of
each method on each held-out task (at one budget, or with a ``budget`` column and ``by=``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats

from metanas.stats.traces import require_columns

#: Fewest tasks (blocks) for the Friedman / Wilcoxon-Holm tests and the CD diagram.
MIN_TASKS = 5
#: Fewest methods Friedman's test takes (two methods: use a paired test).
MIN_METHODS = 3


def score_table(
    frame: pd.DataFrame, *, task: str = "task", method: str = "method", value: str = "value"
) -> pd.DataFrame:
    """``(tasks, methods)`` table of ``value``; every method must have one value per task."""
    require_columns(frame, (task, method, value), "ranks")
    counts = frame.groupby([task, method]).size()
    if (counts > 1).any():
        raise ValueError(
            f"more than one {value!r} per ({task}, {method}), e.g. {counts[counts > 1].index[0]}:"
            " aggregate runs first (e.g. the mean over runs)"
        )
    table = frame.pivot(index=task, columns=method, values=value)
    if table.isna().any().any():
        gaps = table.isna().stack()
        raise ValueError(
            f"ranks need every method on every task; missing (task, method): "
            f"{list(gaps[gaps].index[:5])}"
        )
    return table


def rank_table(table: pd.DataFrame, *, higher_is_better: bool) -> pd.DataFrame:
    """Rank methods (columns) within each task (row): 1 = best, ties averaged."""
    signed = table.to_numpy(np.float64) * (-1.0 if higher_is_better else 1.0)
    ranks = stats.rankdata(signed, axis=1, method="average")
    return pd.DataFrame(ranks, index=table.index, columns=table.columns)


def average_ranks(
    frame: pd.DataFrame,
    *,
    higher_is_better: bool,
    by: str | None = None,
    task: str = "task",
    method: str = "method",
    value: str = "value",
) -> pd.Series | pd.DataFrame:
    """Average rank of each method over tasks (Series); with ``by`` (e.g. a budget column),
    one row per value of ``by`` (DataFrame, methods as columns)."""
    if by is None:
        table = score_table(frame, task=task, method=method, value=value)
        return rank_table(table, higher_is_better=higher_is_better).mean(axis=0)
    require_columns(frame, (by,), "average_ranks")
    rows = {
        key: average_ranks(
            group, higher_is_better=higher_is_better, task=task, method=method, value=value
        )
        for key, group in frame.groupby(by, sort=True)
    }
    return pd.DataFrame(rows).T.rename_axis(by)


@dataclass(frozen=True)
class RankTests:
    """Friedman's omnibus test, Holm-corrected pairwise Wilcoxon p-values, average ranks."""

    ranks: pd.Series
    friedman_statistic: float
    friedman_pvalue: float
    pairwise_pvalues: pd.DataFrame
    tasks: int


def rank_tests(
    frame: pd.DataFrame,
    *,
    higher_is_better: bool,
    task: str = "task",
    method: str = "method",
    value: str = "value",
) -> RankTests | None:
    """Friedman test and Wilcoxon-Holm post-hoc over tasks; None below :data:`MIN_TASKS`.

    :raises ValueError: fewer than :data:`MIN_METHODS` methods, or incomplete blocks.
    """
    table = score_table(frame, task=task, method=method, value=value)
    if table.shape[1] < MIN_METHODS:
        raise ValueError(
            f"Friedman's test needs >= {MIN_METHODS} methods, got {list(table.columns)}: "
            "compare two methods with a paired test (scipy.stats.wilcoxon)"
        )
    if table.shape[0] < MIN_TASKS:
        return None
    friedman = stats.friedmanchisquare(*(table[c].to_numpy() for c in table.columns))
    long = table.melt(var_name=method, value_name=value, ignore_index=True)
    # posthoc_wilcoxon pairs observations by their order within each method: melt keeps
    # the task order of ``table`` in every method's block.
    pairwise = sp.posthoc_wilcoxon(
        long, val_col=value, group_col=method, p_adjust="holm", zero_method="zsplit"
    )
    ranks = rank_table(table, higher_is_better=higher_is_better).mean(axis=0)
    return RankTests(
        ranks=ranks,
        friedman_statistic=float(friedman.statistic),
        friedman_pvalue=float(friedman.pvalue),
        pairwise_pvalues=pairwise.loc[ranks.index, ranks.index],
        tasks=int(table.shape[0]),
    )


def critical_difference_diagram(
    tests: RankTests | None, path: Path | str, *, alpha: float = 0.05, title: str = ""
) -> Path | None:
    """Save the CD diagram of ``tests`` (PNG/PDF by suffix); None (no file) when ``tests`` is.

    Methods joined by a bar are not separated by the Holm-corrected Wilcoxon tests at
    ``alpha``.
    """
    if tests is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(7.0, 0.5 + 0.35 * len(tests.ranks)))
    sp.critical_difference_diagram(tests.ranks, tests.pairwise_pvalues, ax=ax, alpha=alpha)
    ax.set_title(title or f"average rank over {tests.tasks} tasks (Wilcoxon-Holm, α={alpha})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
