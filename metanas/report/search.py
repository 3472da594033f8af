"""Report section of search jobs: summary, table beside published numbers, plots.

Inputs (written by :class:`metanas.runner.search_job.SearchJob`, in the run's out_dir or
in each job folder of a multirun folder): the trace shards, ``settings.json``, and optionally
``published.json``, ``optimum.csv`` and ``notes.md``. Outputs: ``summary.csv`` and
``finals.csv`` (one row per run), ``search_curves.png`` (best-so-far reported metric
against simulated time, 95% confidence bands) and ``search_finals.png`` (final values).

Words, units and digits come from each setting's recorded ``test_metric``
(:func:`tabular_bench.benchmark.metric_spec`: accuracy in %, SSIM, negative L2 loss, ...),
and axis limits from the plotted data, so the report reads right for any table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metanas.report.section import ReportSection
from metanas.runner.shard_store import (
    NOTES_FILE,
    OPTIMUM_FILE,
    PUBLISHED_FILE,
    SETTINGS_FILE,
    run_folders,
    shard_paths,
)
from metanas.runner.summary import RUN_KEYS, rebuild_summary
from tabular_bench.benchmark import MetricSpec, metric_spec

CURVES_FILE = "search_curves.png"
FINALS_PLOT = "search_finals.png"
GRID_POINTS = 120


@dataclass(frozen=True)
class Column:
    """One reported accuracy: the cell chosen on ``dataset`` evaluated on ``label``."""

    protocol: str
    dataset: str
    label: str
    value: str  # column stem in the summary / finals, e.g. test_acc_cifar100


def _applies(results_dir: Path) -> bool:
    """Trace shards and the search job's settings (a transfer job's shards have none)."""
    return bool(shard_paths(results_dir)) and bool(_files(results_dir, SETTINGS_FILE))


def _files(results_dir: Path, name: str) -> list[Path]:
    """``name`` in each run folder of ``results_dir`` (never in other runs nested deeper)."""
    return [f / name for f in run_folders(results_dir) if (f / name).is_file()]


def _json_files(results_dir: Path, name: str) -> list[Any]:
    return [json.loads(p.read_text()) for p in _files(results_dir, name)]


def load_settings(results_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Search settings by (protocol, dataset) from every settings.json below the folder."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for settings in _json_files(results_dir, SETTINGS_FILE):
        for s in settings:
            out.setdefault((s["protocol"], s["dataset"]), s)
    return out


def columns_of(summary: pd.DataFrame, settings: dict[tuple[str, str], dict]) -> list[Column]:
    """Reported accuracies in settings order: each setting's own dataset, then transfer tasks."""
    present = set(summary[["protocol", "dataset"]].itertuples(index=False, name=None))
    cols = []
    for protocol, dataset in (k for k in settings if k in present):
        cols.append(Column(protocol, dataset, dataset, "test_acc"))
        for task in settings[(protocol, dataset)].get("transfer_tasks", []):
            cols.append(Column(protocol, dataset, task, f"test_acc_{task}"))
    return cols


def metric_of(settings: dict[tuple[str, str], dict], protocol: str, dataset: str | None = None
              ) -> MetricSpec:
    """Spec of the reported metric of a setting (or of a protocol's first setting); runs
    recorded before settings carried ``test_metric`` report ``test_acc``."""
    for (p, d), spec in settings.items():
        if p == protocol and dataset in (None, d):
            return metric_spec(spec.get("test_metric", "test_acc"))
    return metric_spec("test_acc")


def budget_words(setting: dict[str, Any] | None) -> str:
    """A setting's budget with its unit: settings written before costs carried units are
    seconds."""
    budget = (setting or {}).get("budget_s", float("nan"))
    if (setting or {}).get("cost_unit", "simulated_s") == "queries":
        return f"{budget:,.0f} queries"
    return f"{budget:,.0f} s"


def cost_axis(setting: dict[str, Any] | None) -> str:
    """Label of a curve's cost axis, in the unit its budget counts."""
    if (setting or {}).get("cost_unit", "simulated_s") == "queries":
        return "queries (each evaluation costs 1)"
    return "simulated search time (s)"


