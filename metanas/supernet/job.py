"""The few-shot meta-NAS job: meta-train a supernet's (alpha, w), then meta-test it.

``python -m metanas.run experiment=omniglot_metanas_tnas_5w1s`` instantiates
:class:`FewShotNASJob` and calls :meth:`FewShotNASJob.run`. Meta-training is the loop of
:mod:`metanas.meta.training` that MAML and Reptile use too. The output folder holds

* ``job_settings.json`` -- the settings that determine the result; a later run in the same
  folder with other settings is refused (:mod:`metanas.meta.run_settings`);
* ``checkpoint.pt`` -- model, outer optimiser, generators, iteration and log (written every
  ``checkpoint_every`` iterations; the same command resumes from it after a kill);
* ``train_log.csv`` -- mean training loss/accuracy per ``log_every`` iterations;
* ``episodes.csv`` -- one row per meta-test episode: supernet and derived-cell query
  accuracy, the derived cell (the space's string) and, for NB201 with a benchmark, its
  NB201 test accuracies;
* ``summary.json`` -- the row :mod:`metanas.supernet.summary` puts in
  ``results/metanas/fewshot_summary.csv``.
"""

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from common_io.atomic_io import atomic_write_text
from common_io.fingerprint import describe_call, fingerprint
from common_io.run_folder import RunFolder
from metanas.meta.device import device_name, resolve_device
from metanas.meta.run_settings import pool_identity
from metanas.meta.training import CHECKPOINT_FILE, Schedule, csv_text, meta_train
from metanas.supernet.evaluation import (
    EpisodeResults,
    evaluate_episodes,
    nb201_test_accuracy,
    require_nb201,
)
from metanas.supernet.meta_learners import SupernetMetaLearner
from metanas.supernet.network import SuperNet, derive_codes
from metanas.supernet.summary import EPISODES_FILE, SUMMARY_FILE, episode_summary
from tabular_bench.benchmark import Benchmark
from tabular_bench.models.ops import cell_space_edges
from tabular_bench.spaces import NB201, space_named
from tasks.base import TaskDistribution
from tasks.episodes import EpisodeBatch, FewShotPool

TRAIN_STREAM, TEST_STREAM = 0, 1  # numpy seed sequences [seed, stream] of the episodes


