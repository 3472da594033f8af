"""MetaTrainJob: outputs, resume after a kill, bad input before training, configs."""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from metanas.meta.backbones import omniglot_conv4
from metanas.meta.job import SUMMARY_COLUMNS, MetaTrainJob
from metanas.meta.maml import MAML
from metanas.meta.reptile import Reptile
from tasks.errors import EpisodeSizeError

LEARNERS = {
    "maml": partial(MAML, inner_lr=0.4),
    "reptile": partial(Reptile, inner_steps=2, inner_batch=3, test_steps=2, test_batch=3),
}
EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def _job(tasks, method: str, **overrides) -> MetaTrainJob:
    settings = {
        "tasks": tasks, "backbone": partial(omniglot_conv4, hidden=8),
        "learner": LEARNERS[method], "ways": 3, "shots": 1,
        "train_queries": 1 if method == "maml" else 0, "test_queries": 2, "meta_batch": 2,
        "iterations": 6, "test_episodes": 5, "eval_batch": 3, "checkpoint_every": 2,
        "log_every": 2, "seed": 0, "device": "cpu",
    }
    return MetaTrainJob(**(settings | overrides))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_run_writes_summary_log_and_model(synthetic_tasks, tmp_path: Path) -> None:
    _job(synthetic_tasks, "maml").run(tmp_path)
    [row] = _rows(tmp_path / "summary.csv")
    assert tuple(row) == SUMMARY_COLUMNS
    assert (row["method"], row["setting"], row["episodes"], row["iterations"]) == (
        "maml", "3w1s", "5", "6")
    assert 0 <= float(row["test_acc_mean"]) <= 100 and float(row["test_acc_ci95"]) >= 0
    assert [r["iteration"] for r in _rows(tmp_path / "train_log.csv")] == ["2", "4", "6"]
    assert set(torch.load(tmp_path / "model.pt")) == {
        n for n, _ in omniglot_conv4(3, hidden=8).named_parameters()}


class _Killed(Exception):
    pass


def _log(path: Path) -> list[tuple[str, str, str]]:
    return [(r["iteration"], r["train_loss"], r["train_acc"]) for r in _rows(path)]


@pytest.mark.parametrize("method", ["maml", "reptile"])
def test_resume_after_kill_matches_uninterrupted_run(synthetic_tasks, tmp_path, method) -> None:
    # Logging every 3 iterations, checkpoints every 2: the kill after iteration 4 leaves
    # iteration 4 in an unfinished log window, which the resumed run must still average.
    straight = _job(synthetic_tasks, method, log_every=3)
    straight.run(tmp_path / "straight")

    killed = _job(synthetic_tasks, method, log_every=3)
    step = killed.learner.meta_train_step
    calls = []

    def dies_at_fifth_iteration(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # after the checkpoint at iteration 4, before the next
            raise _Killed
        return step(*args, **kwargs)

    killed.learner.meta_train_step = dies_at_fifth_iteration
    with pytest.raises(_Killed):
        killed.run(tmp_path / "resumed")
    assert not (tmp_path / "resumed" / "summary.csv").exists()
    assert [r[0] for r in _log(tmp_path / "resumed" / "train_log.csv")] == ["3"]

    resumed = _job(synthetic_tasks, method, log_every=3)
    resumed.run(tmp_path / "resumed")
    for name, p in straight.learner.model.named_parameters():
        assert torch.equal(p, dict(resumed.learner.model.named_parameters())[name]), name
    keys = ("test_acc_mean", "test_acc_ci95")
    summaries = [_rows(tmp_path / d / "summary.csv")[0] for d in ("straight", "resumed")]
    assert {k: summaries[0][k] for k in keys} == {k: summaries[1][k] for k in keys}
    logs = [_log(tmp_path / d / "train_log.csv") for d in ("straight", "resumed")]
    assert [r[0] for r in logs[0]] == ["3", "6"] and logs[0] == logs[1]


def test_other_settings_in_the_same_folder_are_refused(synthetic_tasks, tmp_path) -> None:
    _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)
    (tmp_path / "summary.csv").unlink()  # a checkpoint is left: the next run would resume
    with pytest.raises(ValueError, match="other settings \\(differing: learner, train_queries;"):
        _job(synthetic_tasks, "reptile", iterations=2).run(tmp_path)
    with pytest.raises(ValueError, match="differing: learner;"):  # a changed hyper-parameter
        _job(synthetic_tasks, "maml", iterations=2,
             learner=partial(MAML, inner_lr=0.4, test_steps=2)).run(tmp_path)
    _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)  # finish the run
    # A finished run is no excuse either: its summary would be reported as the other one.
    with pytest.raises(ValueError, match="differing: seed;.*another out_dir="):
        _job(synthetic_tasks, "maml", iterations=2, seed=1).run(tmp_path)
    with pytest.raises(ValueError, match="differing: data;"):
        _job(type(synthetic_tasks)(seed=1), "maml", iterations=2).run(tmp_path)
    # What cannot change the result (beyond rounding) may change between resumes.
    _job(synthetic_tasks, "maml", iterations=2, log_every=1, checkpoint_every=1,
         threads=torch.get_num_threads()).run(tmp_path)


def test_outputs_without_a_settings_record_are_refused(synthetic_tasks, tmp_path) -> None:
    _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)
    (tmp_path / "job_settings.json").unlink()
    with pytest.raises(ValueError, match="checkpoint.pt, summary.csv but no job_settings.json"):
        _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)


def test_episode_shape_the_split_cannot_serve_fails_before_training(synthetic_tasks) -> None:
    with pytest.raises(EpisodeSizeError, match="ways=7"):
        _job(synthetic_tasks, "maml", ways=7)
    with pytest.raises(EpisodeSizeError, match="shots \\+ queries"):
        _job(synthetic_tasks, "maml", shots=4, test_queries=3)


@pytest.mark.parametrize("experiment", sorted(
    p.stem for p in (EXPERIMENTS / "experiment").glob("omniglot_*.yaml")
    if p.stem.split("_")[1] in ("maml", "fomaml", "reptile")
))
def test_experiment_configs_compose_and_build_their_learner(experiment: str) -> None:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}"])
    job = cfg.job
    assert job._target_ == "metanas.meta.job.MetaTrainJob"
    assert job.tasks._target_.startswith("tasks.omniglot.")
    learner = instantiate(job.learner)(instantiate(job.backbone)(job.ways))
    method, setting = experiment.split("_")[1:3]
    assert learner.name == method
    assert f"{job.ways}w{job.shots}s" == setting