def words(spec: MetricSpec) -> str:
    """``"test accuracy (%)"``, ``"validation SSIM"``: the label, with the unit unless the
    label already says it."""
    return spec.label if spec.unit in spec.label else f"{spec.label} ({spec.unit})"


def _fmt(mean: float, std: float, unit: str = "%") -> str:
    """Points of a percentage to 2 decimals; other units to 4 significant digits."""
    if unit == "%":
        return f"{mean:.2f} ± {std:.2f}"
    return f"{mean:.4g} ± {std:.2g}"


PUBLISHED_RUNS = 500
"""Runs behind each published mean (NB201's Table 5: 500 runs per strategy)."""


def published_delta(mean: float, std: float, runs: int, p_mean: float, p_std: float) -> str:
    """`` (Δ ours − published, within 2 SE)`` or ``(Δ, k SE)``; SE is the standard error of
    the difference of two means, sqrt(std²/runs + p_std²/PUBLISHED_RUNS)."""
    delta = mean - p_mean
    se = float(np.sqrt(std**2 / runs + p_std**2 / PUBLISHED_RUNS))
    agreement = "within 2 SE" if abs(delta) <= 2 * se else f"{delta / se:+.1f} SE"
    return f" (Δ {delta:+.2f}, {agreement})"


def own_labels(published: dict[str, Any]) -> dict[str, str]:
    """Strategy -> what it is when its published row is another method's (``ours_label``)."""
    return {
        strategy: ref["ours_label"]
        for protocol in published.values()
        for strategy, ref in protocol.items()
        if isinstance(ref, dict) and "ours_label" in ref
    }


def markdown_table(
    summary: pd.DataFrame,
    columns: list[Column],
    settings: dict[tuple[str, str], dict],
    published: dict[str, Any],
    optimum: pd.DataFrame | None,
) -> str:
    """Per protocol: mean ± std at the budget per strategy, published beside, optimum."""
    lines = []
    labels = own_labels(published)
    for protocol in dict.fromkeys(c.protocol for c in columns):
        cols = [c for c in columns if c.protocol == protocol]
        pub = published.get(protocol, {})
        budgets = ", ".join(
            f"{c.dataset} {budget_words(settings.get((protocol, c.dataset)))}"
            for c in cols
            if c.value == "test_acc"
        )
        spec = metric_of(settings, protocol)
        lines += [
            f"### Protocol `{protocol}` (budget: {budgets})",
            "",
            (
                f"{words(spec)[0].upper()}{words(spec)[1:]} (`{spec.name}`) of the chosen "
                "cell at the budget, mean ± std over runs (search dataset → reported dataset)"
                + ("; higher is better." if spec.higher_is_better else "; lower is better.")
            ),
            "",
        ]
        head = ["strategy", "runs", "queries"]
        for c in cols:
            name = c.label if c.label == c.dataset else f"{c.dataset} → {c.label}"
            head += [f"{name} ours"] + ([f"{name} published"] if pub else [])
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        part = summary[summary["protocol"] == protocol]
        for strategy in dict.fromkeys(part["strategy"]):
            rows = part[part["strategy"] == strategy].set_index("dataset")
            own = [c for c in cols if c.value == "test_acc"]
            runs = "/".join(
                str(int(rows.at[c.dataset, "runs"])) for c in own if c.dataset in rows.index
            )
            queries = "/".join(
                f"{rows.at[c.dataset, 'queries_mean']:.0f}" for c in own if c.dataset in rows.index
            )
            name = f"`{strategy}` {labels[strategy]}" if strategy in labels else f"`{strategy}`"
            cells = [name, runs, queries]
            for c in cols:
                if c.dataset in rows.index and f"{c.value}_mean" in rows.columns:
                    mean, std = (
                        rows.at[c.dataset, f"{c.value}_mean"],
                        rows.at[c.dataset, f"{c.value}_std"],
                    )
                    cells.append(_fmt(mean, std, spec.unit))
                else:
                    mean = np.nan
                    cells.append("")
                if pub:
                    ref = pub.get(strategy, {})
                    if c.label in ref:
                        p_mean, p_std = ref[c.label]
                        if "ours_label" in ref:  # another method's row, beside ours
                            delta = " (another method: no Δ)"
                        elif np.isfinite(mean):
                            delta = published_delta(
                                mean, std, int(rows.at[c.dataset, "runs"]), p_mean, p_std
                            )
                        else:
                            delta = ""
                        label = (
                            f" {ref['label']}" if ref.get("label", "").lower() != strategy else ""
                        )
                        cells.append(f"{_fmt(p_mean, p_std, spec.unit)}{label}{delta}")
                    else:
                        cells.append("")
            lines.append("| " + " | ".join(cells) + " |")
        if optimum is not None:
            best = optimum.set_index("dataset")["best"]
            cells = ["optimum (best in the table)", "", ""]
            digits = ".2f" if spec.unit == "%" else ".4g"
            for c in cols:
                cells.append(f"{best[c.label]:{digits}}" if c.label in best.index else "")
                if pub:
                    ref = pub.get("optimum", {})
                    cells.append(f"{ref[c.label][0]:.2f}" if c.label in ref else "")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        if pub:
            lines += [
                "Δ: ours minus published; SE: the standard error of that difference, "
                f"sqrt(std_ours²/runs + std_published²/{PUBLISHED_RUNS}); \"within 2 SE\" "
                "where |Δ| ≤ 2 SE.",
                "",
            ]
    return "\n".join(lines)


