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
    with pytest.raises(ValueError, match=r"different configuration \(differing: learner\.target: "):
        _job(synthetic_tasks, "reptile", iterations=2).run(tmp_path)
    # a changed hyper-parameter
    with pytest.raises(ValueError, match=r"learner\.kwargs\.test_steps: 3 before, 2 now;"):
        _job(synthetic_tasks, "maml", iterations=2,
             learner=partial(MAML, inner_lr=0.4, test_steps=2)).run(tmp_path)
    _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)  # finish the run
    # A finished run is no excuse either: its summary would be reported as the other one.
    with pytest.raises(ValueError, match=r"differing: seed: 0 before, 1 now;.*another out_dir="):
        _job(synthetic_tasks, "maml", iterations=2, seed=1).run(tmp_path)
    with pytest.raises(ValueError, match=r"differing: data\.test\.pixels_sha256: "):
        _job(type(synthetic_tasks)(seed=1), "maml", iterations=2).run(tmp_path)
    # What cannot change the result (beyond rounding) may change between resumes.
    _job(synthetic_tasks, "maml", iterations=2, log_every=1, checkpoint_every=1,
         threads=torch.get_num_threads()).run(tmp_path)


def test_outputs_without_a_settings_record_are_refused(synthetic_tasks, tmp_path) -> None:
    _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)
    (tmp_path / "job_settings.json").unlink()
    with pytest.raises(ValueError, match=r"checkpoint.pt, .*summary.csv exist but no job_settings"):
        _job(synthetic_tasks, "maml", iterations=2).run(tmp_path)


def test_episode_shape_the_split_cannot_serve_fails_before_training(
    synthetic_tasks, tmp_path
) -> None:
    with pytest.raises(EpisodeSizeError, match="ways=7"):
        _job(synthetic_tasks, "maml", ways=7).prepare(tmp_path / "out")
    with pytest.raises(EpisodeSizeError, match="shots \\+ queries"):
        _job(synthetic_tasks, "maml", shots=4, test_queries=3).run(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_constructor_only_validates(tmp_path) -> None:
    """Building the job loads no data and leaves torch's threads alone (run() does both)."""
    threads = torch.get_num_threads()

    class NoData:
        def pool(self, *args, **kwargs):
            raise AssertionError("data was loaded in the constructor")

    _job(NoData(), "maml", threads=threads + 1)
    assert torch.get_num_threads() == threads


FEWSHOT_METHODS = ("maml", "fomaml", "reptile")


def _parts(experiment: str) -> tuple[str, str, str]:
    """(dataset, method, setting) of ``<dataset>_<method>_<setting>[_cpu]``."""
    dataset, method, setting = experiment.removesuffix("_cpu").rsplit("_", 2)
    return dataset, method, setting


FEWSHOT_EXPERIMENTS = sorted(
    p.stem for p in (EXPERIMENTS / "experiment").glob("*_*_*.yaml")
    if p.stem.removesuffix("_cpu").count("_") >= 2
    and _parts(p.stem)[:2] in {(d, m) for d in ("omniglot", "cifar_fs", "fc100")
                               for m in FEWSHOT_METHODS}
)


@pytest.mark.parametrize("experiment", FEWSHOT_EXPERIMENTS)
def test_experiment_configs_compose_and_build_their_learner(experiment: str) -> None:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}"])
    job = cfg.job
    dataset, method, setting = _parts(experiment)
    assert job._target_ == "metanas.meta.job.MetaTrainJob"
    assert job.tasks._target_.startswith(
        "tasks.omniglot." if dataset == "omniglot" else "tasks.cifar.")
    learner = instantiate(job.learner)(instantiate(job.backbone)(job.ways))
    assert learner.name == method
    assert f"{job.ways}w{job.shots}s" == setting
    # A published number inherited from another protocol's config would be reported
    # beside the wrong run: each config names its own (or none).
    if cfg.published is not None:
        assert (cfg.published.method, cfg.published.dataset, cfg.published.setting) == (
            method, dataset, setting)
        assert 0 < cfg.published.acc <= 100 and cfg.published.source
    if experiment.endswith("_cpu"):
        assert cfg.published is None


def test_every_few_shot_method_has_its_configs() -> None:
    settings = {_parts(e) for e in FEWSHOT_EXPERIMENTS}
    for method in FEWSHOT_METHODS:
        for s in ("5w1s", "5w5s", "20w1s", "20w5s"):
            assert ("omniglot", method, s) in settings
        for dataset in ("cifar_fs", "fc100"):
            assert {(dataset, method, "5w1s"), (dataset, method, "5w5s")} <= settings


def test_log_is_complete_after_a_kill_between_final_checkpoint_and_log(
    synthetic_tasks, tmp_path, monkeypatch
) -> None:
    from metanas.meta import training

    write = training.atomic_write_text

    def dies_writing_the_final_log(path, text):
        if Path(path).name == training.LOG_FILE and "\n6," in text:
            raise _Killed  # the checkpoint at iteration 6 is on disk, its log is not
        write(path, text)

    monkeypatch.setattr(training, "atomic_write_text", dies_writing_the_final_log)
    with pytest.raises(_Killed):
        _job(synthetic_tasks, "maml").run(tmp_path)
    monkeypatch.setattr(training, "atomic_write_text", write)
    _job(synthetic_tasks, "maml").run(tmp_path)
    assert [r["iteration"] for r in _rows(tmp_path / "train_log.csv")] == ["2", "4", "6"]


@pytest.mark.parametrize("method", ["maml", "reptile"])
def test_curve_is_resumable_and_leaves_training_unchanged(synthetic_tasks, tmp_path, method):
    plain = _job(synthetic_tasks, method)
    plain.run(tmp_path / "plain")
    curved = dict(eval_every=3, eval_episodes=4)
    straight = _job(synthetic_tasks, method, **curved)
    straight.run(tmp_path / "straight")
    for name, p in plain.learner.model.named_parameters():
        assert torch.equal(p, dict(straight.learner.model.named_parameters())[name]), name
    rows = _rows(tmp_path / "straight" / "curve.csv")
    assert [r["iteration"] for r in rows] == ["0", "3", "6"]
    assert all(0 <= float(r["acc"]) <= 100 and float(r["ci95"]) >= 0 for r in rows)
    times = [float(r["train_time_s"]) for r in rows]
    assert times[0] < times[1] < times[2]

    killed = _job(synthetic_tasks, method, **curved)
    step, calls = killed.learner.meta_train_step, []

    def dies_at_fifth_iteration(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise _Killed
        return step(*args, **kwargs)

    killed.learner.meta_train_step = dies_at_fifth_iteration
    with pytest.raises(_Killed):
        killed.run(tmp_path / "resumed")
    assert [r["iteration"] for r in _rows(tmp_path / "resumed" / "curve.csv")] == ["0", "3"]
    _job(synthetic_tasks, method, **curved).run(tmp_path / "resumed")
    resumed = _rows(tmp_path / "resumed" / "curve.csv")
    assert [(r["iteration"], r["acc"], r["ci95"]) for r in resumed] == [
        (r["iteration"], r["acc"], r["ci95"]) for r in rows]


def test_curve_on_a_missing_split_fails_before_training(synthetic_tasks, tmp_path) -> None:
    with pytest.raises(KeyError, match=r"no meta-split .val."):
        _job(synthetic_tasks, "maml", eval_every=2, eval_split="val").prepare(tmp_path / "o")
    assert not (tmp_path / "o").exists()
