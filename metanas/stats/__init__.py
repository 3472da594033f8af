"""Statistics shared by every search report, on scipy, lifelines and scikit-posthocs.

Pure functions over numpy arrays and the runner's tidy trace frames (one row per told
query: ``run``, ``step``, ``cum_cost``, ``best_test_acc``, optionally ``test_acc`` and
``meta_seed``; see :mod:`metanas.stats.traces`). Select one method's runs on one task
before calling the per-run functions. Typical use::

    from metanas import stats

    targets = stats.TaskTargets.from_space(test_acc_of_every_cell, budget=12_000)
    # anytime regret against simulated seconds, mean and 95% band
    grid = stats.budget_grid(targets.budget, 200)
    curves = stats.regret_curves(runs, grid, optimum=targets.optimum, scale=targets.scale)
    band = stats.mean_band(curves, clusters=None)          # or a meta_seed per run
    auc = stats.regret_auc(runs, optimum=targets.optimum, scale=targets.scale,
                           budget=targets.budget, before_first=1.0)
    # against queries instead: runs = stats.with_query_axis(runs); cost=stats.QUERIES

    # time to the optimum (or within delta) as right-censored data
    times = stats.time_to_target(runs, targets.optimum - 0.1, budget=targets.budget)
    stats.km_median(times)                                 # NaN = not reached
    stats.kaplan_meier(times, label="rea").plot_cumulative_density(ax=ax)
    stats.logrank(times, other_times).pvalue
    stats.sign_test(times, other_times)                    # paired, never = +inf
    stats.mcnemar_exact(*stats.paired_found(times, other_times, targets.budget))

    # a mean over runs clustered by meta-training seed
    stats.cluster_bootstrap(final_acc, clusters=meta_seed, seed=0)

    # ranks over tasks (5+ tasks for the tests and the diagram)
    stats.average_ranks(frame, higher_is_better=False, by="budget")
    tests = stats.rank_tests(frame, higher_is_better=False)   # None below 5 tasks
    stats.critical_difference_diagram(tests, "cd.png")

    # the per-(benchmark, task, method) summary row
    stats.summary_table(traces, {"cifar10": targets}, task="dataset", method="strategy")
"""

from metanas.stats.bootstrap import MIN_CLUSTERS, Interval, cluster_bootstrap
from metanas.stats.ranks import (
    MIN_METHODS,
    MIN_TASKS,
    RankTests,
    average_ranks,
    critical_difference_diagram,
    rank_table,
    rank_tests,
    score_table,
)
from metanas.stats.regret import (
    budget_grid,
    incumbent_on_grid,
    mean_band,
    regret_auc,
    regret_curves,
    regret_scale,
)
from metanas.stats.summary import SUMMARY_COLUMNS, TaskTargets, summary_row, summary_table
from metanas.stats.survival import (
    McNemar,
    SignTest,
    TestResult,
    found_share,
    kaplan_meier,
    km_median,
    logrank,
    mcnemar_exact,
    paired_found,
    sign_test,
    time_to_target,
)
from metanas.stats.traces import (
    CLUSTER,
    CUM_COST,
    INCUMBENT,
    QUERIES,
    QUERY_TEST,
    RUN,
    STEP,
    with_query_axis,
)

__all__ = [
    "CLUSTER",
    "CUM_COST",
    "INCUMBENT",
    "MIN_CLUSTERS",
    "MIN_METHODS",
    "MIN_TASKS",
    "QUERIES",
    "QUERY_TEST",
    "RUN",
    "STEP",
    "SUMMARY_COLUMNS",
    "Interval",
    "McNemar",
    "RankTests",
    "SignTest",
    "TaskTargets",
    "TestResult",
    "average_ranks",
    "budget_grid",
    "cluster_bootstrap",
    "critical_difference_diagram",
    "found_share",
    "incumbent_on_grid",
    "kaplan_meier",
    "km_median",
    "logrank",
    "mcnemar_exact",
    "mean_band",
    "paired_found",
    "rank_table",
    "rank_tests",
    "regret_auc",
    "regret_curves",
    "regret_scale",
    "score_table",
    "sign_test",
    "summary_row",
    "summary_table",
    "time_to_target",
    "with_query_axis",
]