def curves_on_grid(traces: pd.DataFrame, budgets: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Best-so-far test accuracy of every run on a time grid (NaN before its first query).

    One ``searchsorted`` over all runs: each run's cumulative cost is shifted by its run
    number times a stride larger than any budget, so runs never interleave.
    """
    t = traces.sort_values([*RUN_KEYS, "step"], kind="stable")
    run_id = t.groupby(RUN_KEYS, sort=False).ngroup().to_numpy()
    runs = t.drop_duplicates(RUN_KEYS)[["protocol", "dataset", "strategy", "run"]]
    budget = np.array(
        [budgets[(p, d)] for p, d in runs[["protocol", "dataset"]].itertuples(index=False)]
    )
    stride = float(max(budget.max(), t["cum_cost"].max())) * 2 + 1
    shifted = t["cum_cost"].to_numpy() + run_id * stride
    frac = np.linspace(0, 1, GRID_POINTS)
    grid = budget[:, None] * frac[None, :]
    query = (np.arange(len(runs))[:, None] * stride + grid).ravel()
    pos = np.searchsorted(shifted, query, side="right") - 1
    owner = np.repeat(np.arange(len(runs)), GRID_POINTS)
    valid = (pos >= 0) & (run_id[np.clip(pos, 0, None)] == owner)
    acc = np.where(valid, t["best_test_acc"].to_numpy()[np.clip(pos, 0, None)], np.nan)
    out = runs.loc[runs.index.repeat(GRID_POINTS)].reset_index(drop=True)
    out["time_s"] = grid.ravel()
    out["best_test_acc"] = acc
    return out


def _panel_grid(plt: Any, n: int, per_row: int = 3) -> tuple[Any, list[Any]]:
    """A figure with ``n`` panels, ``per_row`` to a row; unused axes removed."""
    rows, cols = -(-n // per_row), min(n, per_row)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 4.0 * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def data_limits(values: np.ndarray, best: float | None = None, pad: float = 0.05
                ) -> tuple[float, float]:
    """Y-limits from the data: the 2% quantile of ``values`` up to their maximum (or the
    optimum ``best`` when higher), padded by ``pad`` of the span on both sides."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (0.0, 1.0) if best is None else (best - 1.0, best + 1.0)
    low = float(np.quantile(values, 0.02))
    high = float(max(values.max(), best if best is not None and np.isfinite(best) else -np.inf))
    span = high - low or max(abs(high), 1.0) * 1e-3
    return low - pad * span, high + pad * span


def plot_curves(
    grid: pd.DataFrame,
    panels: list[tuple[str, str]],
    optimum: pd.DataFrame | None,
    path: Path,
    settings: dict[tuple[str, str], dict] | None = None,
) -> None:
    """One panel per (protocol, dataset): mean best-so-far reported metric, 95% CI bands;
    panels wrap three to a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = _panel_grid(plt, len(panels))
    best = optimum.set_index("dataset")["best"] if optimum is not None else pd.Series(dtype=float)
    for ax, (protocol, dataset) in zip(axes, panels):
        part = grid[(grid["protocol"] == protocol) & (grid["dataset"] == dataset)].dropna()
        sns.lineplot(
            data=part,
            x="time_s",
            y="best_test_acc",
            hue="strategy",
            errorbar=("se", 1.96),
            ax=ax,
            linewidth=1.2,
        )
        if dataset in best.index:
            ax.axhline(best[dataset], color="grey", ls="--", lw=0.8, label="optimum")
        means = part.groupby(["strategy", "time_s"])["best_test_acc"].mean()
        ax.set_ylim(*data_limits(means.to_numpy(), best.get(dataset)))
        spec = metric_of(settings or {}, protocol, dataset)
        ax.set(
            title=f"{protocol}: {dataset}",
            xlabel=cost_axis((settings or {}).get((protocol, dataset))),
            ylabel=f"best-so-far {words(spec)}",
        )
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_finals(
    finals: pd.DataFrame,
    columns: list[Column],
    path: Path,
    settings: dict[tuple[str, str], dict] | None = None,
) -> None:
    """Distribution of final values per strategy, one panel per reported column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = _panel_grid(plt, len(columns))
    for ax, c in zip(axes, columns):
        part = finals[(finals["protocol"] == c.protocol) & (finals["dataset"] == c.dataset)]
        sns.boxplot(
            data=part,
            x="strategy",
            y=f"best_{c.value}",
            hue="strategy",
            ax=ax,
            fliersize=1.5,
            linewidth=0.8,
        )
        title = c.label if c.label == c.dataset else f"{c.dataset} → {c.label}"
        spec = metric_of(settings or {}, c.protocol, c.dataset)
        ax.set(title=f"{c.protocol}: {title}", xlabel="", ylabel=f"final {words(spec)}")
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(results_dir: Path) -> str:
    """Rebuild summary.csv and finals.csv from the shards, draw the plots, return markdown."""
    traces, finals, summary = rebuild_summary(results_dir)

    settings = load_settings(results_dir)
    published = next(iter(_json_files(results_dir, PUBLISHED_FILE)), {})
    optimum_files = _files(results_dir, OPTIMUM_FILE)
    optimum = (
        pd.concat([pd.read_csv(p) for p in optimum_files]).drop_duplicates("dataset")
        if optimum_files
        else None
    )
    present = set(summary[["protocol", "dataset"]].itertuples(index=False, name=None))
    if present - set(settings):
        raise FileNotFoundError(
            f"{results_dir}: no {SETTINGS_FILE} for {sorted(present - set(settings))}; "
            "the folder is not the out_dir of a search run"
        )
    columns = columns_of(summary, settings)
    budgets = {k: float(v["budget_s"]) for k, v in settings.items()}
    panels = [k for k in settings if k in present]
    grid = curves_on_grid(traces, budgets)
    plot_curves(grid, panels, optimum, results_dir / CURVES_FILE, settings)
    plot_finals(finals, columns, results_dir / FINALS_PLOT, settings)

    notes = [p.read_text().strip() for p in _files(results_dir, NOTES_FILE)]
    parts = [
        "## Search results",
        "",
        markdown_table(summary, columns, settings, published, optimum),
        f"![best-so-far value against simulated time]({CURVES_FILE})",
        "",
        f"![final value per strategy]({FINALS_PLOT})",
        "",
        *(["### Notes", "", *dict.fromkeys(notes)] if notes else []),
    ]
    return "\n".join(parts)


SECTION = ReportSection(name="search", applies=_applies, render=render)
