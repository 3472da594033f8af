"""Trace store: one parquet file per (setting, strategy, range of runs), written atomically.

A shard appears only when complete (``common_io.atomic_io``), so a
run killed at any moment leaves whole shards or none, and a re-run skips what exists. Each
(setting, strategy) folder holds ``spec.json``, the inputs that determine its shards
(checked by :mod:`metanas.runner.sharded_search`); a re-run with different inputs is
refused rather than mixing results.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from common_io.atomic_io import atomic_write_bytes

SHARD_DIR = "shards"
SETTINGS_FILE = "settings.json"  # the job's search settings (budgets) for the report
PUBLISHED_FILE = "published.json"  # published numbers named by the experiment config
OPTIMUM_FILE = "optimum.csv"  # best test accuracy in the table per dataset
NOTES_FILE = "notes.md"  # protocol notes shown under the report's table
_NAME = re.compile(r"^runs_(\d+)-(\d+)\.parquet$")


@dataclass(frozen=True)
class ShardKey:
    """Runs ``first`` .. ``last`` (inclusive) of one strategy on one setting."""

    protocol: str
    dataset: str
    strategy: str
    first: int
    last: int

    @property
    def folder(self) -> Path:
        return Path(SHARD_DIR) / self.protocol / self.dataset / self.strategy

    @property
    def relpath(self) -> Path:
        return self.folder / f"runs_{self.first:05d}-{self.last:05d}.parquet"


def write_shard(root: Path, key: ShardKey, frame: pd.DataFrame) -> Path:
    """Store ``frame`` as shard ``key`` under ``root`` atomically."""
    path = root / key.relpath
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def existing_ranges(root: Path, folder: Path) -> list[tuple[int, int]]:
    """(first, last) run ranges of the complete shards in ``folder``."""
    ranges = []
    for p in (root / folder).glob("runs_*.parquet"):
        if m := _NAME.match(p.name):
            ranges.append((int(m[1]), int(m[2])))
    return sorted(ranges)


def check_no_overlap(root: Path, keys: list[ShardKey]) -> None:
    """Refuse planned shards that overlap an existing shard of another run split."""
    for key in keys:
        for first, last in existing_ranges(root, key.folder):
            if (first, last) != (key.first, key.last) and first <= key.last and key.first <= last:
                raise ValueError(
                    f"{root / key.folder} holds runs {first}-{last}, which overlap the planned "
                    f"runs {key.first}-{key.last} (a different runs_per_shard or first_run); "
                    "use another out_dir= or the same split as before"
                )


def run_folders(root: Path) -> list[Path]:
    """The run folders a results folder stands for: itself if it is a run's out_dir, else
    its direct subfolders that are (the jobs of a multirun folder).

    Never deeper: a run's out_dir may hold other runs or files, which are not its results.
    """
    root = Path(root)
    if (root / SHARD_DIR).is_dir():
        return [root]
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / SHARD_DIR).is_dir())


def shard_paths(root: Path) -> list[Path]:
    """Every complete shard of the run folders of ``root`` (see :func:`run_folders`)."""
    pattern = f"{SHARD_DIR}/*/*/*/runs_*.parquet"
    return sorted(p for folder in run_folders(root) for p in folder.glob(pattern))


def merge_json_list(path: Path, entries: list[dict[str, Any]], key: tuple[str, ...]) -> None:
    """Add ``entries`` to the JSON list at ``path``, replacing those with the same ``key``.

    A rerun with fewer protocols in the same folder keeps what the earlier run recorded
    for the others, so the report still finds every shard's settings.
    """
    old = json.loads(path.read_text()) if path.exists() else []
    new_keys = {tuple(e[k] for k in key) for e in entries}
    kept = [e for e in old if tuple(e[k] for k in key) not in new_keys]
    atomic_write_bytes(path, json.dumps(kept + entries, indent=1).encode())


def read_shards(root: Path) -> pd.DataFrame:
    """All traces of the run folders of ``root`` (a run's out_dir or a multirun folder)."""
    paths = shard_paths(root)
    if not paths:
        raise FileNotFoundError(f"no search shards below {root} (expected {SHARD_DIR}/...)")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
