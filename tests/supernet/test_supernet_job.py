"""The job: checkpoints, resume after a kill, outputs; and a short real-Omniglot run."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import torch

from metanas.supernet.job import CHECKPOINT, FewShotNASJob
from metanas.supernet.meta_learners import TNASMaml
from tasks.errors import EpisodeSizeError


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


def _killed_after(calls: int):
    """A learner factory whose learner dies on meta-step ``calls + 1``."""
    def factory(model):
        learner = TNASMaml(model, test_steps=1)
        step, count = learner.meta_train_step, [0]

        def dying_step(*args, **kwargs):
            count[0] += 1
            if count[0] > calls:
                raise Killed
            return step(*args, **kwargs)

        learner.meta_train_step = dying_step
        return learner
    return factory


@pytest.mark.slow  # three short jobs: ~10-30 s on 2 cores (functorch per-op overhead)
def test_resume_after_kill_gives_the_uninterrupted_result(
    tiny_tasks, constant_table, tmp_path: Path
) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _job(tiny_tasks, constant_table).run(straight)
    with pytest.raises(Killed):
        _job(tiny_tasks, constant_table, learner=_killed_after(2)).run(resumed)
    assert torch.load(resumed / CHECKPOINT, weights_only=False)["iteration"] == 2
    _job(tiny_tasks, constant_table).run(resumed)
    a = torch.load(straight / CHECKPOINT, weights_only=False)
    b = torch.load(resumed / CHECKPOINT, weights_only=False)
    assert a["iteration"] == b["iteration"] == 3
    for name in a["model"]:
        torch.testing.assert_close(a["model"][name], b["model"][name], rtol=0, atol=0)
    summary = json.loads((straight / "summary.json").read_text())
    assert summary["method"] == "tnas_maml" and summary["setting"] == "3w1s"
    assert summary["derived_nb201_cifar10_test_mean"] == 50.0 and summary["episodes"] == 2
    assert len((straight / "episodes.csv").read_text().splitlines()) == 3
    assert len((straight / "train_log.csv").read_text().splitlines()) == 4
    keep = ("supernet_acc_mean", "derived_acc_mean", "modal_cell", "distinct_cells_share")
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (straight, resumed))
    assert {k: sa[k] for k in keep} == {k: sb[k] for k in keep}


def test_impossible_episode_shape_fails_before_work(tiny_tasks, constant_table) -> None:
    with pytest.raises(EpisodeSizeError, match="shots"):
        _job(tiny_tasks, constant_table, shots=5, queries=5)


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
    assert 0 < summary["derived_nb201_cifar10_test_mean"] < 100
