"""Report section of few-shot meta-training runs (:class:`metanas.meta.job.MetaTrainJob`).

The report is :func:`metanas.meta.fewshot_report.main` (summary with 95% intervals,
learning curves); this section registers it. A folder qualifies when it is a run (Hydra
record and ``curve.csv``) or holds such runs as direct subfolders. A single run's report
goes to ``<run>/report/`` so the run's own ``summary.csv`` is never overwritten.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metanas.meta.training import CURVE_FILE
from metanas.report.markdown import markdown_table
from metanas.report.section import ReportSection

REPORT_SUBDIR = "report"


def _is_run(folder: Path) -> bool:
    return (folder / ".hydra").is_dir() and (folder / CURVE_FILE).is_file()


def runs_of(results_dir: Path) -> list[Path]:
    """The folder itself if it is a run, else its direct subfolders that are."""
    if _is_run(results_dir):
        return [results_dir]
    return sorted(p for p in results_dir.iterdir() if p.is_dir() and _is_run(p))


def _applies(results_dir: Path) -> bool:
    return bool(runs_of(results_dir))


def render(results_dir: Path) -> str:
    """Run the few-shot report over the runs; return its summary as markdown."""
    from metanas.meta import fewshot_report

    runs = runs_of(results_dir)
    out = results_dir / REPORT_SUBDIR if runs == [results_dir] else results_dir
    fewshot_report.main([*map(str, runs), "--out", str(out)])
    summary = pd.read_csv(out / "summary.csv")
    where = out.relative_to(results_dir)
    curves = "" if not (out / "curves.png").exists() else (
        f"\n\n![held-out accuracy against meta-iterations]({where / 'curves.png'})")
    return (
        "## Few-shot results\n\n"
        "Held-out accuracy (%) with its 95% interval, one row per (experiment, "
        f"iterations) (written to `{where / 'summary.csv'}`).\n\n"
        f"{markdown_table(summary, '.2f')}{curves}"
    )


SECTION = ReportSection(name="fewshot", applies=_applies, render=render)