class FewShotNASJob:
    """Meta-train (alpha, w) on meta-train episodes, evaluate on meta-test episodes.

    :param tasks: the task distribution (its ``train`` and ``test`` pools are used).
    :param learner: builds the meta-learner from the supernet (a Hydra ``_partial_``).
    :param benchmark: builds the NB201 table for the look-up (called before training, so
        that a missing table fails early); ``None``: no look-up (required for a space
        other than NB201).
    :param ways, shots, queries: episode shape; meta-training uses the same shape.
    :param meta_batch: episodes per meta-iteration.
    :param iterations: meta-iterations.
    :param test_episodes: meta-test episodes (drawn from their own seeded stream, so every
        method with the same ``seed`` sees the same episodes).
    :param test_batch: meta-test episodes evaluated at once.
    :param channels, cells_per_stage, stem_stride: supernet size (see :class:`SuperNet`).
    :param space: registered name of the cell space searched (a
        :class:`~tabular_bench.spaces.cell.CellSearchSpace` with a DAG).
    :param seed: seeds the supernet, the training stream and the test stream.
    :param checkpoint_every: iterations between checkpoints.
    :param log_every: iterations averaged into one ``train_log.csv`` row.
    :param device: ``auto`` (CUDA when available), ``cpu`` or ``cuda[:i]``.
    :param threads: torch CPU threads (``0``: leave torch's default).
    """

    def __init__(
        self, *, tasks: TaskDistribution,
        learner: Callable[[SuperNet], SupernetMetaLearner],
        benchmark: Callable[[], Benchmark] | None,
        ways: int = 5, shots: int = 1, queries: int = 5, meta_batch: int = 5,
        iterations: int = 100, test_episodes: int = 100, test_batch: int = 10,
        channels: int = 8, cells_per_stage: int = 1, stem_stride: int = 2,
        space: str = NB201.name, seed: int = 0,
        checkpoint_every: int = 25, log_every: int = 5, device: str = "auto", threads: int = 0,
    ) -> None:
        if min(test_episodes, test_batch, meta_batch) < 1:
            raise ValueError(
                "test_episodes, test_batch and meta_batch must all be >= 1; got "
                f"{test_episodes}, {test_batch}, {meta_batch}"
            )
        self.space = space_named(space)
        cell_space_edges(self.space)  # a space no supernet can be built over fails here
        if benchmark is not None:
            require_nb201(self.space)
        self.schedule = Schedule(iterations, checkpoint_every, log_every)
        self.tasks, self.device_spec = tasks, device
        self.learner_factory, self.benchmark_factory = learner, benchmark
        self.ways, self.shots, self.queries = ways, shots, queries
        self.meta_batch, self.iterations = meta_batch, iterations
        self.test_episodes, self.test_batch = test_episodes, test_batch
        self.net_kwargs = {"channels": channels, "cells_per_stage": cells_per_stage,
                           "stem_stride": stem_stride}
        self.seed, self.threads = seed, threads

    # Device, data and table are built on first use (prepare or run), never in the
    # constructor, which only validates.
    @functools.cached_property
    def device(self) -> torch.device:
        return resolve_device(self.device_spec)

    @functools.cached_property
    def pools(self) -> dict[str, FewShotPool]:
        pools = {split: self.tasks.pool(split, device=self.device) for split in ("train", "test")}
        for pool in pools.values():
            pool.check(ways=self.ways, shots=self.shots, queries=self.queries)
        return pools

    @functools.cached_property
    def benchmark(self) -> Benchmark | None:
        return None if self.benchmark_factory is None else self.benchmark_factory()

    @property
    def setting(self) -> str:
        return f"{self.ways}w{self.shots}s"

    @functools.cached_property
    def settings(self) -> dict[str, Any]:
        """What determines the result (see :mod:`metanas.meta.run_settings`); device,
        threads and the checkpoint and log intervals may change between resumes. The space
        is recorded when it is not NB201, so NB201 folders recorded before the space
        setting existed still resume."""
        space = {} if self.space == NB201 else {"space": self.space.name}
        return {
            "job": f"{type(self).__module__}.{type(self).__qualname__}",
            "data": {split: pool_identity(pool) for split, pool in self.pools.items()},
            "learner": describe_call(self.learner_factory),
            "benchmark": fingerprint(self.benchmark_factory),
            "ways": self.ways, "shots": self.shots, "queries": self.queries,
            "meta_batch": self.meta_batch, "iterations": self.iterations,
            "test_episodes": self.test_episodes, "test_batch": self.test_batch,
            **self.net_kwargs, **space, "seed": self.seed,
        }

    def build(self) -> SupernetMetaLearner:
        """The meta-learner around a freshly seeded supernet on the job's device."""
        in_channels = self.pools["train"].image_shape[0]
        model = SuperNet(num_classes=self.ways, in_channels=in_channels, space=self.space,
                         generator=torch.Generator().manual_seed(self.seed), **self.net_kwargs)
        return self.learner_factory(model.to(self.device))

    # -- run ------------------------------------------------------------------------------
    def prepare(self, out_dir: Path) -> bool:
        """Load data and table, check the episode shape and the folder's settings record.

        :return: True when ``out_dir`` holds this run finished.
        :raises ValueError: if ``out_dir`` holds a run with other settings.
        """
        self.benchmark  # noqa: B018 -- a missing table fails here, before training
        folder = RunFolder(out_dir, finished=SUMMARY_FILE)
        return folder.open(self.settings, outputs=(CHECKPOINT_FILE, SUMMARY_FILE))

    def run(self, out_dir: Path) -> None:
        """Train (resuming from ``checkpoint.pt`` if present), then meta-test and summarise.

        :raises ValueError: if ``out_dir`` holds a run with other settings.
        """
        out_dir = Path(out_dir)
        if self.prepare(out_dir):
            return
        if self.threads:
            torch.set_num_threads(self.threads)
        learner = self.build()
        episodes = np.random.default_rng([self.seed, TRAIN_STREAM])

        def next_batch() -> EpisodeBatch:
            return self.pools["train"].sample(
                episodes, meta_batch=self.meta_batch, ways=self.ways, shots=self.shots,
                queries=self.queries,
            )

        # The supernet learners draw nothing at random in a meta-step; the generator is
        # seeded and checkpointed all the same, so that one that does would resume exactly.
        step_rng = torch.Generator().manual_seed(self.seed)
        train_s = meta_train(
            out_dir, learner, next_batch, schedule=self.schedule, step_rng=step_rng,
            generators={"episodes": episodes, "step": step_rng},
        )
        tic = time.perf_counter()
        results = self._meta_test(learner)
        test_s = time.perf_counter() - tic
        self._write_results(out_dir, learner, results, train_s, test_s)

    def _meta_test(self, learner: SupernetMetaLearner) -> EpisodeResults:
        rng = np.random.default_rng([self.seed, TEST_STREAM])
        parts = []
        for first in range(0, self.test_episodes, self.test_batch):
            batch = self.pools["test"].sample(
                rng, meta_batch=min(self.test_batch, self.test_episodes - first),
                ways=self.ways, shots=self.shots, queries=self.queries,
            )
            parts.append(evaluate_episodes(learner, batch))
        return EpisodeResults(*(np.concatenate(x) for x in zip(
            *((p.supernet_acc, p.derived_acc, p.codes) for p in parts), strict=True)))

    # -- outputs ----------------------------------------------------------------------------
    def _write_results(self, out_dir: Path, learner: SupernetMetaLearner,
                       results: EpisodeResults, train_s: float, test_s: float) -> None:
        nb201 = (
            {} if self.benchmark is None
            else nb201_test_accuracy(self.benchmark, results.codes, self.space)
        )
        rows = [
            {"episode": i, "supernet_acc": results.supernet_acc[i],
             "derived_acc": results.derived_acc[i], "arch": self.space.to_string(code),
             **{f"nb201_{d}_test": values[i] for d, values in nb201.items()}}
            for i, code in enumerate(results.codes)
        ]
        text = csv_text(rows)
        atomic_write_text(out_dir / EPISODES_FILE, text)
        summary = {
            "method": learner.name,
            "setting": self.setting,
            # Computed from the stored per-episode record, as summary.collect recomputes it.
            "space": self.space.name,
            **episode_summary(pd.read_csv(io.StringIO(text)), self.space),
            "meta_alpha_cell": self.space.to_string(
                derive_codes(learner.model.alpha, self.space).cpu().numpy()
            ),
            "iterations": self.iterations,
            "meta_batch": self.meta_batch,
            "test_steps": learner.test_steps,
            "channels": self.net_kwargs["channels"],
            "device": device_name(self.device),
            "train_wall_s": round(train_s, 1),
            "test_wall_s": round(test_s, 1),
            "wall_time_s": round(train_s + test_s, 1),
            "seed": self.seed,
        }
        atomic_write_text(out_dir / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
