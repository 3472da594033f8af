"""Few-shot results table and learning curves from MetaTrainJob run folders, in one command.

Each run folder holds ``.hydra/overrides.yaml`` (which names its experiment),
``curve.csv`` and, once finished, ``summary.csv``. A finished run reports its meta-test
result; an unfinished one its last curve point, labelled with the iterations reached. The
published number comes from the experiment config's ``published`` node; learn2learn parity
rows from ``l2l_parity_*.csv`` files (:mod:`metanas.meta.l2l_parity`). Writes
``summary.csv``, ``curves/<run>.csv`` (copies of the curves) and ``curves.png``::

    python -m metanas.meta.fewshot_report /work/runs/fewshot/*/ --out results/fewshot
"""

from __future__ import annotations

import argparse
import csv
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir

from common_io.atomic_io import atomic_write_text
from metanas.meta.stats import mean_ci95
from metanas.meta.training import CURVE_FILE, csv_text

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
COLUMNS = (
    "method", "dataset", "setting", "iterations", "seeds", "test_acc_mean", "ci95",
    "l2l_acc_same_iterations", "time_ratio_vs_l2l", "published", "source", "measured_on",
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def experiment_of(run: Path) -> str:
    """The ``experiment=`` override the run was started with."""
    overrides = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text())
    for item in overrides:
        if item.startswith("experiment="):
            return item.split("=", 1)[1]
    raise ValueError(f"{run}: no experiment= in .hydra/overrides.yaml; is it a metanas.run folder?")


def published_of(experiment: str) -> dict[str, Any] | None:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}"])
    return None if cfg.get("published") is None else dict(cfg.published)


def _names(experiment: str) -> tuple[str, str, str]:
    dataset, method, setting = experiment.removesuffix("_cpu").rsplit("_", 2)
    return dataset, method, setting


def run_result(run: Path) -> dict[str, Any]:
    """Accuracy, interval, iterations and what they were measured on, for one run folder."""
    if (run / "summary.csv").exists():
        [row] = _rows(run / "summary.csv")
        return {"acc": float(row["test_acc_mean"]), "ci95": float(row["test_acc_ci95"]),
                "iterations": int(row["iterations"]),
                "measured_on": f"meta-test, {row['episodes']} episodes (finished)"}
    if not (run / CURVE_FILE).exists():
        raise ValueError(f"{run}: neither summary.csv nor {CURVE_FILE}; nothing to report yet")
    last = _rows(run / CURVE_FILE)[-1]
    return {"acc": float(last["acc"]), "ci95": float(last["ci95"]),
            "iterations": int(last["iteration"]),
            "measured_on": f"curve point (unfinished run, {last['train_time_s']} s training)"}


def summary_rows(runs: list[Path], parity_files: list[Path]) -> list[dict[str, Any]]:
    """One row per (experiment, iterations) over seeds, plus one per learn2learn parity run."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        result = run_result(run)
        groups[(experiment_of(run), result["iterations"], result["measured_on"])].append(result)
    rows = []
    for (experiment, iterations, measured_on), results in sorted(groups.items()):
        dataset, method, setting = _names(experiment)
        if len(results) == 1:
            acc, ci95 = results[0]["acc"], results[0]["ci95"]
        else:  # the interval over meta-training seeds
            acc, ci95 = mean_ci95([r["acc"] for r in results])
        published = published_of(experiment)
        rows.append(_row(method, dataset, setting, iterations, len(results), acc, ci95,
                         "", "", published, measured_on))
    for path in parity_files:
        by_library = {r["library"]: r for r in _rows(path)}
        ours, theirs = by_library["metanas"], by_library["learn2learn"]
        dataset, method, setting = _names(ours["experiment"])
        rows.append(_row(
            method, dataset, setting, int(ours["iterations"]), 1,
            float(ours["test_acc_mean"]), float(ours["ci95"]), theirs["test_acc_mean"],
            ours["time_ratio_vs_l2l"], published_of(ours["experiment"]),
            f"parity run ({path.name}), meta-test {ours['test_episodes']} episodes",
        ))
    return rows


def _row(method: str, dataset: str, setting: str, iterations: int, seeds: int, acc: float,
         ci95: float, l2l_acc: Any, ratio: Any, published: dict[str, Any] | None,
         measured_on: str) -> dict[str, Any]:
    return dict(zip(COLUMNS, (
        method, dataset, setting, iterations, seeds, round(acc, 2), round(ci95, 2), l2l_acc,
        ratio, "" if published is None else published["acc"],
        "" if published is None else published["source"], measured_on,
    ), strict=True))


def plot_curves(curves: dict[str, list[dict[str, str]]], path: Path) -> None:
    """Accuracy with its 95% interval against iterations (left) and training time (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_it, by_time) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for name, rows in sorted(curves.items()):
        acc = [float(r["acc"]) for r in rows]
        ci = [float(r["ci95"]) for r in rows]
        for ax, x in ((by_it, [int(r["iteration"]) for r in rows]),
                      (by_time, [float(r["train_time_s"]) / 3600 for r in rows])):
            ax.errorbar(x, acc, yerr=ci, label=name, capsize=2, marker=".")
    by_it.set_xlabel("meta-iterations")
    by_time.set_xlabel("training wall time (h, evaluation excluded)")
    by_it.set_ylabel("held-out accuracy (%), 95% interval")
    by_it.legend(fontsize=8)
    for ax in (by_it, by_time):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="MetaTrainJob run folders")
    parser.add_argument("--out", type=Path, required=True,
                        help="results folder; its l2l_parity_*.csv files are read too")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [r for r in args.runs if (r / ".hydra").is_dir()]
    parity = sorted(args.out.glob("l2l_parity_*.csv"))
    atomic_write_text(args.out / "summary.csv", csv_text(summary_rows(runs, parity)))
    curves = {}
    (args.out / "curves").mkdir(exist_ok=True)
    for run in runs:
        if (run / CURVE_FILE).exists():
            shutil.copyfile(run / CURVE_FILE, args.out / "curves" / f"{run.name}.csv")
            curves[run.name] = _rows(run / CURVE_FILE)
    if curves:
        plot_curves(curves, args.out / "curves.png")


if __name__ == "__main__":
    main()
