"""Shards spread by Hydra multirun with the submitit launcher (its local executor)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tabular_bench.build.merge import merge

ARCHS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|none~0|+|skip_connect~0|none~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|",
)


@pytest.mark.slow
def test_submitit_local_multirun_builds_every_unit(real_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    cmd = [
        sys.executable, "-m", "tabular_bench.build", "train", "-m",
        "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        "shard=0,1", "num_shards=2", "protocol=micro", "tasks.limit=1",
        f"++tasks.overrides.root={real_data / 'omniglot'}",
        "cells.mode=list", f"cells.archs=[{','.join(repr(a) for a in ARCHS)}]",
        f"out_dir={out}", "device=cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    table = merge(out)
    assert table.num_archs == 2 and len(table.tasks) == 1
    assert all(task.measured.all() for task in table.tasks.values())
    logs = list((tmp_path / "sweep").rglob("*_log.out"))
    assert len(logs) == 2  # one submitit job per shard
