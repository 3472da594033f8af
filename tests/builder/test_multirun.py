"""The builder as a `metanas.run` job: shards spread by Hydra multirun (submitit's local
executor) share one build folder, and the last shard to finish merges the table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tabular_bench.builder.merge import merge
from tabular_bench.tabular import TabularBenchmark

ARCHS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|none~0|+|skip_connect~0|none~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|",
)
TINY = ["job.protocol.epochs=1", "job.protocol.channels=2", "job.protocol.seeds=[1]",
        "job.all_seeds_cells=null", "~job.tasks.cifar100", "job.tasks.omniglot.limit=1",
        "job.cells.mode=list", f"job.cells.archs=[{','.join(repr(a) for a in ARCHS)}]",
        "job.device=cpu"]


@pytest.mark.slow
def test_submitit_local_multirun_builds_every_unit(real_data: Path, tmp_path: Path) -> None:
    build = tmp_path / "build"
    cmd = [
        sys.executable, "-m", "metanas.run", "-m", "experiment=table_build_cpu",
        "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
        f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.sweep.subdir=${hydra.job.num}",
        "job.shard=0,1", "job.num_shards=2",
        f"job.build_dir={build}", f"++job.tasks.omniglot.overrides.root={real_data / 'omniglot'}",
        *TINY,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    table = merge(build)
    assert table.num_archs == 2 and list(table.tasks) == ["omniglot.Alphabet_of_the_Magi"]
    assert all(task.measured.all() for task in table.tasks.values())
    merged = TabularBenchmark.from_file(build / "table.h5")  # written by the last shard
    assert merged.tasks == ("omniglot.Alphabet_of_the_Magi",)
    logs = list((tmp_path / "sweep").rglob("*_log.out"))
    assert len(logs) == 2  # one submitit job per shard
