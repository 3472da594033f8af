"""One Hydra job of the builder: validate the config, load tasks, train this shard's cells."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from tabular_bench.build.plan import load_tasks, select_cells, shard_cells
from tabular_bench.build.protocol import Protocol
from tabular_bench.build.shards import run_shard

log = logging.getLogger(__name__)
KNOWN_KEYS = {"tasks", "cells", "shard", "num_shards", "models_in_flight", "device", "out_dir",
              "protocol"}


def run_job(cfg: DictConfig) -> int:
    """Train shard ``cfg.shard`` of ``cfg.num_shards``; returns the number of units trained."""
    unknown = set(cfg) - KNOWN_KEYS
    if unknown:
        raise KeyError(f"unknown build settings {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    protocol = Protocol(**OmegaConf.to_container(cfg.protocol, resolve=True))
    keys = shard_cells(
        select_cells(
            cfg.cells.mode,
            sample_size=cfg.cells.sample_size,
            seed=cfg.cells.seed,
            archs=list(cfg.cells.archs),
        ),
        cfg.shard,
        cfg.num_shards,
    )
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    )
    tasks = load_tasks(
        cfg.tasks.distribution,
        names=list(cfg.tasks.names) if cfg.tasks.names else None,
        limit=cfg.tasks.limit,
        meta_split=cfg.tasks.meta_split,
        valid_fraction=protocol.valid_fraction,
        split_seed=protocol.split_seed,
        overrides=OmegaConf.to_container(cfg.tasks.overrides, resolve=True),
    )
    out_dir = Path(cfg.out_dir).expanduser().resolve()
    log.info("shard %d/%d: %d cells x %d tasks x %d seeds -> %s", cfg.shard, cfg.num_shards,
             len(keys), len(tasks), len(protocol.seeds), out_dir)
    done = run_shard(out_dir, keys, tasks, protocol,
                     models_in_flight=cfg.models_in_flight, device=device)
    log.info("shard %d trained %d units", cfg.shard, len(done))
    return len(done)
