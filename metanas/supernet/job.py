"""The few-shot meta-NAS job: meta-train a supernet's (alpha, w), then meta-test it.

``python -m metanas.run experiment=omniglot_metanas_tnas_5w1s`` instantiates
:class:`FewShotNASJob` and calls :meth:`FewShotNASJob.run`. The output folder holds

* ``checkpoint.pt`` -- model, outer optimiser, generators and iteration (written every
  ``checkpoint_every`` iterations; the same command resumes from it after a kill);
* ``train_log.csv`` -- training loss/accuracy per logged iteration;
* ``episodes.csv`` -- one row per meta-test episode: supernet and derived-cell query
  accuracy, the derived NB201 cell and its NB201 test accuracies;
* ``summary.json`` -- the row :mod:`metanas.supernet.summary` puts in
  ``results/metanas/fewshot_summary.csv``.
"""

from __future__ import annotations

import csv
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from metanas.meta import checkpoint
from metanas.meta.job import mean_ci95
from metanas.supernet.evaluation import (
    NB201_DATASETS,
    EpisodeResults,
    cell_diversity,
    evaluate_episodes,
    nb201_test_accuracy,
)
from metanas.supernet.meta_learners import SupernetMetaLearner
from metanas.supernet.network import SuperNet, derive_codes
from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces.nb201 import NB201
from tasks.base import TaskDistribution

CHECKPOINT = "checkpoint.pt"


