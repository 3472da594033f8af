"""The unit a report is built from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReportSection:
    """One part of a report.

    :param name: short name, used in errors.
    :param applies: True when a results folder holds this section's inputs.
    :param render: writes the section's files (plots, csv) into the folder and returns
        its markdown.
    """

    name: str
    applies: Callable[[Path], bool]
    render: Callable[[Path], str]
