"""Report of the transfer job on :mod:`metanas.stats`: censored time to target, anytime regret,
clustered intervals, ranks and the MetaD2A protocol.

Everything is rebuilt from the job's folder (shards, optima, setup, ranked priors), so
``python -m metanas.priors.transfer_report <out_dir> [report_dir]`` re-creates it.

Definitions (per run, on the held-out dataset; the cost axis is the table's cost unit,
simulated seconds where it records training times and queries where it does not):

* *time to the optimum*: cost spent when a cell with the table's best test value (ties
  count) was first evaluated; a run that never evaluates one within the budget is
  right-censored at the budget, so medians are Kaplan-Meier medians (empty = not reached:
  more than half never got there) and comparisons use the log-rank test, the paired sign
  test with never = +inf and McNemar's test of found-by-budget;
* *within delta*: the same for any cell within ``delta`` of the optimum: 0.1 and 0.5
  points for a metric in %, otherwise 0.1% and 0.5% of the table's range (best - worst);
* *regret*: ``(optimum - incumbent) / (optimum - median cell)``, the worst cell's regret
  before the first query; *regret AUC* its mean over ``[0, budget]``;
* *final test value*: test value of the incumbent (best signal) when the budget ends.

Runs of meta methods share ``meta_seeds`` meta-trained priors: their intervals are cluster
bootstraps over meta-training seeds, never over runs as if independent. The protocol's
words (signal, metric, unit, budgets), the MetaD2A cell count and its published numbers all
come from the job's ``transfer_setup.json`` and optima file, never from this module.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from common_io.atomic_io import atomic_write_text
from metanas import stats
from metanas.runner.shard_store import read_shards

OPTIMA_FILE = "transfer_optima.csv"
SETUP_FILE = "transfer_setup.json"
RANKED_FILE = "transfer_ranked.csv"
SETUP_KEYS = ("families", "metad2a", "protocol", "space", "settings", "cost_unit", "test_metric")
FAMILIES = ("baseline", "transfer", "meta")
#: Columns ``transfer_summary.csv`` starts with (what reviewers asked for), in this order.
KEY_COLUMNS = ("benchmark", "held_out", "method", "family")
#: Budget fractions the average ranks are taken at.
RANK_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
#: Legend entries a row below the figures.
LEGEND_COLUMNS = 6
#: Points of the anytime regret curves.
GRID_POINTS = 200
TABLES_START = "<!-- priors-from-tables:start -->"
TABLES_END = "<!-- priors-from-tables:end -->"


# -- targets -------------------------------------------------------------------------
def task_targets(optima: pd.DataFrame, setup: Mapping) -> dict[str, stats.TaskTargets]:
    """Per held-out dataset, what its runs are measured against (from the optima file)."""
    out = {}
    for o in optima.itertuples(index=False):
        out[o.dataset] = stats.TaskTargets(
            optimum=float(o.optimum_test_value),
            worst=float(o.worst_test_value),
            scale=float(o.optimum_test_value - o.median_test_value),
            budget=float(o.budget),
            cost_unit=str(setup["cost_unit"]),
        )
    return out


def deltas(setup: Mapping, targets: stats.TaskTargets) -> dict[str, float]:
    """``{label: delta}`` of the near-optimum targets, in the metric's own scale.

    0.1 and 0.5 points where the metric is a percentage; otherwise the same share of the
    table's range (0.1% and 0.5% of best - worst), e.g. SSIM or a negated loss.
    """
    if setup["test_metric"]["unit"] == "%":
        return {"0.1": 0.1, "0.5": 0.5}
    width = targets.optimum - targets.worst
    return {"0.1%range": 0.001 * width, "0.5%range": 0.005 * width}


def _require_higher_is_better(setup: Mapping) -> None:
    if not setup["test_metric"]["higher_is_better"]:
        raise ValueError(
            f"the transfer report measures regret below a maximum, but the test metric "
            f"{setup['test_metric']['name']!r} is lower-is-better: store it negated in the "
            "table (as tabular_bench stores losses) or search on another metric"
        )


# -- per-(dataset, method) statistics ------------------------------------------------
def _times(rows: pd.DataFrame, targets: stats.TaskTargets, delta: float) -> pd.DataFrame:
    return stats.time_to_target(rows, targets.optimum - delta, budget=targets.budget)


def _interval(values: np.ndarray, clusters: np.ndarray | None, seed: int = 0) -> float:
    """Half-width of the 95% cluster-bootstrap interval of the mean (NaN: too few units)."""
    units = np.unique(clusters).size if clusters is not None else values.size
    if units < stats.MIN_CLUSTERS:
        return float("nan")
    # A degenerate interval (every value equal) can come out as -0.0.
    return max(0.0, float(stats.cluster_bootstrap(values, clusters, seed=seed).half_width))


def _run_clusters(rows: pd.DataFrame) -> pd.Series | None:
    """Meta-training seed per run; None for runs without a prior (independent runs)."""
    per_run = rows.groupby(stats.RUN, sort=True)[stats.CLUSTER].first()
    return None if (per_run < 0).all() else per_run


def summarise(traces: pd.DataFrame, setup: Mapping, targets: Mapping) -> pd.DataFrame:
    """``transfer_summary.csv``: one row per (held-out dataset, method).

    The :data:`KEY_COLUMNS` and :data:`metanas.stats.SUMMARY_COLUMNS` first, then the
    near-optimum targets, the query axis and the regret AUC's interval.
    """
    rows = []
    for (dataset, method), runs in traces.groupby(["dataset", "strategy"], sort=False):
        target = targets[dataset]
        row: dict[str, object] = {
            "benchmark": setup["space"],
            "held_out": dataset,
            "method": method,
            "family": setup["families"][method],
        }
        row.update(stats.summary_row(runs, target))
        for label, delta in deltas(setup, target).items():
            times = _times(runs, target, delta)
            row[f"km_median_cost_to_within_{label}"] = stats.km_median(times)
            row[f"found_within_{label}_by_budget"] = stats.found_share(times, target.budget)
        queries = stats.with_query_axis(runs)
        row["km_median_queries_to_optimum"] = stats.km_median(
            stats.time_to_target(queries, target.optimum, cost=stats.QUERIES)
        )
        row["queries_mean"] = float(runs.groupby(stats.RUN).size().mean())
        auc = _auc(runs, target)
        clusters = _run_clusters(runs)
        row["regret_auc_ci95"] = _interval(
            auc.to_numpy(), None if clusters is None else clusters.loc[auc.index].to_numpy()
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _auc(runs: pd.DataFrame, target: stats.TaskTargets) -> pd.Series:
    return stats.regret_auc(
        runs,
        optimum=target.optimum,
        scale=target.scale,
        budget=target.budget,
        before_first=(target.optimum - target.worst) / target.scale,
    )


def best_of_family(summary: pd.DataFrame, family: str) -> dict[str, str]:
    """Per held-out dataset, the best method of ``family`` at reaching the optimum.

    Ordered by the share that found it within the budget (higher first), then the
    Kaplan-Meier median cost to it (not reached last), then the regret AUC (always
    defined, rewards getting close early): the strongest reference on the question the
    report asks, how fast the optimum is found.
    """
    ours = summary[summary["family"] == family].assign(
        _found=lambda f: -f["found_by_budget"],
        _median=lambda f: f["km_median_cost_to_optimum"].fillna(np.inf),
    )
    ours = ours.sort_values(["held_out", "_found", "_median", "regret_auc"], kind="stable")
    return ours.groupby("held_out", sort=False)["method"].first().to_dict()


def comparisons(traces: pd.DataFrame, summary: pd.DataFrame, targets: Mapping) -> pd.DataFrame:
    """Every meta method against the best transfer method and the best baseline, paired by run.

    Run ``r`` of every method has the same strategy seed, so runs pair by index (only the
    runs both methods have). Time to the optimum: log-rank (unpaired, censoring-aware) and
    the exact sign test with never = +inf; found by budget: exact McNemar; final test value
    and regret AUC: mean paired difference (meta - reference) with a 95% cluster bootstrap
    over the meta method's training seeds.
    """
    references = {f: best_of_family(summary, f) for f in ("transfer", "baseline")}
    rows = []
    for dataset, ours in traces.groupby("dataset", sort=False):
        target = targets[dataset]
        by_method = dict(tuple(ours.groupby("strategy", sort=False)))
        meta = summary[(summary["held_out"] == dataset) & (summary["family"] == "meta")]
        for method in meta["method"]:
            for family, best in references.items():
                if dataset not in best:
                    continue
                rows.append(
                    _compare(by_method[method], by_method[best[dataset]], target)
                    | {"held_out": dataset, "method": method, "reference": best[dataset],
                       "reference_family": family}
                )
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    first = ["held_out", "method", "reference", "reference_family"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _compare(a: pd.DataFrame, b: pd.DataFrame, target: stats.TaskTargets) -> dict:
    """Paired statistics of method ``a`` (meta) against ``b`` (reference) on common runs."""
    common = np.intersect1d(a[stats.RUN].unique(), b[stats.RUN].unique())
    a, b = a[a[stats.RUN].isin(common)], b[b[stats.RUN].isin(common)]
    ta, tb = _times(a, target, 0.0), _times(b, target, 0.0)
    sign = stats.sign_test(ta, tb)
    mcnemar = stats.mcnemar_exact(*stats.paired_found(ta, tb, target.budget))
    clusters = _run_clusters(a)
    labels = None if clusters is None else clusters.loc[common].to_numpy()
    final = (_finals(a) - _finals(b)).loc[common].to_numpy()
    auc = (_auc(a, target) - _auc(b, target)).loc[common].to_numpy()
    return {
        "pairs": int(common.size),
        "km_median_meta": stats.km_median(ta),
        "km_median_reference": stats.km_median(tb),
        "found_meta": stats.found_share(ta, target.budget),
        "found_reference": stats.found_share(tb, target.budget),
        "logrank_p": stats.logrank(ta, tb).pvalue,
        "sign_meta_first": sign.a_first,
        "sign_reference_first": sign.b_first,
        "sign_ties": sign.ties,
        "sign_p": sign.pvalue,
        "mcnemar_meta_only": mcnemar.a_only,
        "mcnemar_reference_only": mcnemar.b_only,
        "mcnemar_p": mcnemar.pvalue,
        "final_test_diff_mean": float(final.mean()),
        "final_test_diff_ci95": _interval(final, labels),
        "regret_auc_diff_mean": float(auc.mean()),
        "regret_auc_diff_ci95": _interval(auc, labels),
    }


def _finals(runs: pd.DataFrame) -> pd.Series:
    """Final incumbent test value per run."""
    last = runs.sort_values([stats.RUN, stats.STEP]).groupby(stats.RUN).tail(1)
    return last.set_index(stats.RUN)[stats.INCUMBENT]


# -- ranks ---------------------------------------------------------------------------
def regret_at_fractions(traces: pd.DataFrame, targets: Mapping) -> pd.DataFrame:
    """Mean normalized regret of each (held-out dataset, method) at :data:`RANK_FRACTIONS`
    of the budget: the values the average ranks are taken of."""
    rows = []
    for (dataset, method), runs in traces.groupby(["dataset", "strategy"], sort=False):
        target = targets[dataset]
        grid = np.asarray(RANK_FRACTIONS) * target.budget
        curves = _regret_curves(runs, target, grid)
        for fraction, value in zip(RANK_FRACTIONS, curves.mean(axis=0), strict=True):
            rows.append({"task": dataset, "method": method, "budget_fraction": fraction,
                         "value": float(value)})
    return pd.DataFrame(rows)


def ranks(regret: pd.DataFrame) -> tuple[pd.DataFrame, stats.RankTests | None]:
    """Average rank per budget fraction over held-out tasks (1 = lowest regret), and the
    Friedman + Wilcoxon-Holm tests at the full budget (None below 5 tasks or 3 methods).

    Only methods run on every task are ranked.
    """
    tasks = regret["task"].nunique()
    complete = regret.groupby("method")["task"].nunique() == tasks
    regret = regret[regret["method"].isin(complete[complete].index)]
    table = stats.average_ranks(regret, higher_is_better=False, by="budget_fraction")
    at_budget = regret[regret["budget_fraction"] == max(RANK_FRACTIONS)]
    if at_budget["method"].nunique() < stats.MIN_METHODS:
        return table, None
    tests = stats.rank_tests(at_budget, higher_is_better=False)
    return table, tests


# -- figures -------------------------------------------------------------------------
STYLES = {"meta": "-", "transfer": ":", "baseline": "--"}


def _colours(methods: list[str]) -> dict[str, tuple]:
    """One colour per method (tab20 holds 20; methods beyond it reuse from the start)."""
    palette = plt.get_cmap("tab20").colors
    return {m: palette[i % len(palette)] for i, m in enumerate(methods)}


def _grid_axes(panels: int, legend_entries: int, *, width: float = 5.0, height: float = 3.9):
    """A wrapped grid of at most three panels a row, with room for a legend below it."""
    cols = min(3, panels)
    rows = math.ceil(panels / cols)
    legend = 0.25 * math.ceil(legend_entries / LEGEND_COLUMNS) + 0.2
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows + legend), squeeze=False
    )
    flat = axes.ravel()
    for ax in flat[panels:]:
        ax.set_visible(False)
    return fig, flat[:panels], legend / (height * rows + legend)


def _finish(fig, axes, bottom: float, path: Path, title: str = "") -> None:
    """One legend for every panel below the grid (methods are the same in each), then save."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=LEGEND_COLUMNS, fontsize=8,
               frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _regret_curves(runs: pd.DataFrame, target: stats.TaskTargets, grid: np.ndarray,
                   cost: str = stats.CUM_COST) -> pd.DataFrame:
    return stats.regret_curves(
        runs, grid, optimum=target.optimum, scale=target.scale,
        before_first=(target.optimum - target.worst) / target.scale, cost=cost,
    )


