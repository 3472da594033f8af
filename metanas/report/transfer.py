"""Report section of transfer jobs (:class:`metanas.priors.transfer.TransferJob`).

The transfer report itself is :func:`metanas.priors.transfer_report.write_transfer_report`
(summary, paired tests, ranks, critical-difference diagram, Kaplan-Meier curves); this
section only registers it, so ``python -m metanas.report <transfer out_dir>`` rebuilds it
in that folder. A folder is a transfer job's when it holds the job's setup file.
"""

from __future__ import annotations

from pathlib import Path

from metanas.report.section import ReportSection


def _applies(results_dir: Path) -> bool:
    from metanas.priors.transfer_report import SETUP_FILE

    return (results_dir / SETUP_FILE).is_file()


def render(results_dir: Path) -> str:
    """Write the transfer report into ``results_dir``; return its table.md section."""
    from metanas.priors import transfer_report

    transfer_report.write_transfer_report(results_dir, results_dir)
    text = (results_dir / "table.md").read_text()
    start, end = text.find(transfer_report.TABLES_START), text.find(transfer_report.TABLES_END)
    if start < 0 or end < 0:
        return text
    return text[start: end + len(transfer_report.TABLES_END)]


SECTION = ReportSection(name="transfer", applies=_applies, render=render)
