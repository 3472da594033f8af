"""A table build as a job of ``python -m metanas.run``: train one shard, merge when complete.

``python -m metanas.run experiment=table_build_cpu`` instantiates :class:`TableBuildJob`
from ``experiments/experiment/table_build_cpu.yaml`` and calls :meth:`TableBuildJob.run`.
Units (one cell on one task with one seed) are files under ``build_dir``; a rerun skips
finished units, so the same command resumes. Shards of one build share ``build_dir``
(``-m job.shard=0,1,2,3 job.num_shards=4 job.build_dir=runs/table_build_cpu``); whichever
shard finds every unit of the build finished merges them into ``<build_dir>/table.h5``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from tabular_bench.builder.merge import merge_to_file
from tabular_bench.builder.plan import (
    load_tasks,
    repeat_subset,
    select_cells,
    shard_cells,
)
from tabular_bench.builder.protocol import Protocol
from tabular_bench.builder.shards import check_protocol, pending_units, run_shard
from tabular_bench.builder.train import SplitTask

log = logging.getLogger(__name__)
TABLE_FILE = "table.h5"


@dataclass(frozen=True)
class TaskSource:
    """Whole tasks of one distribution (``experiments/tasks/<distribution>.yaml``)."""

    distribution: str
    names: Sequence[str] | None = None
    """Keep only these tasks (``None``: all)."""
    limit: int | None = None
    """Keep the first ``limit`` tasks after ``names``."""
    meta_split: str | None = None
    """Keep only tasks whose classes lie in this meta-split."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Arguments of the distribution (e.g. ``root``)."""


@dataclass(frozen=True)
class CellChoice:
    """Which cells of the protocol's space to train
    (:func:`~tabular_bench.builder.plan.select_cells`)."""

    mode: str = "sample"
    sample_size: int = 100
    seed: int = 0
    archs: Sequence[str] = ()


class TableBuildJob:
    """Train cells of one space (``protocol.space``, NB201 by default) on whole tasks of
    one or more distributions into a table.

    :param tasks: source name -> :class:`TaskSource` settings; a task is named
        ``<source>.<task>`` in the table (e.g. ``cifar100.people``, ``omniglot.Greek``).
    :param cells: :class:`CellChoice` settings.
    :param protocol: :class:`~tabular_bench.builder.protocol.Protocol` settings; its
        ``space`` names the cell space (a space without a cell DAG is refused here).
    :param all_seeds_cells: train this many of the chosen cells (a seeded subset) with
        every seed of the protocol and the rest with its first seed only; ``None``: all
        cells get every seed. The subset measures seed-to-seed noise on every task.
    :param shard: which shard of the cells this job trains (round robin over sorted keys).
    :param num_shards: how many shards the build is split into.
    :param models_in_flight: units of one cell trained as one fused network (helps on GPUs).
    :param device: ``auto`` (CUDA if available), ``cpu``, ``cuda`` or ``cuda:N``.
    :param build_dir: folder of the unit files, shared by all shards; default: the job's
        ``out_dir``.
    :param progress: show a progress bar over this shard's pending units (stderr).
    """

    def __init__(
        self,
        *,
        tasks: Mapping[str, Mapping[str, Any]],
        cells: Mapping[str, Any],
        protocol: Mapping[str, Any],
        all_seeds_cells: int | None = None,
        shard: int = 0,
        num_shards: int = 1,
        models_in_flight: int = 1,
        device: str = "auto",
        build_dir: str | None = None,
        progress: bool = True,
    ) -> None:
        if not tasks:
            raise ValueError("tasks is empty: give at least one source, e.g. "
                             "{omniglot: {distribution: omniglot_lake}}")
        bad_names = [name for name in tasks if not name or "." in name or "/" in name]
        if bad_names:
            raise ValueError(f"task source names {bad_names} must be non-empty and hold no "
                             "'.' or '/' (they prefix task names)")
        self.sources = {name: TaskSource(**_plain(cfg)) for name, cfg in tasks.items()}
        self.cells = CellChoice(**_plain(cells))
        self.protocol = Protocol(**_plain(protocol))
        if not 0 <= shard < num_shards:
            raise ValueError(f"shard must lie in [0, num_shards={num_shards}), got {shard}")
        if models_in_flight < 1:
            raise ValueError(f"models_in_flight must be >= 1, got {models_in_flight}")
        if all_seeds_cells is not None and all_seeds_cells < 0:
            raise ValueError(f"all_seeds_cells must be >= 0 or null, got {all_seeds_cells}")
        self.all_seeds_cells = all_seeds_cells
        self.shard, self.num_shards = shard, num_shards
        self.models_in_flight = models_in_flight
        self.device = device
        self.build_dir = build_dir
        self.progress = progress
        self.keys = select_cells(self.cells.mode, sample_size=self.cells.sample_size,
                                 seed=self.cells.seed, archs=list(self.cells.archs),
                                 space=self.protocol.cell_space)
        self.repeat_keys = (
            None if all_seeds_cells is None
            else repeat_subset(self.keys, all_seeds_cells, self.cells.seed)
        )

    def load_tasks(self) -> list[SplitTask]:
        """Every source's whole tasks, split and resized by the protocol."""
        tasks = []
        for name, source in self.sources.items():
            tasks += load_tasks(
                source.distribution, self.protocol, names=source.names, limit=source.limit,
                meta_split=source.meta_split, overrides=dict(source.overrides), prefix=name,
            )
        return tasks

    def prepare(self, out_dir: Path) -> None:
        """Refuse, before any work, a build folder that holds units of another protocol."""
        check_protocol(self._build_dir(out_dir), self.protocol)

    def _build_dir(self, out_dir: Path) -> Path:
        return Path(self.build_dir or out_dir).expanduser().resolve()

    def run(self, out_dir: Path) -> None:
        """Train this shard's pending units; merge the table once no unit is pending."""
        build_dir = self._build_dir(out_dir)
        device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if self.device == "auto"
            else self.device
        )
        tasks = self.load_tasks()
        keys = shard_cells(self.keys, self.shard, self.num_shards)
        log.info("shard %d/%d: %d cells x %d tasks -> %s", self.shard, self.num_shards,
                 len(keys), len(tasks), build_dir)
        pending = pending_units(build_dir, keys, tasks, self.protocol.seeds,
                                repeat_keys=self.repeat_keys)
        with tqdm(total=len(pending), unit="unit", desc=f"shard {self.shard}",
                  disable=not self.progress) as bar:
            done = run_shard(build_dir, keys, tasks, self.protocol,
                             models_in_flight=self.models_in_flight, device=device,
                             repeat_keys=self.repeat_keys,
                             on_group_done=lambda group: bar.update(len(group)))
        log.info("shard %d trained %d units", self.shard, len(done))
        left = pending_units(build_dir, self.keys, tasks, self.protocol.seeds,
                             repeat_keys=self.repeat_keys)
        if left:
            log.info("%d units of other shards pending: not merging yet", len(left))
            return
        path = merge_to_file(build_dir, build_dir / TABLE_FILE)
        log.info("merged %d cells x %d tasks into %s", len(self.keys), len(tasks), path)


def _plain(config: Mapping[str, Any]) -> dict[str, Any]:
    """A Hydra node (``DictConfig``) or mapping as plain Python containers."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(config, DictConfig):
        return OmegaConf.to_container(config, resolve=True)  # type: ignore[return-value]
    return dict(config)

