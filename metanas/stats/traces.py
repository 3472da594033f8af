"""Reading the runner's tidy traces: column names, validation, per-run arrays.

A trace frame (``metanas.runner.search_loop.trace_frame``) has one row per told query,
in query order within a run. The statistics read a few of its columns; their default
names live here so that every module agrees on them and a bad frame fails in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

#: Run identifier (one search).
RUN = "run"
#: Query position within a run, 0-based.
STEP = "step"
#: Cost spent after each query, in the benchmark's cost unit (simulated seconds).
CUM_COST = "cum_cost"
#: Test accuracy of the incumbent (best signal so far): what a run would return.
INCUMBENT = "best_test_acc"
#: Test accuracy of the queried cell itself (the transfer job's traces have it).
QUERY_TEST = "test_acc"
#: Meta-training seed of the prior a run used; negative when none (a baseline).
CLUSTER = "meta_seed"
#: Column :func:`with_query_axis` adds: queries told so far (1 after the first).
QUERIES = "queries"


def with_query_axis(traces: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``traces`` with a :data:`QUERIES` column, for statistics against queries.

    Pass ``cost=QUERIES`` to any function that takes a cost column to count queries
    instead of simulated seconds.
    """
    require_columns(traces, (STEP,), "with_query_axis")
    return traces.assign(**{QUERIES: traces[STEP].to_numpy(np.int64) + 1})


def require_columns(frame: pd.DataFrame, columns: Sequence[str], who: str) -> None:
    """Raise naming the missing columns and the ones present."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{who}: the trace frame lacks column(s) {missing}; it has {list(frame.columns)}. "
            "Pass the column names as keyword arguments if yours differ."
        )


def iter_runs(
    traces: pd.DataFrame, columns: Sequence[str], *, run: str = RUN, cost: str = CUM_COST
) -> Iterator[tuple[object, dict[str, np.ndarray]]]:
    """Yield ``(run id, {column: array})`` per run, rows in query order.

    Rows are ordered by :data:`STEP` when the frame has it. The cost column must not
    decrease within a run (it is cumulative); a decreasing one means the rows are not one
    run's queries in order, and raises.
    """
    needed = list(dict.fromkeys([run, cost, *columns]))
    require_columns(traces, needed, "statistics")
    if traces.empty:
        raise ValueError("statistics: the trace frame has no rows (no run told a query)")
    order = [run, STEP] if STEP in traces.columns else [run]
    for run_id, rows in traces.sort_values(order, kind="stable").groupby(run, sort=True):
        arrays = {c: rows[c].to_numpy(np.float64) for c in needed if c != run}
        spent = arrays[cost]
        if np.any(np.diff(spent) < 0):
            raise ValueError(
                f"run {run_id!r}: column {cost!r} decreases; it must be the cumulative cost "
                "of the run's queries in order (one run id per search)"
            )
        if np.any(~np.isfinite(spent)):
            raise ValueError(f"run {run_id!r}: column {cost!r} has non-finite values")
        yield run_id, arrays
