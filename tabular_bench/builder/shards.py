"""Run one shard of a build: train its pending units, one atomic file per finished unit.

A unit's file appears (:func:`~tabular_bench.atomic_io.atomic_write_bytes`) only after the
unit has trained, so a shard killed at any moment loses only the units in flight, and a
rerun skips every unit whose file exists. A killed writer may leave a ``.*.tmp`` file
beside the units; merging ignores it, and shards do not sweep them because shards of one
build share ``out_dir`` and would delete each other's in-flight temporaries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from common_io.atomic_io import atomic_write_bytes
from common_io.run_folder import check_settings
from tabular_bench.builder.plan import Unit, unit_seeds
from tabular_bench.builder.protocol import Protocol
from tabular_bench.builder.train import SplitTask, UnitRecord, train_group

PROTOCOL_FILE = "protocol.json"
"""The build folder's settings record (the protocol its units were trained with)."""

UNITS_DIR = "units"


def unit_path(out_dir: Path, unit: Unit) -> Path:
    return out_dir / UNITS_DIR / unit.file_name


def pending_units(
    out_dir: Path, keys: np.ndarray, tasks: Sequence[SplitTask], seeds: Sequence[int],
    *, repeat_keys: np.ndarray | None = None,
) -> list[Unit]:
    """Units of ``keys`` x ``tasks`` x ``seeds`` without a finished file (only the first
    seed for cells outside ``repeat_keys``, when given)."""
    units = [Unit(int(k), t.name, s) for k in keys for t in tasks
             for s in unit_seeds(int(k), seeds, repeat_keys)]
    return [u for u in units if not unit_path(out_dir, u).exists()]


def run_shard(
    out_dir: Path,
    keys: np.ndarray,
    tasks: Sequence[SplitTask],
    protocol: Protocol,
    *,
    models_in_flight: int,
    device: torch.device,
    repeat_keys: np.ndarray | None = None,
    on_group_done: Callable[[list[Unit]], None] | None = None,
) -> list[Unit]:
    """Train every pending unit of cells ``keys`` (keys of ``protocol.space``); returns the
    units trained now.

    Cells in ``repeat_keys`` (all cells when ``None``) get every seed of the protocol, the
    others its first seed. Units of one cell whose tasks have equal training size and image
    shape are fused, ``models_in_flight`` at a time.
    """
    if models_in_flight < 1:
        raise ValueError(f"models_in_flight must be >= 1, got {models_in_flight}")
    write_protocol(out_dir, protocol)
    by_name = {t.name: t for t in tasks}
    space = protocol.cell_space
    done: list[Unit] = []
    for key in keys:
        todo = pending_units(out_dir, np.array([key]), tasks, protocol.seeds,
                             repeat_keys=repeat_keys)
        for group in _fusable_groups(todo, by_name, models_in_flight):
            code = space.code(int(key))
            records = train_group(
                space.to_string(code),
                [space.op_names[i] for i in code],
                [(by_name[u.task], u.seed) for u in group],
                protocol,
                device,
            )
            for unit, record in zip(group, records, strict=True):
                write_unit(out_dir, unit, record)
            done.extend(group)
            if on_group_done is not None:
                on_group_done(group)
    return done


def _fusable_groups(
    units: list[Unit], tasks: dict[str, SplitTask], size: int
) -> list[list[Unit]]:
    """Chunks of at most ``size`` units whose tasks share training size and image shape."""
    buckets: dict[tuple, list[Unit]] = {}
    for unit in units:
        task = tasks[unit.task]
        buckets.setdefault((len(task.y_train), task.image_shape), []).append(unit)
    return [b[i : i + size] for b in buckets.values() for i in range(0, len(b), size)]


def write_unit(out_dir: Path, unit: Unit, record: UnitRecord) -> Path:
    """Write one unit's record atomically (complete temporary file, then rename)."""
    return _write_json(unit_path(out_dir, unit), {"key": unit.key, **asdict(record)})


def check_protocol(out_dir: Path, protocol: Protocol) -> bool:
    """Whether ``out_dir`` already records ``protocol``; raise, naming every differing
    setting, if it records another one (the resume check every job uses)."""
    path = out_dir / PROTOCOL_FILE
    existed = path.exists()
    if existed:
        check_settings(path, protocol.to_dict())
    return existed


def write_protocol(out_dir: Path, protocol: Protocol) -> None:
    """Record the protocol once; refuse to mix units of different protocols in one folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    check_settings(out_dir / PROTOCOL_FILE, protocol.to_dict())


def _write_json(path: Path, payload: dict) -> Path:
    return atomic_write_bytes(path, json.dumps(payload).encode())