def _band(curves: pd.DataFrame, clusters: pd.Series | None) -> pd.DataFrame:
    """Mean and 95% band over runs (over clusters when given); the mean alone (NaN band)
    where there are too few independent units for an interval."""
    units = curves.shape[0] if clusters is None else clusters.nunique()
    if units >= stats.MIN_CLUSTERS:
        return stats.mean_band(curves, clusters, n_resamples=999)
    mean = curves.mean(axis=0).to_numpy()
    nan = np.full_like(mean, np.nan)
    return pd.DataFrame({"budget": curves.columns.to_numpy(np.float64), "mean": mean,
                         "low": nan, "high": nan})


def plot_regret(traces: pd.DataFrame, setup: Mapping, targets: Mapping, path: Path, *,
                queries: bool) -> None:
    """Per held-out dataset: mean normalized regret and its 95% band (cluster bootstrap over
    meta-training seeds for meta methods) against the cost unit, or against queries."""
    families: dict[str, str] = setup["families"]
    colours = _colours(list(families))
    datasets = list(targets)
    fig, axes, bottom = _grid_axes(len(datasets), len(families))
    cost = stats.QUERIES if queries else stats.CUM_COST
    for ax, dataset in zip(axes, datasets, strict=True):
        ours = traces[traces["dataset"] == dataset]
        if queries:
            ours = stats.with_query_axis(ours)
        top = float(ours[cost].max()) if queries else targets[dataset].budget
        grid = stats.budget_grid(top, GRID_POINTS, log=True, min_budget=float(ours[cost].min()))
        for method, family in families.items():
            runs = ours[ours["strategy"] == method]
            if runs.empty:
                continue
            curves = _regret_curves(runs, targets[dataset], grid, cost=cost)
            band = _band(curves, _run_clusters(runs))
            ax.plot(band["budget"], band["mean"], STYLES[family], color=colours[method],
                    label=method)
            ax.fill_between(band["budget"], band["low"], band["high"], color=colours[method],
                            alpha=0.12, linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("log")  # regret 0 (the optimum held) has no log: the curve ends there
        ax.set_xlabel("queries" if queries else _cost_words(setup))
        ax.set_ylabel("normalized regret")
        ax.set_title(f"held out: {dataset}")
        ax.grid(alpha=0.3, which="both")
    _finish(fig, axes, bottom, path,
            f"{_holdout_words(setup)} on {setup['space']} ({setup['protocol']} protocol): "
            "normalized regret, mean over runs and 95% band")


def plot_km(traces: pd.DataFrame, setup: Mapping, targets: Mapping, path: Path) -> None:
    """Kaplan-Meier share of runs that have evaluated the optimum, against the cost unit."""
    families: dict[str, str] = setup["families"]
    colours = _colours(list(families))
    datasets = list(targets)
    fig, axes, bottom = _grid_axes(len(datasets), len(families))
    for ax, dataset in zip(axes, datasets, strict=True):
        ours = traces[traces["dataset"] == dataset]
        for method, family in families.items():
            runs = ours[ours["strategy"] == method]
            if runs.empty:
                continue
            fitter = stats.kaplan_meier(_times(runs, targets[dataset], 0.0), label=method)
            found = 1.0 - fitter.survival_function_[method]
            ax.step(found.index, found.to_numpy(), STYLES[family], where="post",
                    color=colours[method], label=method)
        ax.set_xlim(0, targets[dataset].budget)
        ax.set_xlabel(_cost_words(setup))
        ax.set_ylabel("share that evaluated the optimum (KM)")
        ax.set_title(f"held out: {dataset}")
        ax.grid(alpha=0.3)
    _finish(fig, axes, bottom, path)


# -- MetaD2A protocol ----------------------------------------------------------------
def metad2a_rows(traces: pd.DataFrame, ranked: pd.DataFrame, setup: Mapping) -> pd.DataFrame:
    """Test value of one cell out of k, ranked by a prior (0 queries) or a search's first k.

    Two choices among the k: the *oracle* (best test value, as MetaD2A's code picks) and
    the cell with the best validation signal (what a search could return). Intervals: a
    bootstrap over meta-training seeds for meta methods, over runs otherwise.
    """
    spec = setup["metad2a"]
    runs, published, k = int(spec["runs"]), spec.get("published", {}), int(spec["top_k"])
    rows = []
    for (dataset, ranking), group in ranked.groupby(["dataset", "ranking"], sort=False):
        group = group.sort_values("meta_seed").iloc[:runs]
        rows.append(_metad2a_row(group["best_test_acc"].to_numpy(),
                                 group["selected_test_acc"].to_numpy(), None,
                                 dataset=dataset, method=f"prior_{ranking}", family="meta",
                                 cells=f"top-{k} by the meta-learned {ranking}, 0 queries"))
    for (dataset, method), group in traces.groupby(["dataset", "strategy"], sort=False):
        first = group[group[stats.STEP] < k]
        first = first[first[stats.RUN].isin(np.sort(first[stats.RUN].unique())[:runs])]
        per_run = first.sort_values([stats.RUN, stats.STEP]).groupby(stats.RUN)
        clusters = _run_clusters(first)
        rows.append(_metad2a_row(
            per_run[stats.QUERY_TEST].max().to_numpy(),
            per_run[stats.INCUMBENT].last().to_numpy(),
            None if clusters is None else clusters.to_numpy(),
            dataset=dataset, method=method, family=setup["families"][method],
            cells=f"first {k} queries of the search",
        ))
    out = pd.DataFrame(rows)
    out["metad2a_published"] = out["dataset"].map(lambda d: published.get(d, np.nan))
    return out


def _metad2a_row(oracle: np.ndarray, selected: np.ndarray, clusters: np.ndarray | None,
                 **fields: object) -> dict:
    return {
        **fields,
        "runs": int(oracle.size),
        "oracle_test_mean": float(oracle.mean()),
        "oracle_ci95": _interval(oracle, clusters),
        "by_validation_test_mean": float(selected.mean()),
        "by_validation_ci95": _interval(selected, clusters),
    }


# -- markdown ------------------------------------------------------------------------
def _fmt(value: float, spec: str = ".2f") -> str:
    return "–" if pd.isna(value) else format(value, spec)


def _setting(setup: Mapping) -> dict:
    """The recorded search setting of the first held-out dataset (one protocol: the
    signal and test definitions are the same for every dataset)."""
    return next(iter(setup["settings"].values()))


def _holdout_words(setup: Mapping) -> str:
    """How folds were formed; folders written before ``holdout`` existed left out tasks."""
    if setup.get("holdout", "task") == "distribution":
        return "Leave-one-distribution-out"
    return "Leave-one-dataset-out"


def _training_words(setup: Mapping, datasets: int) -> str:
    if setup.get("holdout", "task") == "distribution":
        return "the tables of the other task distribution's datasets"
    return f"the {datasets - 1} other datasets' tables"


def _cost_words(setup: Mapping) -> str:
    return "simulated seconds" if setup["cost_unit"] == "simulated_s" else "queries"


def _cost_fmt(setup: Mapping) -> str:
    return ",.0f" if setup["cost_unit"] == "simulated_s" else "g"


def _value_fmt(setup: Mapping) -> str:
    """Digits of test values: points of a percentage, four significant digits otherwise."""
    return ".2f" if setup["test_metric"]["unit"] == "%" else ".4g"


def _epochs(fidelity: int) -> str:
    """``"200-epoch "``; nothing for a table without fidelities (stored as a negative one)."""
    return f"{fidelity}-epoch " if int(fidelity) >= 0 else ""


def _test_words(setup: Mapping, quote: str = "`") -> str:
    s = _setting(setup)
    return f"{_epochs(s['test_fidelity'])}{quote}{s['test_metric']}{quote}"


def _signal_words(setup: Mapping) -> str:
    """What the strategies were told, from the recorded setting (not the protocol's wish):
    a protocol may ask for one seed drawn per query, but a table holding only seed means
    at that fidelity gives the same value every time."""
    s = _setting(setup)
    if s.get("signal_seeded"):
        seeds = "one recorded training seed drawn per query (a noisy signal)"
    else:
        seeds = ("the mean over training seeds (the table holds one value per cell at this "
                 "fidelity, so the signal is deterministic)")
    return f"{_epochs(s['signal_fidelity'])}`{s['signal_metric']}`, {seeds}"


def _unit_words(setup: Mapping) -> str:
    unit = setup["test_metric"]["unit"]
    return "points" if unit == "%" else unit


def part_b_markdown(summary: pd.DataFrame, tests: pd.DataFrame, rank_table: pd.DataFrame,
                    rank_result: stats.RankTests | None, metad2a: pd.DataFrame,
                    optima: pd.DataFrame, setup: Mapping) -> str:
    """The benchmark-table section of ``table.md``; protocol words from ``setup``, ``optima``."""
    test, cost, cf, vf = _test_words(setup), _cost_words(setup), _cost_fmt(setup), _value_fmt(
        setup)
    budgets = ", ".join(f"{o.dataset} {format(o.budget, cf)}" for o in optima.itertuples())
    near = [c[len("km_median_cost_to_within_"):] for c in summary.columns
            if c.startswith("km_median_cost_to_within_")]
    lines = ["## Architecture priors meta-learned from benchmark tables", ""]
    lines += [
        f"{_holdout_words(setup)} on `{setup['space']}` under the `{setup['protocol']}` "
        f"protocol: meta-train on {_training_words(setup, len(optima))}, search the held-out "
        f"one on its {_signal_words(setup)}; budgets in {cost}: {budgets}. Each meta method's runs "
        f"use {setup['meta_seeds']} independently meta-trained priors (run r uses prior "
        "r mod that number); its intervals resample those priors (cluster bootstrap), other "
        "methods' resample runs. Run r of every method has the same strategy seed.",
        "",
        f"*KM median*: Kaplan-Meier median {cost} until a cell with the best {test} "
        "(*opt*), or one within the stated distance of it, was evaluated; runs that never "
        "evaluate one are censored at the budget, and \"–\" means not reached (more than half "
        "censored). *found*: share of runs that evaluated one within the budget. *regret "
        "AUC*: mean normalized regret (optimum − incumbent) / (optimum − median cell) over the "
        f"budget, lower is better. *final*: {test} of the incumbent at the budget "
        f"({setup['test_metric']['unit']}), mean ± 95% CI half-width.",
        "",
        "| held out | method | family | runs | meta seeds | KM median to opt | found opt | "
        + " | ".join(f"KM median to within {n} | found within {n}" for n in near)
        + " | KM median queries to opt | regret AUC | final |",
        "|---|---|---|---:|---:|---:|---:|" + "---:|---:|" * len(near) + "---:|---:|---|",
    ]
    for r in summary.to_dict("records"):
        cells = [r["held_out"], r["method"], r["family"], str(r["runs"]), str(r["meta_seeds"]),
                 _fmt(r["km_median_cost_to_optimum"], cf), _fmt(r["found_by_budget"])]
        for n in near:
            cells += [_fmt(r[f"km_median_cost_to_within_{n}"], cf),
                      _fmt(r[f"found_within_{n}_by_budget"])]
        cells += [_fmt(r["km_median_queries_to_optimum"], "g"),
                  f"{_fmt(r['regret_auc'], '.3f')} ± {_fmt(r['regret_auc_ci95'], '.3f')}",
                  f"{_fmt(r['final_test_acc_mean'], vf)} ± {_fmt(r['final_test_acc_ci95'], vf)}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Optima ({test}): "
        + ", ".join(f"{o.dataset} {format(o.optimum_test_value, vf)} "
                    f"(index {str(o.optimum_arch_indices).replace(';', ', ')})"
                    for o in optima.itertuples())
        + ".",
        "",
    ]
    lines += _tests_markdown(tests, setup)
    lines += _ranks_markdown(rank_table, rank_result, optima)
    lines += _metad2a_markdown(metad2a, setup)
    lines += [
        "",
        f"![regret against {cost}](transfer_regret.png)",
        "",
        "![regret against queries](transfer_regret_queries.png)",
        "",
        "![Kaplan-Meier: optimum found](transfer_km.png)",
        "",
    ]
    return "\n".join(lines)


def _tests_markdown(tests: pd.DataFrame, setup: Mapping) -> list[str]:
    if tests.empty:
        return []
    cf, vf = _cost_fmt(setup), _value_fmt(setup)
    lines = [
        "### Each meta method against the best transfer method and the best baseline",
        "",
        "Best of a family on a held-out dataset = highest share that found the optimum, then "
        "lowest KM median, then lowest regret AUC. Pairs share the run "
        "index (strategy seed). Time to the optimum: KM medians, log-rank p (censoring-aware), "
        "exact sign test with never = +inf (*meta first : reference first*, ties dropped); "
        "found by budget: exact McNemar on discordant pairs (*meta only : reference only*). "
        f"*Δ final* ({_unit_words(setup)}) and *Δ regret AUC*: mean paired difference meta − "
        "reference, ± 95% cluster-bootstrap half-width over the meta method's training seeds.",
        "",
        "| held out | meta method | reference | pairs | KM median meta / ref | found meta / ref "
        "| log-rank p | sign | sign p | McNemar | McNemar p | Δ final | Δ regret AUC |",
        "|---|---|---|---:|---|---|---:|---|---:|---|---:|---|---|",
    ]
    for t in tests.itertuples(index=False):
        lines.append(
            f"| {t.held_out} | {t.method} | {t.reference} ({t.reference_family}) | {t.pairs} | "
            f"{_fmt(t.km_median_meta, cf)} / {_fmt(t.km_median_reference, cf)} | "
            f"{t.found_meta:.2f} / {t.found_reference:.2f} | {t.logrank_p:.2g} | "
            f"{t.sign_meta_first} : {t.sign_reference_first} | {t.sign_p:.2g} | "
            f"{t.mcnemar_meta_only} : {t.mcnemar_reference_only} | {t.mcnemar_p:.2g} | "
            f"{t.final_test_diff_mean:+{vf}} ± {_fmt(t.final_test_diff_ci95, vf)} | "
            f"{t.regret_auc_diff_mean:+.3f} ± {_fmt(t.regret_auc_diff_ci95, '.3f')} |"
        )
    return [*lines, ""]


def _ranks_markdown(table: pd.DataFrame, tests: stats.RankTests | None,
                    optima: pd.DataFrame) -> list[str]:
    tasks = len(optima)
    order = table.iloc[-1].sort_values().index
    lines = [
        "### Average ranks over held-out datasets",
        "",
        f"Rank of each method's mean normalized regret within each of the {tasks} held-out "
        "datasets (1 = lowest; ties averaged), averaged over them, at fractions of the budget.",
        "",
        "| budget fraction | " + " | ".join(order) + " |",
        "|---|" + "---:|" * len(order),
    ]
    for fraction, row in table.iterrows():
        lines.append(f"| {fraction:g} | " + " | ".join(f"{row[m]:.2f}" for m in order) + " |")
    lines.append("")
    if tests is None:
        lines.append(
            f"Friedman's test, the Wilcoxon-Holm pair tests and the critical-difference diagram "
            f"need >= {stats.MIN_TASKS} tasks; this benchmark has {tasks} held-out datasets, so "
            "only the average ranks are shown (they do not support a significance claim)."
        )
    else:
        lines += [
            f"Friedman's test over {tests.tasks} tasks at the full budget: "
            f"χ² = {tests.friedman_statistic:.2f}, p = {tests.friedman_pvalue:.2g}.",
            "",
            "![critical-difference diagram](transfer_cd.png)",
        ]
    return [*lines, ""]


def _metad2a_markdown(metad2a: pd.DataFrame, setup: Mapping) -> list[str]:
    """The MetaD2A-protocol table: the oracle column next to the validation-picked one."""
    test, k, vf = _test_words(setup), int(setup["metad2a"]["top_k"]), _value_fmt(setup)
    published = setup["metad2a"].get("published", {})
    anchor = (
        "MetaD2A (Lee et al., ICLR 2021) reports "
        + " and ".join(f"{v:.2f} ({d})" for d, v in published.items())
        + ", meta-trained on ImageNet-1k subsets and conditioned on the target dataset; ours "
        f"is meta-trained on the other `{setup['space']}` tables and sees nothing of the target."
        if published else "No MetaD2A number was given for these datasets."
    )
    lines = [
        "### MetaD2A protocol",
        "",
        f"{test} of one cell out of {k}, mean ± 95% bootstrap half-width (over meta-training "
        f"seeds for meta methods, over runs otherwise). *Oracle*: the best test value among "
        f"the {k}, as MetaD2A's code picks; it reads the test labels, so it is an upper bound, "
        f"not a search result. *By validation*: the cell with the best held-out validation "
        f"signal among the {k}, which a search could return. `prior_policy` / "
        f"`prior_predictor`: the {k} cells the meta-learned policy / predictor ranks highest, "
        "before any query of the held-out dataset (one run = one meta-training seed). Other "
        f"rows: the first {k} queries of a search (`zero_shot`: the {k} best by the training "
        f"tasks; `hand_prior`: sampled from the fixed hand prior). {anchor}",
        "",
        f"| held out | method | family | {k} cells | runs | oracle: best test accuracy among "
        f"{k} (as MetaD2A's code) | by validation (non-oracle) | MetaD2A |",
        "|---|---|---|---|---:|---|---|---:|",
    ]
    for m in metad2a.itertuples(index=False):
        lines.append(
            f"| {m.dataset} | {m.method} | {m.family} | {m.cells} | {m.runs} | "
            f"{format(m.oracle_test_mean, vf)} ± {_fmt(m.oracle_ci95, vf)} | "
            f"{format(m.by_validation_test_mean, vf)} ± {_fmt(m.by_validation_ci95, vf)} | "
            f"{_fmt(m.metad2a_published)} |"
        )
    return lines


def replace_section(text: str, section: str) -> str:
    """Put ``section`` between the section markers of ``text`` (appended if absent)."""
    block = f"{TABLES_START}\n{section}\n{TABLES_END}"
    if TABLES_START in text and TABLES_END in text:
        head, rest = text.split(TABLES_START, 1)
        return head + block + rest.split(TABLES_END, 1)[1]
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"


# A new table.md starts with this title; an existing one (results/metanas/table.md also
# holds the supernet section) keeps everything outside this section's markers.
TABLE_HEAD = "# metanas: meta-learned architecture priors\n"


# -- entry ---------------------------------------------------------------------------
def read_job(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Traces (in the setup's method order), optima and setup of a transfer job's folder."""
    optima = pd.read_csv(out_dir / OPTIMA_FILE, dtype={"optimum_arch_indices": str})
    setup = json.loads((out_dir / SETUP_FILE).read_text())
    missing = [k for k in SETUP_KEYS if k not in setup]
    if missing or "worst_test_value" not in optima.columns:
        raise ValueError(
            f"{out_dir / SETUP_FILE} lacks {missing or ['worst_test_value']} (an older version "
            "wrote it): run the transfer experiment again with this out_dir (it resumes, skips "
            "finished shards and rewrites the file)"
        )
    _require_higher_is_better(setup)
    traces = read_shards(out_dir)
    order = {m: i for i, m in enumerate(setup["families"])}
    order.update({d: i for i, d in enumerate(optima["dataset"])})
    traces = traces.sort_values(
        ["dataset", "strategy", stats.RUN, stats.STEP],
        key=lambda c: c.map(order) if c.name in ("dataset", "strategy") else c,
        ignore_index=True,
    )
    return traces, optima, setup


def write_transfer_report(out_dir: Path, report_dir: Path) -> None:
    """Write the summary, paired comparisons, ranks, MetaD2A rows, figures and table.md."""
    out_dir, report_dir = Path(out_dir), Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    traces, optima, setup = read_job(out_dir)
    targets = task_targets(optima, setup)
    summary = summarise(traces, setup, targets)
    tests = comparisons(traces, summary, targets)
    rank_table, rank_result = ranks(regret_at_fractions(traces, targets))
    metad2a = metad2a_rows(traces, pd.read_csv(out_dir / RANKED_FILE), setup)
    summary.to_csv(report_dir / "transfer_summary.csv", index=False, float_format="%.6g")
    tests.to_csv(report_dir / "transfer_tests.csv", index=False, float_format="%.6g")
    rank_table.to_csv(report_dir / "transfer_ranks.csv", float_format="%.4g")
    metad2a.to_csv(report_dir / "transfer_metad2a.csv", index=False, float_format="%.6g")
    plot_regret(traces, setup, targets, report_dir / "transfer_regret.png", queries=False)
    plot_regret(traces, setup, targets, report_dir / "transfer_regret_queries.png", queries=True)
    plot_km(traces, setup, targets, report_dir / "transfer_km.png")
    stats.critical_difference_diagram(rank_result, report_dir / "transfer_cd.png")
    table = report_dir / "table.md"
    text = table.read_text() if table.exists() else TABLE_HEAD
    section = part_b_markdown(summary, tests, rank_table, rank_result, metad2a, optima, setup)
    atomic_write_text(table, replace_section(text, section))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: python -m metanas.priors.transfer_report OUT_DIR [REPORT_DIR]")
    write_transfer_report(Path(sys.argv[1]), Path(sys.argv[-1]))
