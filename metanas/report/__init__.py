"""Reports of a results folder: ``python -m metanas.report <results dir>``.

A report is a list of sections. Each section says whether a folder holds its inputs
(``applies``) and renders them into files there plus a markdown chunk; ``build_report``
writes the chunks of every section that applies to ``table.md``. Another kind of job adds
its report with one module defining a :class:`ReportSection` and one entry in ``SECTIONS``.
"""

from __future__ import annotations

from pathlib import Path

from metanas.report import fewshot, search, table_build, transfer
from metanas.report.section import ReportSection

REPORT_FILE = "table.md"
SECTIONS: tuple[ReportSection, ...] = (
    search.SECTION, transfer.SECTION, fewshot.SECTION, table_build.SECTION,
)
"""Every job kind the harness runs: search, transfer, few-shot meta-training, table build."""

__all__ = ["REPORT_FILE", "SECTIONS", "ReportSection", "build_report"]


def build_report(results_dir: Path) -> Path:
    """Render every applicable section of ``results_dir`` into ``table.md``; return its path."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    sections = [s for s in SECTIONS if s.applies(results_dir)]
    if not sections:
        raise FileNotFoundError(
            f"nothing to report in {results_dir}: no section "
            f"({', '.join(s.name for s in SECTIONS)}) finds its inputs there; pass the "
            "out_dir of a run (e.g. runs/nb201_paper, runs/nb201_transfer, a few-shot run or "
            "a table build) or a multirun folder"
        )
    chunks = [s.render(results_dir) for s in sections]
    path = results_dir / REPORT_FILE
    path.write_text("\n\n".join(chunk.strip() for chunk in chunks) + "\n")
    return path