class FewShotNASJob:
    """Meta-train (alpha, w) on meta-train episodes, evaluate on meta-test episodes.

    :param tasks: the task distribution (its ``train`` and ``test`` pools are used).
    :param learner: builds the meta-learner from the supernet (a Hydra ``_partial_``).
    :param benchmark: builds the NB201 table for the look-up (called after training).
    :param ways, shots, queries: episode shape; meta-training uses the same shape.
    :param meta_batch: episodes per meta-iteration.
    :param iterations: meta-iterations.
    :param test_episodes: meta-test episodes (drawn from their own seeded stream, so every
        method with the same ``seed`` sees the same episodes).
    :param test_batch: meta-test episodes evaluated at once.
    :param channels, cells_per_stage, stem_stride: supernet size (see :class:`SuperNet`).
    :param seed: seeds the supernet, the training stream and the test stream.
    :param checkpoint_every: iterations between checkpoints.
    :param log_every: iterations between ``train_log.csv`` rows.
    :param threads: torch CPU threads (``0``: leave torch's default).
    """

    def __init__(
        self, *, tasks: TaskDistribution,
        learner: Callable[[SuperNet], SupernetMetaLearner],
        benchmark: Callable[[], Benchmark],
        ways: int = 5, shots: int = 1, queries: int = 5, meta_batch: int = 5,
        iterations: int = 100, test_episodes: int = 100, test_batch: int = 10,
        channels: int = 8, cells_per_stage: int = 1, stem_stride: int = 2, seed: int = 0,
        checkpoint_every: int = 25, log_every: int = 5, threads: int = 0,
    ) -> None:
        if min(iterations, test_episodes, test_batch, meta_batch, checkpoint_every,
               log_every) < 1:
            raise ValueError(
                "iterations, test_episodes, test_batch, meta_batch, checkpoint_every and "
                "log_every must all be >= 1"
            )
        self.pools = tasks.pools()
        for split in ("train", "test"):
            if split not in self.pools:
                raise KeyError(f"the task distribution has no {split!r} meta-split")
            self.pools[split].check(ways=ways, shots=shots, queries=queries)
        self.learner_factory, self.benchmark_factory = learner, benchmark
        self.ways, self.shots, self.queries = ways, shots, queries
        self.meta_batch, self.iterations = meta_batch, iterations
        self.test_episodes, self.test_batch = test_episodes, test_batch
        self.net_kwargs = {"channels": channels, "cells_per_stage": cells_per_stage,
                               "stem_stride": stem_stride}
        self.seed, self.checkpoint_every, self.log_every = seed, checkpoint_every, log_every
        self.threads = threads

    @property
    def setting(self) -> str:
        return f"{self.ways}w{self.shots}s"

    def build(self) -> SupernetMetaLearner:
        in_channels = self.pools["train"].image_shape[0]
        model = SuperNet(num_classes=self.ways, in_channels=in_channels,
                         generator=torch.Generator().manual_seed(self.seed), **self.net_kwargs)
        return self.learner_factory(model)

    # -- run ------------------------------------------------------------------------------
    def run(self, out_dir: Path) -> None:
        """Train (resuming from ``checkpoint.pt`` if present), then meta-test and summarise."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if self.threads:
            torch.set_num_threads(self.threads)
        learner = self.build()
        rng = np.random.default_rng([self.seed, 0])
        start, train_s = self._resume(out_dir, learner, rng)
        train_s = self._train(out_dir, learner, rng, start, train_s)
        tic = time.perf_counter()
        results = self._meta_test(learner)
        test_s = time.perf_counter() - tic
        self._write_results(out_dir, learner, results, train_s, test_s)

    def _train(
        self, out_dir: Path, learner: SupernetMetaLearner, rng: np.random.Generator,
        start: int, train_s: float,
    ) -> float:
        log = out_dir / "train_log.csv"
        tic = time.perf_counter() - train_s
        for it in range(start, self.iterations):
            batch = self.pools["train"].sample(
                rng, meta_batch=self.meta_batch, ways=self.ways, shots=self.shots,
                queries=self.queries,
            )
            metrics = learner.meta_train_step(batch, progress=it / self.iterations, rng=None)
            if it % self.log_every == 0 or it + 1 == self.iterations:
                _append_row(log, {"iteration": it, "loss": metrics.loss,
                                  "accuracy": metrics.accuracy,
                                  "wall_s": round(time.perf_counter() - tic, 2)})
            if (it + 1) % self.checkpoint_every == 0 or it + 1 == self.iterations:
                self._save(out_dir, learner, rng, it + 1, time.perf_counter() - tic)
        return time.perf_counter() - tic

    def _meta_test(self, learner: SupernetMetaLearner) -> EpisodeResults:
        rng = np.random.default_rng([self.seed, 1])
        parts = []
        for first in range(0, self.test_episodes, self.test_batch):
            batch = self.pools["test"].sample(
                rng, meta_batch=min(self.test_batch, self.test_episodes - first),
                ways=self.ways, shots=self.shots, queries=self.queries,
            )
            parts.append(evaluate_episodes(learner, batch))
        return EpisodeResults(*(np.concatenate(x) for x in zip(
            *((p.supernet_acc, p.derived_acc, p.codes) for p in parts), strict=True)))

    # -- checkpoints ------------------------------------------------------------------------
    def _save(self, out_dir: Path, learner: SupernetMetaLearner, rng: np.random.Generator,
              iteration: int, train_s: float) -> None:
        state = {"iteration": iteration, "train_s": train_s,
                 "model": learner.model.state_dict(), "learner": learner.state_dict(),
                 "rng": rng.bit_generator.state}
        checkpoint.save_atomic(state, out_dir / CHECKPOINT)

    def _resume(self, out_dir: Path, learner: SupernetMetaLearner,
                rng: np.random.Generator) -> tuple[int, float]:
        path = out_dir / CHECKPOINT
        if not path.exists():
            return 0, 0.0
        state = checkpoint.load(path)
        learner.model.load_state_dict(state["model"])
        learner.load_state_dict(state["learner"])
        rng.bit_generator.state = state["rng"]
        return int(state["iteration"]), float(state["train_s"])

    # -- outputs ----------------------------------------------------------------------------
    def _write_results(self, out_dir: Path, learner: SupernetMetaLearner,
                       results: EpisodeResults, train_s: float, test_s: float) -> None:
        nb201 = nb201_test_accuracy(self.benchmark_factory(), results.codes)
        archs = [NB201.to_string(c) for c in results.codes]
        with open(out_dir / "episodes.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["episode", "supernet_acc", "derived_acc", "arch",
                             *(f"nb201_{d}_test" for d in NB201_DATASETS)])
            for i, arch in enumerate(archs):
                writer.writerow([i, results.supernet_acc[i], results.derived_acc[i], arch,
                                 *(nb201[d][i] for d in NB201_DATASETS)])
        modal, modal_count = max(((a, archs.count(a)) for a in set(archs)), key=lambda t: t[1])
        summary = {
            "method": learner.name,
            "setting": self.setting,
            **dict(zip(("supernet_acc_mean", "supernet_acc_ci95"),
                       mean_ci95(torch.from_numpy(results.supernet_acc)), strict=True)),
            **dict(zip(("derived_acc_mean", "derived_acc_ci95"),
                       mean_ci95(torch.from_numpy(results.derived_acc)), strict=True)),
            **{f"derived_nb201_{d.lower().replace('-', '_')}_test_mean": float(nb201[d].mean())
               for d in NB201_DATASETS},
            **cell_diversity(results.codes),
            "modal_cell": modal,
            "modal_cell_share": modal_count / len(archs),
            "meta_alpha_cell": NB201.to_string(derive_codes(learner.model.alpha).numpy()),
            "episodes": len(archs),
            "iterations": self.iterations,
            "meta_batch": self.meta_batch,
            "test_steps": learner.test_steps,
            "channels": self.net_kwargs["channels"],
            "device": f"cpu ({platform.processor() or platform.machine()}, "
                      f"{torch.get_num_threads()} threads)",
            "train_wall_s": round(train_s, 1),
            "test_wall_s": round(test_s, 1),
            "wall_time_s": round(train_s + test_s, 1),
            "seed": self.seed,
        }
        checkpoint.write_text_atomic(json.dumps(summary, indent=2) + "\n",
                                     out_dir / "summary.json")


def _append_row(path: Path, row: dict[str, float]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
