"""The sharded-search engine: plan shards, check their folders, run the missing ones.

Every search-like job (:class:`~metanas.runner.search_job.SearchJob`, the transfer job of
:mod:`metanas.priors`) stores its traces as shards, one parquet file per (setting,
strategy, range of runs) (:mod:`metanas.runner.shard_store`). This module is the part they
share, so that resume, settings checks, parallelism and worker clean-up are written once:

* :func:`plan_shards` -- every shard of a job, in a fixed order;
* :func:`check_shards` -- each (setting, strategy) folder's ``spec.json`` against the
  job's settings (:func:`common_io.run_folder.check_settings`), and no overlap with
  shards of another run split;
* :func:`run_shards` -- the missing shards in joblib/loky processes with a progress bar;
  each shard appears atomically, so a killed job resumes where it stopped.

A job supplies what differs: the settings of a folder (``spec_of``) and, per shard, a
picklable callable that returns its trace frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from common_io.atomic_io import remove_stale_temporaries
from common_io.run_folder import check_settings
from metanas.runner import orphans, shard_store
from metanas.runner.settings import SearchSetting

SPEC_FILE = "spec.json"


@dataclass(frozen=True)
class Shard:
    """Runs ``key.first`` .. ``key.last`` of one strategy on one setting."""

    key: shard_store.ShardKey
    setting: SearchSetting


def plan_shards(
    settings: Iterable[SearchSetting],
    names: Iterable[str],
    runs_of: Callable[[str], range],
    runs_per_shard: int,
) -> list[Shard]:
    """Every shard of ``names`` on ``settings``: ``runs_of(name)`` cut into pieces of
    ``runs_per_shard`` runs."""
    names = list(names)
    shards = []
    for setting in settings:
        for name in names:
            runs = runs_of(name)
            for start in range(runs.start, runs.stop, runs_per_shard):
                last = min(start + runs_per_shard, runs.stop) - 1
                key = shard_store.ShardKey(setting.protocol, setting.dataset, name, start, last)
                shards.append(Shard(key, setting))
    return shards


def check_shards(
    out_dir: Path,
    shards: Sequence[Shard],
    spec_of: Callable[[SearchSetting, str], Mapping[str, Any]],
) -> None:
    """Record or check the settings of every shard folder; refuse overlapping run splits.

    :param spec_of: the inputs that determine the shards of (setting, strategy).
    :raises ValueError: naming the folder and each differing setting.
    """
    out_dir = Path(out_dir)
    seen = set()
    for shard in shards:
        folder = shard.key.folder
        if folder not in seen:
            seen.add(folder)
            check_settings(
                out_dir / folder / SPEC_FILE, spec_of(shard.setting, shard.key.strategy)
            )
    shard_store.check_no_overlap(out_dir, [s.key for s in shards])


def run_shards(
    out_dir: Path,
    shards: Sequence[Shard],
    work: Callable[[Shard], Callable[[], pd.DataFrame]],
    *,
    n_jobs: int,
    progress: bool = True,
    desc: str = "search",
) -> int:
    """Run every shard of ``shards`` that ``out_dir`` does not hold yet.

    :param work: for a shard, a picklable callable returning its trace frame (it runs in a
        worker process).
    :return: how many shards were run.
    """
    out_dir = Path(out_dir)
    # Only the folders this job writes: other files below out_dir are not ours.
    for folder in {out_dir, *(out_dir / s.key.folder for s in shards)}:
        remove_stale_temporaries(folder)
    todo = [s for s in shards if not (out_dir / s.key.relpath).exists()]
    tasks = (delayed(_run_one)(out_dir, s.key, work(s), os.getpid()) for s in todo)
    bar = tqdm(total=len(shards), initial=len(shards) - len(todo), unit="shard", desc=desc,
               disable=not progress)
    with bar:
        for _ in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
            bar.update()
    return len(todo)


def _run_one(
    out_dir: Path,
    key: shard_store.ShardKey,
    make_frame: Callable[[], pd.DataFrame],
    parent_pid: int,
) -> Path:
    """Worker: build the shard's frame and store it (one atomic file).

    A worker whose job process died stops before its next run and never writes: nobody
    owns the folder any more (:mod:`metanas.runner.orphans`).
    """
    with orphans.watching(parent_pid):
        frame = make_frame()
        orphans.exit_if_orphaned()
        return shard_store.write_shard(out_dir, key, frame)
