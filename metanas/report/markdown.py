"""A data frame as a markdown table (pandas' ``to_markdown`` needs the optional tabulate)."""

from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, float_format: str = ".4g") -> str:
    """``frame`` as a pipe table; floats printed with ``float_format``, NaN left blank."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:{float_format}}"
        return str(value)

    head = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = frame.itertuples(index=False)
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
