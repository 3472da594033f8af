"""A search process killed mid-run (SIGKILL) and started again ends with the same traces
and summary as an uninterrupted run, with no duplicate rows."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_search_job import make_job, sorted_traces

HERE = Path(__file__).resolve().parent

SCRIPT = """
import functools, os, sys, time
sys.path.insert(0, {here!r})
from conftest import GreedyRandom, SyntheticBenchmark, SYNTHETIC_PROTOCOLS
from metanas.runner.search_job import SearchJob

class BlockingAtRun(GreedyRandom):
    # With BLOCK_AT_RUN=k the k-th strategy built (run k, third shard for k=4) never
    # returns, so the kill always lands mid-job after two complete shards.
    built = 0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        BlockingAtRun.built += 1
        if BlockingAtRun.built - 1 == int(os.environ.get("BLOCK_AT_RUN", -1)):
            while True:
                time.sleep(1)

SearchJob(benchmark=SyntheticBenchmark(), protocols=SYNTHETIC_PROTOCOLS,
          strategies={{"greedy": functools.partial(BlockingAtRun)}}, runs=6, runs_per_shard=2,
          n_jobs=1, progress=False, report=False).run({out!r})
"""


@pytest.mark.slow
def test_killed_process_resumes_to_the_same_summary(synthetic_benchmark, tmp_path):
    out = tmp_path / "killed"
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(here=str(HERE), out=str(out)))
    env = {**os.environ, "BLOCK_AT_RUN": "4"}
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while len(list(out.rglob("runs_*.parquet"))) < 2:
            assert proc.poll() is None, "the job exited before writing two shards"
            assert time.monotonic() < deadline, "no two shards appeared within 120 s"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = len(list(out.rglob("runs_*.parquet")))
    assert done_before == 2 and not (out / "summary.csv").exists()

    # Same strategy class and settings as the script, run to completion here.
    subprocess.run([sys.executable, str(script)], check=True)
    make_job(synthetic_benchmark).run(tmp_path / "clean")  # GreedyRandom: same trajectory
    resumed, clean = sorted_traces(out), sorted_traces(tmp_path / "clean")
    assert not resumed.duplicated(["protocol", "dataset", "strategy", "run", "step"]).any()
    pd.testing.assert_frame_equal(resumed, clean)
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "summary.csv"), pd.read_csv(tmp_path / "clean" / "summary.csv")
    )


ORPHAN_SCRIPT = """
import functools, os, sys, time
from pathlib import Path
sys.path.insert(0, {here!r})
from conftest import GreedyRandom, SyntheticBenchmark, SYNTHETIC_PROTOCOLS
from metanas.runner.search_job import SearchJob

PIDS = Path({pids!r})

class SlowRuns(GreedyRandom):
    # Each run takes 0.5 s to build, and records the worker's pid once.
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        (PIDS / str(os.getpid())).touch()
        time.sleep(0.5)

SearchJob(benchmark=SyntheticBenchmark(), protocols={{"other": SYNTHETIC_PROTOCOLS["other"]}},
          strategies={{"greedy": functools.partial(SlowRuns)}}, runs=8, runs_per_shard=4,
          n_jobs=2, progress=False, report=False).run({out!r})
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) counts as ended.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


@pytest.mark.slow
def test_workers_of_a_killed_parent_stop_without_writing(tmp_path):
    """Only the parent is killed (not its process group): its loky workers, re-parented,
    must end before their next run and never write a shard into the abandoned folder."""
    out, pids = tmp_path / "orphaned", tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "job.py"
    script.write_text(ORPHAN_SCRIPT.format(here=str(HERE), pids=str(pids), out=str(out)))
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(pids.iterdir())) < 2:  # both workers are inside their first run
            assert proc.poll() is None, "the job exited before its workers started"
            assert time.monotonic() < deadline, "no two workers started within 120 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        workers = [int(p.name) for p in pids.iterdir()]
        # A worker checks before each run (0.5 s each); allow for a loaded machine. Without
        # the check, workers finish their 4-run shard and write it before they notice.
        deadline = time.monotonic() + 60
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a write racing the last check would land now
        assert not [w for w in workers if _alive(w)], "workers outlived their killed parent"
        assert not list(out.rglob("runs_*.parquet")), "an orphaned worker wrote a shard"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
