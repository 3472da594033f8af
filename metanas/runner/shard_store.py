"""Trace store: one parquet file per (setting, strategy, range of runs), written atomically.

A shard appears only when complete (written to a temporary name, then ``os.replace``), so a
run killed at any moment leaves whole shards or none, and a re-run skips what exists. Each
(setting, strategy) folder holds ``spec.json``, the inputs that determine its shards; a
re-run with different inputs is refused rather than mixing results.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_shard(root: Path, key: ShardKey, frame: pd.DataFrame) -> Path:
    """Store ``frame`` as shard ``key`` under ``root`` atomically."""
    path = root / key.relpath
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def ensure_spec(root: Path, folder: Path, spec: dict[str, Any]) -> None:
    """Record ``spec`` for a shard folder, or raise if the folder holds another spec."""
    path = root / folder / "spec.json"
    text = json.dumps(spec, indent=1, sort_keys=True)
    if path.exists():
        if json.loads(path.read_text()) != json.loads(text):
            raise ValueError(
                f"{path.parent} holds shards from a different configuration "
                f"(see {path}); use another out_dir=, or delete that folder to start over"
            )
        return
    atomic_write_bytes(path, text.encode())


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


def remove_stale_tmp(root: Path) -> None:
    """Delete temporary files left by a killed run (they are never read)."""
    for p in (root / SHARD_DIR).rglob(".*.tmp*"):
        p.unlink(missing_ok=True)


def read_shards(root: Path) -> pd.DataFrame:
    """All traces below ``root`` (searched recursively, so a multirun folder works too)."""
    paths = sorted(p for p in root.rglob("runs_*.parquet") if SHARD_DIR in p.parts)
    if not paths:
        raise FileNotFoundError(f"no search shards below {root} (expected {SHARD_DIR}/...)")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
