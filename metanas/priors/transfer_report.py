"""Report of the transfer job: queries to the optimum, paired tests, MetaD2A protocol, plots.

Everything is rebuilt from the job's folder (shards, optima, setup, ranked priors), so
``python -m metanas.priors.transfer_report <out_dir> [report_dir]`` re-creates it.

Definitions (per run, on the held-out dataset):

* *queries to the optimum*: queries until a cell with the best 200-epoch test accuracy
  (all tied cells count) has been evaluated; a run that never evaluates one counts its
  full budget's query count, and the share of such runs is reported;
* *queries to within 0.5*: the same for any cell within 0.5 points of that optimum;
* *final test accuracy*: test accuracy of the incumbent (best signal) when the budget ends.

The protocol's words (signal, test metric, budgets), the MetaD2A cell count and its
published numbers all come from the job's ``transfer_setup.json`` and optima file, never
from this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from metanas.meta.stats import NORMAL_FROM, mean_ci95
from metanas.runner.shard_store import read_shards
from tabular_bench.atomic_io import atomic_write_text

OPTIMA_FILE = "transfer_optima.csv"
SETUP_FILE = "transfer_setup.json"
RANKED_FILE = "transfer_ranked.csv"
SETUP_KEYS = ("families", "metad2a", "protocol", "space", "settings")
WITHIN = 0.5
FIFTH = 5.0
REGRET_FLOOR = 3e-3
PART_B_START = "<!-- part-b:start -->"
PART_B_END = "<!-- part-b:end -->"


# -- per-run metrics ----------------------------------------------------------------
def _first_hit(hits: np.ndarray) -> int:
    """1-based query of the first hit, or 0 when none."""
    where = np.flatnonzero(hits)
    return int(where[0]) + 1 if where.size else 0


def run_metrics(traces: pd.DataFrame, optima: pd.DataFrame, *, first: int) -> pd.DataFrame:
    """One row per (dataset, strategy, run); ``first``: the queries whose best test
    accuracy the MetaD2A rows compare (MetaD2A's top-k)."""
    rows = []
    for dataset, by_dataset in traces.groupby("dataset", sort=False):
        opt = optima.set_index("dataset").loc[dataset]
        best = float(opt["optimum_test_acc"])
        optimal = np.array([int(i) for i in str(opt["optimum_arch_indices"]).split(";")])
        for (strategy, run), trace in by_dataset.groupby(["strategy", "run"], sort=False):
            trace = trace.sort_values("step")
            n = len(trace)
            hit_opt = _first_hit(np.isin(trace["arch_index"].to_numpy(), optimal))
            hit_05 = _first_hit(trace["test_acc"].to_numpy() >= best - WITHIN - 1e-9)
            rows.append(
                {
                    "dataset": dataset,
                    "method": strategy,
                    "run": int(run),
                    "queries": n,
                    "queries_to_optimum": hit_opt or n,
                    "optimum_found": hit_opt > 0,
                    "queries_to_within_0.5": hit_05 or n,
                    "within_0.5_found": hit_05 > 0,
                    "final_test_acc": float(trace["best_test_acc"].iloc[-1]),
                    "first_k_best_test_acc": float(trace["test_acc"].iloc[:first].max()),
                    "first_k_incumbent_test_acc": float(
                        trace["best_test_acc"].iloc[: min(first, n)].iloc[-1]
                    ),
                }
            )
    return pd.DataFrame(rows)


def summarise(metrics: pd.DataFrame, families: dict[str, str]) -> pd.DataFrame:
    """``transfer_summary.csv``: one row per (held-out dataset, method)."""
    grouped = metrics.groupby(["dataset", "method"], sort=False)
    out = grouped.agg(
        runs=("run", "size"),
        queries_mean=("queries", "mean"),
        queries_to_optimum_median=("queries_to_optimum", "median"),
        queries_to_optimum_mean=("queries_to_optimum", "mean"),
        optimum_never_share=("optimum_found", lambda s: 1.0 - s.mean()),
        **{"queries_to_within_0.5_median": ("queries_to_within_0.5", "median")},
        within_never_share=("within_0.5_found", lambda s: 1.0 - s.mean()),
        final_test_acc_mean=("final_test_acc", "mean"),
        final_test_acc_std=("final_test_acc", "std"),
    ).reset_index()
    out = out.rename(columns={"within_never_share": "within_0.5_never_share"})
    out.insert(2, "family", out["method"].map(families))
    return out


def best_baselines(summary: pd.DataFrame) -> dict[str, str]:
    """Per dataset, the baseline with the fewest queries to the optimum (median, then mean)."""
    base = summary[summary["family"] == "baseline"]
    ordered = base.sort_values(["dataset", "queries_to_optimum_median", "queries_to_optimum_mean"])
    return ordered.groupby("dataset", sort=False)["method"].first().to_dict()


def _wilcoxon(x: np.ndarray, alternative: str = "two-sided") -> float:
    """p-value of Wilcoxon's signed-rank test of ``x`` against 0 (1.0 if all are zero)."""
    if not np.any(x != 0):
        return 1.0
    return float(stats.wilcoxon(x, alternative=alternative).pvalue)


def paired_tests(metrics: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Every meta method against the best baseline, paired by run (= seed)."""
    best = best_baselines(summary)
    families = dict(zip(summary["method"], summary["family"], strict=False))
    rows = []
    for dataset in summary["dataset"].unique():
        baseline = best[dataset]
        ours = metrics[metrics["dataset"] == dataset]
        base = ours[ours["method"] == baseline].set_index("run")
        for method in [m for m in ours["method"].unique() if families.get(m) == "meta"]:
            meta = ours[ours["method"] == method].set_index("run")
            runs = meta.index.intersection(base.index)
            q_meta = meta.loc[runs, "queries_to_optimum"].to_numpy(float)
            q_base = base.loc[runs, "queries_to_optimum"].to_numpy(float)
            acc_diff = meta.loc[runs, "final_test_acc"] - base.loc[runs, "final_test_acc"]
            ratio = np.median(q_meta) / np.median(q_base)
            p_fifth = _wilcoxon(FIFTH * q_meta - q_base, alternative="less")
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "best_baseline": baseline,
                    "pairs": len(runs),
                    "queries_to_optimum_median_meta": float(np.median(q_meta)),
                    "queries_to_optimum_median_baseline": float(np.median(q_base)),
                    "median_ratio": float(ratio),
                    "wilcoxon_p_queries": _wilcoxon(q_meta - q_base),
                    "wilcoxon_p_fifth_one_sided": p_fifth,
                    "fifth_claim_met": bool(ratio <= 1.0 / FIFTH and p_fifth < 0.05),
                    "final_test_acc_diff_mean": float(acc_diff.mean()),
                    "wilcoxon_p_final_test_acc": _wilcoxon(acc_diff.to_numpy()),
                }
            )
    return pd.DataFrame(rows)


def _metad2a_row(oracle: np.ndarray, selected: np.ndarray, **fields: object) -> dict:
    mean, half = mean_ci95(oracle)
    selected_mean, selected_half = mean_ci95(selected)
    return {
        **fields,
        "runs": oracle.size,
        "best_test_acc_mean": mean,
        "ci95": half,
        "selected_test_acc_mean": selected_mean,
        "selected_ci95": selected_half,
    }


def metad2a_rows(
    metrics: pd.DataFrame, ranked: pd.DataFrame, setup: dict, families: dict[str, str]
) -> pd.DataFrame:
    """Test accuracy from k cells, ranked by a prior (0 queries) or a search's first k.

    Two choices among the k: ``best_test_acc`` (the best *test* accuracy, an oracle, as
    MetaD2A's code does) and ``selected_test_acc`` (the cell with the best validation
    signal, what a search could return).
    """
    spec = setup["metad2a"]
    runs, published, k = int(spec["runs"]), spec.get("published", {}), int(spec["top_k"])
    rows = []
    for (dataset, ranking), group in ranked.groupby(["dataset", "ranking"], sort=False):
        rows.append(_metad2a_row(
            group["best_test_acc"].to_numpy()[:runs],
            group["selected_test_acc"].to_numpy()[:runs],
            dataset=dataset,
            method=f"prior_{ranking}",
            family="meta",
            cells=f"top-{k} by the meta-learned {ranking}, 0 queries",
        ))
    for (dataset, method), group in metrics.groupby(["dataset", "method"], sort=False):
        group = group.sort_values("run")
        rows.append(_metad2a_row(
            group["first_k_best_test_acc"].to_numpy()[:runs],
            group["first_k_incumbent_test_acc"].to_numpy()[:runs],
            dataset=dataset,
            method=method,
            family=families[method],
            cells=f"first {k} queries of the search",
        ))
    out = pd.DataFrame(rows)
    out["metad2a_published"] = out["dataset"].map(lambda d: published.get(d, np.nan))
    return out


# -- figures -------------------------------------------------------------------------
STYLES = {"meta": "-", "transfer": ":", "baseline": "--"}


def _colours(families: dict[str, str]) -> dict[str, tuple]:
    """One colour per method (tab20 holds 20; methods beyond it reuse from the start)."""
    palette = plt.get_cmap("tab20").colors
    return {m: palette[i % len(palette)] for i, m in enumerate(families)}


def _curves(traces: pd.DataFrame, column: str, length: int) -> np.ndarray:
    """``(runs, length)`` of ``column`` by query, each run held at its last value."""
    out = []
    for _, trace in traces.groupby("run", sort=True):
        values = trace.sort_values("step")[column].to_numpy(float)
        out.append(np.concatenate([values, np.full(length - values.size, values[-1])]))
    return np.asarray(out)


def plot_curves(
    traces: pd.DataFrame,
    optima: pd.DataFrame,
    setup: dict,
    path: Path,
    *,
    regret: bool,
) -> None:
    """Per held-out dataset: mean best-so-far test accuracy (or regret) against queries."""
    families: dict[str, str] = setup["families"]
    datasets = list(optima["dataset"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.2), squeeze=False)
    colours = _colours(families)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        best = float(optima.set_index("dataset").loc[dataset, "optimum_test_acc"])
        ours = traces[traces["dataset"] == dataset]
        length = int(ours["step"].max()) + 1
        x = np.arange(1, length + 1)
        for method, family in families.items():
            runs = ours[ours["strategy"] == method]
            if runs.empty:
                continue
            curves = _curves(runs, "best_test_acc", length)
            y = best - curves if regret else curves
            mean = y.mean(axis=0)
            sem = y.std(axis=0, ddof=1) / np.sqrt(len(y)) if len(y) > 1 else 0 * mean
            style = STYLES[family]
            ax.plot(x, mean, style, color=colours[method], label=f"{method} ({len(y)})")
            ax.fill_between(
                x,
                mean - 1.96 * sem,
                mean + 1.96 * sem,
                color=colours[method],
                alpha=0.15,
                linewidth=0,
            )
        if regret:
            ax.set_yscale("log")
            ax.set_ylim(bottom=REGRET_FLOOR)  # regret 0 (optimum selected) has no log
            ax.set_ylabel("regret: optimum - incumbent test acc (points)")
        else:
            ax.axhline(best, color="black", linewidth=0.8, linestyle=":", label="optimum")
            ax.set_ylim(best - 4.0, best + 0.3)
            ax.set_ylabel(f"incumbent {_test_words(setup, quote='')} (%)")
        ax.set_xscale("log")
        ax.set_xlabel("queries")
        ax.set_title(f"held out: {dataset}")
        ax.grid(alpha=0.3, which="both")
    axes[0][-1].legend(fontsize=8, loc="lower right" if not regret else "lower left")
    fig.suptitle(
        f"Leave-one-dataset-out on {setup['space']} ({setup['protocol']} protocol; mean, 95% CI)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_found(
    metrics: pd.DataFrame, optima: pd.DataFrame, families: dict[str, str], path: Path
) -> None:
    """Share of runs that have evaluated the optimum, against queries."""
    datasets = list(optima["dataset"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.0), squeeze=False)
    colours = _colours(families)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        ours = metrics[metrics["dataset"] == dataset]
        x = np.arange(1, int(ours["queries"].max()) + 1)
        for method, family in families.items():
            runs = ours[ours["method"] == method]
            if runs.empty:
                continue
            hit = runs["queries_to_optimum"].to_numpy()[runs["optimum_found"].to_numpy()]
            share = (hit[None, :] <= x[:, None]).sum(axis=1) / len(runs)
            style = STYLES[family]
            ax.step(x, share, style, where="post", color=colours[method], label=method)
        ax.set_xlabel("queries")
        ax.set_ylabel("share of runs that evaluated the optimum")
        ax.set_title(f"held out: {dataset}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- markdown ------------------------------------------------------------------------
def _fmt(value: float, digits: int = 2) -> str:
    return "–" if pd.isna(value) else f"{value:.{digits}f}"


def _setting(setup: dict) -> dict:
    """The recorded search setting of the first held-out dataset (one protocol: the
    signal and test definitions are the same for every dataset)."""
    return next(iter(setup["settings"].values()))


def _test_words(setup: dict, quote: str = "`") -> str:
    s = _setting(setup)
    return f"{s['test_fidelity']}-epoch {quote}{s['test_metric']}{quote}"


def _signal_words(setup: dict) -> str:
    s = _setting(setup)
    seeds = "one recorded training seed drawn per query" if s["sample_seed"] else (
        "the mean over training seeds")
    return f"{s['signal_fidelity']}-epoch `{s['signal_metric']}`, {seeds}"


def part_b_markdown(
    summary: pd.DataFrame,
    tests: pd.DataFrame,
    metad2a: pd.DataFrame,
    optima: pd.DataFrame,
    setup: dict,
) -> str:
    """The Part B section of ``table.md``; protocol words come from ``setup`` and ``optima``.

    Medians are printed with ``:g``: a median of an even count of runs can end in .5.
    """
    test = _test_words(setup)
    budgets = ", ".join(f"{o.dataset} {o.budget_s:,.0f}" for o in optima.itertuples())
    lines = ["## Part B: architecture priors meta-learned from benchmark tables", ""]
    lines += [
        (
            f"Leave-one-dataset-out on `{setup['space']}` under the `{setup['protocol']}` "
            f"protocol: meta-train on the {len(optima) - 1} other datasets' tables, search the "
            f"held-out one on its {_signal_words(setup)}; budgets in simulated s: {budgets}. "
            f"*q_opt*: queries until a cell with the best {test} was evaluated (never: the "
            "run's full query count; *never* = share of such runs). *q_0.5*: the same for any "
            "cell within 0.5 points."
        ),
        "",
        (
            "| held out | method | family | runs | queries | q_opt median | never | "
            "q_0.5 median | final test acc |"
        ),
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in summary.to_dict("records"):
        lines.append(
            f"| {r['dataset']} | {r['method']} | {r['family']} | {r['runs']} | "
            f"{r['queries_mean']:.0f} | {r['queries_to_optimum_median']:g} | "
            f"{r['optimum_never_share']:.2f} | {r['queries_to_within_0.5_median']:g} | "
            f"{r['final_test_acc_mean']:.2f} ± {r['final_test_acc_std']:.2f} |"
        )
    lines += [
        "",
        f"Optima ({test}): "
        + ", ".join(
            f"{o.dataset} {o.optimum_test_acc:.2f} "
            f"(index {o.optimum_arch_indices.replace(';', ', ')})"
            for o in optima.itertuples()
        )
        + ".",
        "",
    ]
    lines += [
        "### Paired tests against the best baseline",
        "",
        (
            "Best baseline = fewest queries to the optimum (median, then mean). Pairs share the "
            "run index and hence the strategy seed. *p(q)*: two-sided Wilcoxon signed-rank test "
            "of the queries to the optimum; *p(1/5)*: one-sided test that 5 × q_meta < q_baseline; "
            'the "a fifth of the queries" claim counts as met when the median ratio is <= 0.2 '
            "and p(1/5) < 0.05. *Δacc*: mean paired difference of final test accuracy."
        ),
        "",
        (
            "| held out | meta method | best baseline | pairs | q_opt median meta / base | ratio | "
            "p(q) | p(1/5) | 1/5 met | Δacc | p(Δacc) |"
        ),
        "|---|---|---|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for t in tests.itertuples(index=False):
        lines.append(
            f"| {t.dataset} | {t.method} | {t.best_baseline} | {t.pairs} | "
            f"{t.queries_to_optimum_median_meta:g} / {t.queries_to_optimum_median_baseline:g}"
            f" | {t.median_ratio:.2f} | {t.wilcoxon_p_queries:.1e} | "
            f"{t.wilcoxon_p_fifth_one_sided:.1e} | {'yes' if t.fifth_claim_met else 'no'} | "
            f"{t.final_test_acc_diff_mean:+.2f} | {t.wilcoxon_p_final_test_acc:.1e} |"
        )
    lines += _metad2a_markdown(metad2a, setup)
    lines += [
        "",
        "![headline](transfer_headline.png)",
        "",
        "![regret](transfer_regret.png)",
        "",
        "![optimum found](transfer_found.png)",
        "",
    ]
    return "\n".join(lines)


def _metad2a_markdown(metad2a: pd.DataFrame, setup: dict) -> list[str]:
    """The MetaD2A-protocol table: the oracle column next to the validation-picked one."""
    test, k = _test_words(setup), int(setup["metad2a"]["top_k"])
    published = setup["metad2a"].get("published", {})
    anchor = (
        "MetaD2A (Lee et al., ICLR 2021) reports "
        + " and ".join(f"{v:.2f} ({d})" for d, v in published.items())
        + ", meta-trained on ImageNet-1k subsets and conditioned on the target dataset; ours "
        f"is meta-trained on the other `{setup['space']}` tables and sees nothing of the target."
        if published else "No MetaD2A number was given for these datasets."
    )
    interval = "t" if int(setup["metad2a"]["runs"]) < NORMAL_FROM else "normal"
    lines = [
        "",
        "### MetaD2A protocol",
        "",
        (
            f"{test} of one cell out of {k}, mean ± 95% CI ({interval}) over runs. *Oracle*: "
            f"the best test accuracy among the {k} (as MetaD2A's code picks; it needs the "
            f"test labels, so it is an upper bound, not a search result). *By validation*: "
            f"the cell with the best held-out validation signal among the {k}, which a search "
            f"could return. `prior_policy` / `prior_predictor`: the {k} cells the "
            "meta-learned policy / predictor ranks highest, before any query of the held-out "
            f"dataset (one run = one meta-training seed). Other rows: the first {k} queries of "
            f"a search (`zero_shot`: the {k} best by the training tasks; `hand_prior`: "
            f"sampled from the fixed hand prior). {anchor}"
        ),
        "",
        (
            f"| held out | method | family | {k} cells | runs | oracle: best test accuracy "
            f"among {k} (as MetaD2A's code) | by validation | MetaD2A |"
        ),
        "|---|---|---|---|---:|---|---|---:|",
    ]
    for m in metad2a.itertuples(index=False):
        lines.append(
            f"| {m.dataset} | {m.method} | {m.family} | {m.cells} | {m.runs} | "
            f"{m.best_test_acc_mean:.2f} ± {_fmt(m.ci95)} | "
            f"{m.selected_test_acc_mean:.2f} ± {_fmt(m.selected_ci95)} | "
            f"{_fmt(m.metad2a_published)} |"
        )
    return lines


def replace_section(text: str, section: str) -> str:
    """Put ``section`` between the Part B markers of ``text`` (appended if absent)."""
    block = f"{PART_B_START}\n{section}\n{PART_B_END}"
    if PART_B_START in text and PART_B_END in text:
        head, rest = text.split(PART_B_START, 1)
        return head + block + rest.split(PART_B_END, 1)[1]
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"


TABLE_HEAD = (
    "# metanas: meta-learned architecture priors (issue 4)\n\n"
    "## Part A: gradient-based meta-NAS (T-NAS / MetaNAS) on Omniglot\n"
)


# -- entry ---------------------------------------------------------------------------
def write_transfer_report(out_dir: Path, report_dir: Path) -> None:
    """Write summary, tests, MetaD2A rows, figures and the Part B table section."""
    out_dir, report_dir = Path(out_dir), Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    traces = read_shards(out_dir)
    optima = pd.read_csv(out_dir / OPTIMA_FILE, dtype={"optimum_arch_indices": str})
    setup = json.loads((out_dir / SETUP_FILE).read_text())
    missing = [k for k in SETUP_KEYS if k not in setup]
    if missing:
        raise ValueError(
            f"{out_dir / SETUP_FILE} lacks {missing} (an older version wrote it): run the "
            "transfer experiment again with this out_dir (it resumes and rewrites the file)"
        )
    families: dict[str, str] = setup["families"]
    metrics = run_metrics(traces, optima, first=int(setup["metad2a"]["top_k"]))
    order = {d: i for i, d in enumerate(optima["dataset"])}
    order.update({m: i for i, m in enumerate(families)})
    metrics = metrics.sort_values(
        ["dataset", "method", "run"],
        key=lambda c: c.map(order) if c.name != "run" else c,
        ignore_index=True,
    )
    summary = summarise(metrics, families)
    tests = paired_tests(metrics, summary)
    metad2a = metad2a_rows(metrics, pd.read_csv(out_dir / RANKED_FILE), setup, families)
    summary.to_csv(report_dir / "transfer_summary.csv", index=False, float_format="%.4f")
    tests.to_csv(report_dir / "transfer_tests.csv", index=False, float_format="%.6g")
    metad2a.to_csv(report_dir / "transfer_metad2a.csv", index=False, float_format="%.4f")
    plot_curves(traces, optima, setup, report_dir / "transfer_headline.png", regret=False)
    plot_curves(traces, optima, setup, report_dir / "transfer_regret.png", regret=True)
    plot_found(metrics, optima, families, report_dir / "transfer_found.png")
    table = report_dir / "table.md"
    text = table.read_text() if table.exists() else TABLE_HEAD
    section = part_b_markdown(summary, tests, metad2a, optima, setup)
    atomic_write_text(table, replace_section(text, section))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: python -m metanas.priors.transfer_report OUT_DIR [REPORT_DIR]")
    write_transfer_report(Path(sys.argv[1]), Path(sys.argv[-1]))
