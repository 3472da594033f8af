"""Time to target as right-censored data: Kaplan-Meier, log-rank, paired sign and McNemar tests.

Per run, the *time to target* is the cumulative cost (simulated seconds, or queries with
``cost=QUERIES``) at the first query whose accuracy reaches ``target`` (the optimum, or
within ``delta`` of it). A run that never reaches it is *censored*: all we know is that
its time exceeds what it was observed for (its budget). Scoring such a run with its own
budget or query count, and taking medians or Wilcoxon tests of those numbers, treats
"never" as "at the cap"; the survival tools here do not:

* :func:`km_median`: the Kaplan-Meier median (``lifelines.KaplanMeierFitter``), NaN
  ("not reached") when the estimated share still searching never falls to one half, which
  is always the case when more than half of the runs are censored;
* :func:`logrank`: ``lifelines.statistics.logrank_test`` between two methods' runs;
* :func:`sign_test`: a paired test with never = +inf (see its docstring for why a sign test);
* :func:`found_share` and :func:`mcnemar_exact`: the share that reached the target within
  the budget, and the exact McNemar test of paired found / not-found outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from numpy.typing import ArrayLike
from scipy import stats

from metanas.stats.traces import CUM_COST, QUERY_TEST, RUN, iter_runs

#: Accuracies within this of the target count as reaching it (float round-off).
TOLERANCE = 1e-9
#: Columns of a time-to-target frame.
DURATION, OBSERVED = "duration", "observed"


def time_to_target(
    traces: pd.DataFrame,
    target: float,
    *,
    budget: float | None = None,
    cost: str = CUM_COST,
    value: str = QUERY_TEST,
    run: str = RUN,
) -> pd.DataFrame:
    """Per run: cost at the first query with ``value >= target`` (observed) or censoring.

    :param target: e.g. ``optimum - delta`` (delta 0, 0.1, 0.5 points).
    :param budget: censor never-reaching runs at this common budget (NB201's rule stops a
        run when the next query would not fit, so it was observed up to the budget). None
        censors each at its own spent cost. A common budget is what makes "never" later
        than every observed time, which the paired tests rely on.
    :param value: ``test_acc`` (the queried cell) asks "was a target cell evaluated";
        ``best_test_acc`` (the incumbent) asks "would the run have returned one".
    :return: frame indexed by run with ``duration`` and ``observed`` (bool).
    """
    durations, observed, ids = [], [], []
    for run_id, arrays in iter_runs(traces, [value], run=run, cost=cost):
        spent = arrays[cost]
        if budget is not None and spent[-1] > budget * (1 + 1e-12):
            raise ValueError(
                f"run {run_id!r} spent {spent[-1]:g} > budget {budget:g} (in {cost!r}): "
                "pass the budget the runs were given"
            )
        hits = np.flatnonzero(arrays[value] >= target - TOLERANCE)
        ids.append(run_id)
        observed.append(hits.size > 0)
        if hits.size:
            durations.append(spent[hits[0]])
        else:
            durations.append(spent[-1] if budget is None else float(budget))
    return pd.DataFrame(
        {DURATION: np.asarray(durations, np.float64), OBSERVED: np.asarray(observed, bool)},
        index=pd.Index(ids, name=run),
    )


def kaplan_meier(times: pd.DataFrame, label: str | None = None) -> KaplanMeierFitter:
    """Fitted ``KaplanMeierFitter`` of a :func:`time_to_target` frame.

    Plot the share that has reached the target with ``.plot_cumulative_density(ax=ax)``
    (or the share still searching with ``.plot_survival_function``); both draw the
    Greenwood 95% band. ``.survival_function_`` and ``.confidence_interval_`` hold the
    numbers.
    """
    _check_times(times)
    return KaplanMeierFitter(label=label).fit(times[DURATION], times[OBSERVED])


def km_median(times: pd.DataFrame) -> float:
    """Kaplan-Meier median time to target; NaN when not reached.

    lifelines reports ``inf`` when the survival curve never falls to 0.5 (censoring before
    half the runs have reached the target); that is "not reached", never the budget.
    """
    median = float(kaplan_meier(times).median_survival_time_)
    return median if np.isfinite(median) else float("nan")


@dataclass(frozen=True)
class TestResult:
    """A test statistic and its two-sided p-value."""

    statistic: float
    pvalue: float


def logrank(a: pd.DataFrame, b: pd.DataFrame) -> TestResult:
    """Log-rank test that two methods' time-to-target curves are equal (censoring-aware).

    It treats the two samples as independent; for runs paired by seed use
    :func:`sign_test` too.
    """
    _check_times(a)
    _check_times(b)
    result = logrank_test(a[DURATION], b[DURATION], a[OBSERVED], b[OBSERVED])
    return TestResult(float(result.test_statistic), float(result.p_value))


@dataclass(frozen=True)
class SignTest:
    """Paired comparison of times to target: pairs where each side reached it first."""

    a_first: int
    b_first: int
    ties: int
    pvalue: float


def sign_test(a: pd.DataFrame, b: pd.DataFrame) -> SignTest:
    """Exact two-sided sign test of paired times to target, with never = +inf.

    Pairs are runs with the same index (the same strategy seed). Censored times become
    +inf, which is exact only when both sides share the budget (``time_to_target(...,
    budget=)``): "never within the budget" is then later than every observed time, and
    two nevers tie. A sign test uses nothing but the within-pair order, so +inf is a valid
    value; Wilcoxon's signed-rank test needs the differences' sizes, which are infinite or
    undefined (inf - inf) for every pair with a never. Ties are dropped (the usual sign
    test); the p-value is ``scipy.stats.binomtest(a_first, a_first + b_first, 0.5)``.
    """
    ta, tb = _paired(a, b)
    a_first, b_first = int(np.sum(ta < tb)), int(np.sum(tb < ta))
    ties = int(ta.size - a_first - b_first)
    pvalue = _binomial_p(a_first, a_first + b_first)
    return SignTest(a_first, b_first, ties, pvalue)


def found_share(times: pd.DataFrame, budget: float | None = None) -> float:
    """Share of runs that reached the target (within ``budget`` when given)."""
    _check_times(times)
    found = times[OBSERVED].to_numpy(bool)
    if budget is not None:
        found = found & (times[DURATION].to_numpy() <= budget)
    return float(found.mean())


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on paired binary outcomes: the discordant pair counts and p."""

    a_only: int
    b_only: int
    pvalue: float


