"""The job: settings, checkpoints, resume after a kill, outputs, configs; a short real run."""

from __future__ import annotations

import csv
import functools
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from metanas.meta import checkpoint
from metanas.meta.training import CHECKPOINT_FILE
from metanas.supernet.evaluation import nb201_test_accuracy
from metanas.supernet.job import FewShotNASJob
from metanas.supernet.meta_learners import TNASMaml
from metanas.supernet.network import SuperNet
from metanas.supernet.summary import collect
from tabular_bench.spaces import TRANSNAS_MICRO
from tasks.errors import EpisodeSizeError

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


class Killed(RuntimeError):
    pass


def _job(tasks, table, learner=None, **kwargs) -> FewShotNASJob:
    settings = {"ways": 3, "shots": 1, "queries": 2, "meta_batch": 2, "iterations": 3,
                "test_episodes": 2, "test_batch": 2, "channels": 2, "checkpoint_every": 2,
                "log_every": 1}
    settings.update(kwargs)
    return FewShotNASJob(
        tasks=tasks, learner=learner or functools.partial(TNASMaml, test_steps=1),
        benchmark=table, **settings,
    )


@contextmanager
def _dies_after(calls: int) -> Iterator[None]:
    """T-NAS's meta-step raises on call ``calls + 1``; the job's settings stay the same."""
    step, count = TNASMaml.meta_train_step, [0]

    def dying_step(self, *args, **kwargs):
        count[0] += 1
        if count[0] > calls:
            raise Killed
        return step(self, *args, **kwargs)

    TNASMaml.meta_train_step = dying_step
    try:
        yield
    finally:
        TNASMaml.meta_train_step = step


def _log(path: Path) -> list[tuple[str, str, str]]:
    with path.open() as f:
        return [(r["iteration"], r["train_loss"], r["train_acc"]) for r in csv.DictReader(f)]


@pytest.mark.slow  # three short jobs: ~10-60 s on 2 cores (functorch per-op overhead)
def test_resume_after_kill_gives_the_uninterrupted_result(
    tiny_tasks, constant_table, tmp_path: Path
) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _job(tiny_tasks, constant_table).run(straight)
    with _dies_after(2), pytest.raises(Killed):  # in iteration 3, after logging 1 and 2
        _job(tiny_tasks, constant_table).run(resumed)
    assert checkpoint.load(resumed / CHECKPOINT_FILE)["iteration"] == 2
    assert [r[0] for r in _log(resumed / "train_log.csv")] == ["1", "2"]
    _job(tiny_tasks, constant_table).run(resumed)
    a = checkpoint.load(straight / CHECKPOINT_FILE)
    b = checkpoint.load(resumed / CHECKPOINT_FILE)
    assert a["iteration"] == b["iteration"] == 3
    for name in a["model"]:
        torch.testing.assert_close(a["model"][name], b["model"][name], rtol=0, atol=0)
    # The log is rewritten from the checkpoint: no row twice, the same rows as straight.
    assert _log(resumed / "train_log.csv") == _log(straight / "train_log.csv")
    assert [r[0] for r in _log(straight / "train_log.csv")] == ["1", "2", "3"]
    summary = json.loads((straight / "summary.json").read_text())
    assert summary["method"] == "tnas_maml" and summary["setting"] == "3w1s"
    assert summary["derived_nb201_cifar10_test_mean"] == 50.0 and summary["episodes"] == 2
    assert summary["device"].startswith("cpu (")
    assert len((straight / "episodes.csv").read_text().splitlines()) == 3
    keep = ("supernet_acc_mean", "derived_acc_mean", "modal_cell", "distinct_cells_share")
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (straight, resumed))
    assert {k: sa[k] for k in keep} == {k: sb[k] for k in keep}
    # The collected row recomputes the statistics from episodes.csv, as the job did.
    row = collect([straight]).iloc[0]
    for key in ("supernet_acc_mean", "supernet_acc_ci95", "derived_acc_ci95", "modal_cell"):
        assert row[key] == sa[key], key


def test_other_settings_in_the_same_folder_are_refused_before_work(
    tiny_tasks, constant_table, tmp_path: Path
) -> None:
    with _dies_after(0), pytest.raises(Killed):  # records its settings, dies in step 1
        _job(tiny_tasks, constant_table).run(tmp_path)
    with pytest.raises(ValueError, match=r"differing: seed: 0 before, 1 now;.*another out_dir="):
        _job(tiny_tasks, constant_table, seed=1).run(tmp_path)
    with pytest.raises(ValueError, match=r"differing: channels: 2 before, 3 now; learner\."):
        _job(tiny_tasks, constant_table, channels=3,
             learner=functools.partial(TNASMaml, test_steps=2)).run(tmp_path)
    with _dies_after(0), pytest.raises(Killed):  # intervals, threads, device may change
        _job(tiny_tasks, constant_table, log_every=2, checkpoint_every=1,
             threads=torch.get_num_threads(), device="cpu").run(tmp_path)


