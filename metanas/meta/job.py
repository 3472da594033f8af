"""Meta-train a learned initialization on a task distribution, then meta-test it.

The runner (``python -m metanas.run experiment=omniglot_maml_5w1s``) instantiates
:class:`MetaTrainJob` from the experiment config and calls :meth:`MetaTrainJob.run`. The
job owns the one ``torch.Generator`` behind every episode and mini-batch; the loop of
:mod:`metanas.meta.training` checkpoints and resumes, so a run killed and started again
ends with the same parameters as one that was never interrupted. Files written to
``out_dir``:

* ``job_settings.json`` -- the settings that determine the result; a later run in the same
  folder with other settings is refused (:mod:`metanas.meta.run_settings`);
* ``checkpoint.pt`` -- the state to resume from;
* ``train_log.csv`` -- mean training query loss/accuracy per ``log_every`` iterations;
* ``curve.csv`` -- with ``eval_every`` set: accuracy (%) and its 95% interval on
  ``eval_episodes`` fixed held-out episodes of ``eval_split`` every ``eval_every``
  iterations, against iterations and training wall time (the learning curve);
* ``model.pt`` -- the final initialization;
* ``summary.csv`` -- one row: method, setting, test accuracy (%) and its 95% interval.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from common_io.atomic_io import atomic_write_text
from common_io.fingerprint import describe_call
from common_io.run_folder import RunFolder
from metanas.meta import checkpoint
from metanas.meta.device import device_name, resolve_device
from metanas.meta.learner import InitializationLearner
from metanas.meta.run_settings import pool_identity
from metanas.meta.stats import mean_ci95
from metanas.meta.training import CHECKPOINT_FILE, Schedule, csv_text, meta_train
from tasks.base import TaskDistribution
from tasks.episodes import EpisodeBatch, FewShotPool

SUMMARY_FILE = "summary.csv"
SUMMARY_COLUMNS = (
    "method", "setting", "transductive", "test_acc_mean", "test_acc_ci95", "episodes",
    "iterations", "meta_batch", "seed", "device", "wall_time_s",
)


class MetaTrainJob:
    """Meta-train ``learner`` on ``tasks``' meta-train split; meta-test on its test split.

    :param tasks: the task distribution (``experiments/tasks/*.yaml``).
    :param backbone: builds the network for a number of ways, e.g. ``omniglot_conv4``.
    :param learner: builds the meta-learner around the network (a ``_partial_`` MAML or
        Reptile from ``experiments/meta_learner/``).
    :param ways: classes per episode (N).
    :param shots: support samples per class at meta-test (K).
    :param train_shots: support samples per class in meta-training (default ``shots``;
        Reptile trains on 10).
    :param train_queries: query samples per class in meta-training (MAML: ``shots``;
        Reptile: 0, it has no query set).
    :param test_queries: query samples per class at meta-test.
    :param meta_batch: episodes per meta-iteration.
    :param iterations: meta-iterations.
    :param test_episodes: meta-test episodes (MAML reports 600).
    :param eval_batch: meta-test episodes evaluated in one ``vmap``.
    :param checkpoint_every: iterations between checkpoints.
    :param log_every: iterations averaged into one ``train_log.csv`` row.
    :param eval_every: iterations between learning-curve points (``None``: no curve).
    :param eval_episodes: held-out episodes per curve point (the same ones every time).
    :param eval_split: meta-split of the curve's episodes: ``val`` where the task
        distribution has one, or ``test`` (a report only: nothing is selected by it; the
        final result is always ``test_episodes`` meta-test episodes).
    :param seed: seeds the network's initialization, the episodes and the mini-batches.
    :param device: ``auto`` (CUDA when available), ``cpu`` or ``cuda[:i]``.
    :param threads: CPU threads for torch (``None``: torch's default).
    """

    def __init__(
        self,
        *,
        tasks: TaskDistribution,
        backbone: Callable[[int], nn.Module],
        learner: Callable[[nn.Module], InitializationLearner],
        ways: int,
        shots: int,
        train_shots: int | None = None,
        train_queries: int | None = None,
        test_queries: int = 1,
        meta_batch: int,
        iterations: int,
        test_episodes: int = 600,
        eval_batch: int = 100,
        checkpoint_every: int = 500,
        log_every: int = 100,
        eval_every: int | None = None,
        eval_episodes: int = 300,
        eval_split: str = "test",
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
    ) -> None:
        if min(meta_batch, test_episodes, eval_batch, eval_episodes) < 1:
            raise ValueError(
                "meta_batch, test_episodes, eval_batch and eval_episodes must be >= 1; got "
                f"{meta_batch}, {test_episodes}, {eval_batch}, {eval_episodes}"
            )
        self.schedule = Schedule(iterations, checkpoint_every, log_every, eval_every)
        self.tasks, self.threads, self.device_spec = tasks, threads, device
        self.ways, self.shots = ways, shots
        self.train_shots = shots if train_shots is None else train_shots
        self.train_queries = shots if train_queries is None else train_queries
        self.test_queries = test_queries
        self.meta_batch, self.iterations = meta_batch, iterations
        self.test_episodes, self.eval_batch = test_episodes, eval_batch
        self.eval_every, self.eval_episodes, self.eval_split = (
            eval_every, eval_episodes, eval_split)
        self.backbone_factory, self.learner_factory = backbone, learner
        self.seed = seed

    # Data, device and network are built on first use (prepare, run, or a caller such as
    # metanas.meta.l2l_parity), never in the constructor, which only validates.
    @functools.cached_property
    def device(self) -> torch.device:
        return resolve_device(self.device_spec)

    @functools.cached_property
    def train_pool(self) -> FewShotPool:
        pool = self.tasks.pool("train", device=self.device)
        pool.check(ways=self.ways, shots=self.train_shots, queries=self.train_queries)
        return pool

    @functools.cached_property
    def test_pool(self) -> FewShotPool:
        pool = self.tasks.pool("test", device=self.device)
        pool.check(ways=self.ways, shots=self.shots, queries=self.test_queries)
        return pool

    @functools.cached_property
    def curve_pool(self) -> FewShotPool | None:
        if self.eval_every is None:
            return None
        if self.eval_split == "test":
            return self.test_pool
        pool = self.tasks.pool(self.eval_split, device=self.device)
        pool.check(ways=self.ways, shots=self.shots, queries=self.test_queries)
        return pool

    @functools.cached_property
    def learner(self) -> InitializationLearner:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = self.backbone_factory(self.ways)
        return self.learner_factory(model.to(self.device))

    @property
    def setting(self) -> str:
        return f"{self.ways}w{self.shots}s"

    @functools.cached_property
    def settings(self) -> dict[str, Any]:
        """What determines the result (see :mod:`metanas.meta.run_settings`); device,
        threads and the checkpoint and log intervals may change between resumes."""
        return {
            "job": f"{type(self).__module__}.{type(self).__qualname__}",
            "data": {"train": pool_identity(self.train_pool),
                     "test": pool_identity(self.test_pool)},
            "backbone": describe_call(self.backbone_factory),
            "learner": describe_call(self.learner_factory),
            "ways": self.ways, "shots": self.shots, "train_shots": self.train_shots,
            "train_queries": self.train_queries, "test_queries": self.test_queries,
            "meta_batch": self.meta_batch, "iterations": self.iterations,
            "test_episodes": self.test_episodes, "eval_batch": self.eval_batch,
            "curve": None if self.curve_pool is None else {
                "every": self.eval_every, "episodes": self.eval_episodes,
                "data": pool_identity(self.curve_pool)},
            "seed": self.seed,
        }

    def prepare(self, out_dir: Path) -> bool:
        """Load the data, check the episode shapes and the folder's settings record.

        :return: True when ``out_dir`` holds this run finished.
        :raises EpisodeSizeError: if a split cannot serve the episode shape.
        :raises ValueError: if ``out_dir`` holds a run with other settings.
        """
        folder = RunFolder(out_dir, finished=SUMMARY_FILE)
        return folder.open(self.settings, outputs=(CHECKPOINT_FILE, SUMMARY_FILE))

    def run(self, out_dir: Path) -> None:
        """Train (resuming from ``out_dir/checkpoint.pt`` if present), then meta-test.

        :raises ValueError: if ``out_dir`` holds a run with other settings.
        """
        out_dir = Path(out_dir)
        if self.prepare(out_dir):
            return
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        rng = torch.Generator().manual_seed(self.seed)

        def next_batch() -> EpisodeBatch:
            return self.train_pool.sample(
                rng, meta_batch=self.meta_batch, ways=self.ways, shots=self.train_shots,
                queries=self.train_queries,
            )

        train_s = meta_train(
            out_dir, self.learner, next_batch, schedule=self.schedule, step_rng=rng,
            generators={"episodes": rng},
            evaluate=None if self.curve_pool is None else self._curve_point,
        )
        self._meta_test(out_dir, train_s)

    # -- meta-test -------------------------------------------------------------------------

    def evaluate(self) -> torch.Tensor:
        """Accuracy of each of ``test_episodes`` meta-test episodes.

        Its generator is seeded from ``seed`` alone, so every run and resume of a
        configuration is tested on the same episodes.
        """
        return self._episode_accuracies(self.test_pool, self.test_episodes, 1_000_003)

    def _curve_point(self) -> tuple[float, float]:
        """Accuracy (%) and 95% half-width on the curve's fixed episodes."""
        assert self.curve_pool is not None
        accuracies = self._episode_accuracies(self.curve_pool, self.eval_episodes, 2_000_003)
        return mean_ci95(accuracies.double() * 100)

    def _episode_accuracies(self, pool: FewShotPool, episodes: int, salt: int) -> torch.Tensor:
        # A generator of its own, so evaluating never moves the training generators.
        rng = torch.Generator().manual_seed(self.seed + salt)
        accuracies = []
        for start in range(0, episodes, self.eval_batch):
            batch = pool.sample(
                rng, meta_batch=min(self.eval_batch, episodes - start),
                ways=self.ways, shots=self.shots, queries=self.test_queries,
            )
            accuracies.append(self.learner.evaluate(batch, rng=rng).cpu())
        return torch.cat(accuracies)

    def _meta_test(self, out_dir: Path, train_time_s: float) -> None:
        started = time.perf_counter()
        mean, ci95 = mean_ci95(self.evaluate().double() * 100)
        checkpoint.save_atomic(self.learner.model.state_dict(), out_dir / "model.pt")
        values = (
            self.learner.name, self.setting, self.learner.transductive, round(mean, 3),
            round(ci95, 3), self.test_episodes, self.iterations, self.meta_batch, self.seed,
            device_name(self.device), round(train_time_s + time.perf_counter() - started, 1),
        )
        row = dict(zip(SUMMARY_COLUMNS, values, strict=True))
        atomic_write_text(out_dir / SUMMARY_FILE, csv_text([row]))
