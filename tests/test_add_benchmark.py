"""The README's promise for a new benchmark: one importer module, one ``IMPORTERS`` entry and
one benchmark yaml, then every experiment runs on it (here a search, as a user would).

The toy format is a CSV ``arch,task,valid_acc,test_acc`` of TransNAS-Bench-101 micro cells
(any registered space works the same; a new space is one more :data:`SPACES` entry). The
importer module is written to a temporary folder, as a user's own file would be, and the
yaml to a config folder Hydra searches besides ``experiments/``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from metanas.runner.shard_store import read_shards
from tabular_bench import importers
from tabular_bench.spaces import TRANSNAS_MICRO

CONFIG_DIR = Path(__file__).resolve().parents[1] / "experiments"

IMPORTER_MODULE = '''
"""Toy CSV importer: arch (official TransNAS micro string), task, valid_acc, test_acc."""
from pathlib import Path

import numpy as np
import pandas as pd

from tabular_bench.spaces import space_named
from tabular_bench.store import Provenance, Table, TaskData, file_sha256


def import_toy(path: str | Path) -> Table:
    path = Path(path)
    frame = pd.read_csv(path)
    space = space_named("transnas_micro")
    keys = np.unique(space.keys_from_strings(list(frame["arch"])))
    row = {k: i for i, k in enumerate(keys)}
    tasks = {}
    for task, part in frame.groupby("task"):
        values = np.full((keys.size, 1, 1, 2), np.nan, dtype=np.float32)
        rows = [row[k] for k in space.keys_from_strings(list(part["arch"]))]
        values[rows, 0, 0] = part[["valid_acc", "test_acc"]].to_numpy()
        tasks[task] = TaskData(values=values, metrics=("valid_acc", "test_acc"),
                               fidelities=(10,), cost_s=np.ones((keys.size, 1), np.float32),
                               measured=~np.isnan(values[:, 0, 0, 0]))
    return Table(space=space.name, codes=space.codes(keys),
                 strings=np.asarray(space.strings(keys)), indices=keys, tasks=tasks,
                 provenance=Provenance(path.name, file_sha256(path), "toy_csv"))
'''

BENCHMARK_YAML = """\
_target_: tabular_bench.loaders.imported
importer: toy-csv
path: {path}
completion: measured
cache_dir: {cache}
"""


def _toy_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    keys = rng.choice(TRANSNAS_MICRO.size, size=60, replace=False)
    rows = []
    for task in ("toy_a", "toy_b"):
        valid = rng.uniform(40, 90, size=keys.size)
        rows += [{"arch": a, "task": task, "valid_acc": v, "test_acc": v - 1.0}
                 for a, v in zip(TRANSNAS_MICRO.strings(keys), valid, strict=True)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_toy_benchmark_is_one_importer_one_entry_one_yaml(tmp_path: Path, monkeypatch) -> None:
    # 1. the importer module (the user's file)
    (tmp_path / "toy_csv.py").write_text(IMPORTER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    toy = importlib.import_module("toy_csv")
    # 2. one registry entry
    monkeypatch.setitem(importers.IMPORTERS, "toy-csv", toy.import_toy)
    # 3. one benchmark yaml
    configs = tmp_path / "configs" / "benchmark"
    configs.mkdir(parents=True)
    source = _toy_csv(tmp_path / "toy.csv")
    (configs / "toy.yaml").write_text(
        BENCHMARK_YAML.format(path=source, cache=tmp_path / "cache"))

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "experiment=nb201_tiny", "benchmark=toy", "strategies=[rs,rea,local_search]",
            f"hydra.searchpath=[file://{tmp_path / 'configs'}]"])
    # The search protocol names the toy's task and metrics (an experiment's choice).
    cfg.protocol = OmegaConf.create({"toy": {
        "signal": {"metric": "valid_acc", "fidelity": 10},
        "test": {"metric": "test_acc", "fidelity": 10},
        "settings": {"toy_a": {"search_task": "toy_a", "budget_s": 20}}}})
    job = instantiate(OmegaConf.to_container(cfg.job, resolve=True), progress=False)
    out = tmp_path / "run"
    job.run(out)

    traces = read_shards(out)
    assert set(traces["strategy"]) == {"rs", "rea", "local_search"}
    assert traces.groupby(["strategy", "run"]).size().max() <= 20  # 20 queries of cost 1
    # Every evaluated cell is one of the toy's 60 (the measured subset is the space).
    assert job.benchmark.space.size == 60 and traces["arch_index"].isin(
        toy.import_toy(source).indices).all()
    summary = pd.read_csv(out / "summary.csv")  # the search report ran on it too
    assert set(summary["strategy"]) == {"rs", "rea", "local_search"}
    sys.modules.pop("toy_csv", None)