def mcnemar_exact(found_a: ArrayLike, found_b: ArrayLike) -> McNemar:
    """Exact McNemar test that two methods find the target equally often, paired by run.

    Only discordant pairs carry information: under the null, each is equally likely to
    favour either method, so ``a_only ~ Binomial(a_only + b_only, 1/2)`` (``binomtest``).
    p = 1 when there is no discordant pair.
    """
    fa, fb = np.asarray(found_a, dtype=bool), np.asarray(found_b, dtype=bool)
    if fa.shape != fb.shape or fa.ndim != 1:
        raise ValueError(f"paired outcomes must be 1-D of equal length, got {fa.shape}, {fb.shape}")
    a_only, b_only = int(np.sum(fa & ~fb)), int(np.sum(fb & ~fa))
    return McNemar(a_only, b_only, _binomial_p(a_only, a_only + b_only))


def paired_found(
    a: pd.DataFrame, b: pd.DataFrame, budget: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Found-within-budget flags of two time-to-target frames, aligned by run."""
    runs = _common_runs(a, b)
    out = []
    for times in (a, b):
        rows = times.loc[runs]
        found = rows[OBSERVED].to_numpy(bool)
        if budget is not None:
            found &= rows[DURATION].to_numpy() <= budget
        out.append(found)
    return out[0], out[1]


def _paired(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    runs = _common_runs(a, b)
    return tuple(  # type: ignore[return-value]
        np.where(t.loc[runs, OBSERVED].to_numpy(bool), t.loc[runs, DURATION].to_numpy(), np.inf)
        for t in (a, b)
    )


def _common_runs(a: pd.DataFrame, b: pd.DataFrame) -> pd.Index:
    _check_times(a)
    _check_times(b)
    if not a.index.sort_values().equals(b.index.sort_values()):
        only = a.index.symmetric_difference(b.index)
        raise ValueError(
            f"paired tests need the same runs on both sides; {len(only)} run(s) are on one "
            f"side only (e.g. {list(only[:5])}): run both methods on the same seeds"
        )
    return a.index.sort_values()


def _check_times(times: pd.DataFrame) -> None:
    if not {DURATION, OBSERVED} <= set(times.columns) or times.empty:
        raise ValueError(
            "expected a non-empty time_to_target() frame with columns "
            f"{DURATION!r} and {OBSERVED!r}, got columns {list(times.columns)}"
        )


def _binomial_p(successes: int, trials: int) -> float:
    return 1.0 if trials == 0 else float(stats.binomtest(successes, trials, 0.5).pvalue)
