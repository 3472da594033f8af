"""The checkpointed meta-training loop that every meta-training job runs.

:func:`meta_train` draws a meta-batch, takes one meta-step, logs, and checkpoints
atomically: the model, the learner's state, every generator's state, the iteration, the
log and its unfinished averaging window, and the wall time so far. A run killed at any
moment and started again resumes from the last checkpoint and ends with the same
parameters and the same ``train_log.csv`` as one that was never interrupted (the log is
rewritten from the checkpoint, so rows after the last checkpoint are never duplicated).
:class:`metanas.meta.job.MetaTrainJob` (MAML, Reptile) and
:class:`metanas.supernet.job.FewShotNASJob` (T-NAS, MetaNAS) both call it.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metanas.meta import checkpoint
from metanas.meta.learner import MetaLearner
from tabular_bench.atomic_io import atomic_write_text, remove_stale_temporaries
from tasks.episodes import EpisodeBatch

CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "train_log.csv"
Generator = torch.Generator | np.random.Generator


@dataclass(frozen=True)
class Schedule:
    """How long to train and how often to log and checkpoint.

    :param iterations: meta-iterations.
    :param checkpoint_every: iterations between checkpoints (and after the last one).
    :param log_every: iterations averaged into one ``train_log.csv`` row.
    """

    iterations: int
    checkpoint_every: int
    log_every: int

    def __post_init__(self) -> None:
        if min(self.iterations, self.checkpoint_every, self.log_every) < 1:
            raise ValueError(
                "iterations, checkpoint_every and log_every must be >= 1; got "
                f"{self.iterations}, {self.checkpoint_every}, {self.log_every}"
            )


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """``rows`` as CSV with a header taken from the first row ('' for no rows)."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _get_state(rng: Generator) -> Any:
    return rng.get_state() if isinstance(rng, torch.Generator) else rng.bit_generator.state


def _set_state(rng: Generator, state: Any) -> None:
    if isinstance(rng, torch.Generator):
        rng.set_state(state)
    else:
        rng.bit_generator.state = state


def meta_train(
    out_dir: Path,
    learner: MetaLearner,
    next_batch: Callable[[], EpisodeBatch],
    *,
    schedule: Schedule,
    step_rng: torch.Generator,
    generators: Mapping[str, Generator],
) -> float:
    """Train ``learner`` to ``schedule.iterations``, resuming from ``out_dir``'s checkpoint.

    :param next_batch: draws the next meta-batch of training episodes (from one of
        ``generators``).
    :param step_rng: passed to every :meth:`MetaLearner.meta_train_step`.
    :param generators: every generator whose state must survive a kill, by name
        (``step_rng`` among them if the learner uses it); restored from the checkpoint.
    :returns: training wall time in seconds, summed over the interrupted segments.
    """
    out_dir = Path(out_dir)
    path = out_dir / CHECKPOINT_FILE
    remove_stale_temporaries(out_dir)
    iteration, log, window, wall_s = 0, [], [], 0.0
    if path.exists():
        saved = checkpoint.load(path)
        learner.model.load_state_dict(saved["model"])
        learner.load_state_dict(saved["learner"])
        for name, rng in generators.items():
            _set_state(rng, saved["generators"][name])
        iteration, log, wall_s = saved["iteration"], saved["log"], saved["wall_time_s"]
        window = [tuple(w) for w in saved["window"]]
    started = time.perf_counter() - wall_s
    for it in range(iteration, schedule.iterations):
        metrics = learner.meta_train_step(
            next_batch(), progress=it / schedule.iterations, rng=step_rng
        )
        window.append((metrics.loss, metrics.accuracy))
        done = it + 1
        if done % schedule.log_every == 0 or done == schedule.iterations:
            log.append({
                "iteration": done,
                "train_loss": sum(w[0] for w in window) / len(window),
                "train_acc": sum(w[1] for w in window) / len(window),
                "wall_time_s": round(time.perf_counter() - started, 2),
            })
            window = []
        if done % schedule.checkpoint_every == 0 or done == schedule.iterations:
            checkpoint.save_atomic({
                "iteration": done,
                "model": learner.model.state_dict(),
                "learner": learner.state_dict(),
                "generators": {name: _get_state(rng) for name, rng in generators.items()},
                "log": log,
                "window": window,
                "wall_time_s": time.perf_counter() - started,
            }, path)
            atomic_write_text(out_dir / LOG_FILE, csv_text(log))
    return time.perf_counter() - started
