"""Report section of table builds (``experiment=table_build_cpu``, :mod:`tabular_bench.builder`).

A build's report is its per-task quality (:func:`tabular_bench.builder.quality.quality`:
seed-to-seed Kendall tau, tau against NAS-Bench-201, unit cost); this section registers it
and writes ``quality.csv`` into the build folder (a folder with a ``units/`` directory).
The NB201 comparison is left blank when the NB201 table is not in the data directory.
"""

from __future__ import annotations

from pathlib import Path

from metanas.report.markdown import markdown_table
from metanas.report.section import ReportSection

QUALITY_FILE = "quality.csv"


def _applies(results_dir: Path) -> bool:
    from tabular_bench.builder.shards import UNITS_DIR

    return (results_dir / UNITS_DIR).is_dir()


def render(results_dir: Path) -> str:
    """Assess the build's finished units; write quality.csv; return it as markdown."""
    from common_io.data_dir import DataNotFoundError
    from tabular_bench.builder.quality import build_space, quality, read_units
    from tabular_bench.loaders import nb201

    try:
        reference = nb201()
    except DataNotFoundError:
        reference = None
    table = quality(read_units(results_dir), reference, build_space(results_dir))
    table.to_csv(results_dir / QUALITY_FILE, index=False, float_format="%.4f")
    note = "" if reference is not None else (
        " The NB201 comparison is blank: no NAS-Bench-201 table in the data directory.")
    return (
        "## Table build quality\n\n"
        f"Per task (written to `{QUALITY_FILE}`): cells and seeds trained, seed-to-seed "
        "Kendall τ of final test accuracy, τ of the seed mean against NAS-Bench-201 "
        "CIFAR-10 (200 epochs; builds of NB201 cells) and wall and CPU seconds per unit."
        f"{note}\n\n"
        f"{markdown_table(table)}"
    )


SECTION = ReportSection(name="table build", applies=_applies, render=render)