def test_impossible_episode_shape_fails_before_work(tiny_tasks, constant_table, tmp_path) -> None:
    with pytest.raises(EpisodeSizeError, match="shots"):
        _job(tiny_tasks, constant_table, shots=5, queries=5).prepare(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_device_and_table_fail_before_work(tiny_tasks, constant_table, tmp_path) -> None:
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device=cpu or auto"):
            _job(tiny_tasks, constant_table, device="cuda").prepare(tmp_path / "out")

    def missing_table():
        raise FileNotFoundError("no NAS-Bench-201 table at /nowhere")

    with pytest.raises(FileNotFoundError, match="/nowhere"):
        _job(tiny_tasks, missing_table).run(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_constructor_only_validates(tiny_tasks, tmp_path) -> None:
    """Building the job loads no data, builds no table and leaves torch's threads alone."""
    threads = torch.get_num_threads()

    def no_table():
        raise AssertionError("the table was built in the constructor")

    class NoData:
        def pool(self, *args, **kwargs):
            raise AssertionError("data was loaded in the constructor")

    _job(NoData(), no_table, threads=threads + 1)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("experiment", sorted(
    p.stem for p in (EXPERIMENTS / "experiment").glob("omniglot_metanas_*.yaml")
))
def test_experiment_configs_name_job_arguments_and_build_their_learner(experiment: str) -> None:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}"])
    job = cfg.job
    assert job._target_ == "metanas.supernet.job.FewShotNASJob"
    assert set(job) - {"_target_"} <= set(inspect.signature(FewShotNASJob).parameters)
    net = SuperNet(channels=2, num_classes=job.ways, generator=torch.Generator().manual_seed(0))
    learner = instantiate(job.learner)(net)
    method, setting = experiment.split("_")[2:4]
    assert learner.name == {"tnas": "tnas_maml", "reptile": "metanas_reptile"}[method]
    assert f"{job.ways}w{job.shots}s" == setting


@pytest.mark.slow
def test_short_real_omniglot_run_beats_chance(real_data: Path, tmp_path: Path) -> None:
    from tabular_bench.loaders import nb201
    from tasks.omniglot import OmniglotRandomSplit

    job = FewShotNASJob(
        tasks=OmniglotRandomSplit(real_data / "omniglot"),
        learner=functools.partial(TNASMaml, outer_lr_weights=3e-3, outer_lr_alpha=3e-3),
        benchmark=nb201, ways=5, shots=1, queries=5, meta_batch=4, iterations=15,
        test_episodes=10, test_batch=10, channels=8, checkpoint_every=15, log_every=5,
    )
    job.run(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    # chance is 20%; 10 episodes x 25 queries put its 95% band below 25%
    assert summary["supernet_acc_mean"] > 35.0, summary
    assert summary["derived_acc_mean"] > 30.0, summary
    # Each derived cell's NB201 accuracy is the published table's row of that cell.
    episodes = pd.read_csv(tmp_path / "episodes.csv")
    table = pd.read_csv(real_data / "nb201" / "nb201_all.csv.gz", index_col="arch")
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        expected = table.loc[episodes["arch"], f"{dataset}/test_acc_200"].to_numpy()
        np.testing.assert_allclose(episodes[f"nb201_{dataset}_test"], expected, atol=1e-3)
    assert summary["derived_nb201_cifar10_test_mean"] == pytest.approx(
        table.loc[episodes["arch"], "cifar10/test_acc_200"].mean(), abs=1e-3)


def test_transnas_micro_job_writes_micro_cells_without_nb201_lookup(tiny_tasks, tmp_path) -> None:
    job = _job(tiny_tasks, None, space="transnas_micro", iterations=1, checkpoint_every=1)
    assert job.settings["space"] == "transnas_micro"
    job.run(tmp_path)
    episodes = pd.read_csv(tmp_path / "episodes.csv")
    assert list(episodes.columns) == ["episode", "supernet_acc", "derived_acc", "arch"]
    codes = [TRANSNAS_MICRO.from_string(a) for a in episodes["arch"]]  # official strings
    assert all(TRANSNAS_MICRO.to_string(c) == a for c, a in zip(codes, episodes["arch"]))
    row = collect([tmp_path]).iloc[0]
    assert row["space"] == "transnas_micro" and row["episodes"] == 2
    assert not any(c.startswith("derived_nb201") for c in row.index)


def test_space_choices_that_cannot_work_are_refused_at_construction(
    tiny_tasks, constant_table
) -> None:
    assert "space" not in _job(tiny_tasks, constant_table).settings  # NB201 folders resume
    with pytest.raises(ValueError, match=r"NB201 table look-up .* 'transnas_micro'"):
        _job(tiny_tasks, constant_table, space="transnas_micro")
    with pytest.raises(ValueError, match=r"NB201 table look-up .* 'transnas_micro'"):
        nb201_test_accuracy(constant_table(), np.ones((2, 6), dtype=int), TRANSNAS_MICRO)
    with pytest.raises(ValueError, match="CellSearchSpace with a cell DAG"):
        _job(tiny_tasks, None, space="transnas_macro")
    with pytest.raises(KeyError, match="unknown search space 'nb101'"):
        _job(tiny_tasks, None, space="nb101")
