"""The checkpointed meta-training loop that every meta-training job runs.

:func:`meta_train` draws a meta-batch, takes one meta-step, logs, and checkpoints
atomically: the model, the learner's state, every generator's state, the iteration, the
log and its unfinished averaging window, and the wall time so far. A run killed at any
moment and started again resumes from the last checkpoint and ends with the same
parameters and the same ``train_log.csv`` as one that was never interrupted (the log is
rewritten from the checkpoint, so rows after the last checkpoint are never duplicated, and
a kill between the final checkpoint and its log write leaves no short log). An optional
``evaluate`` callback adds a learning curve, ``curve.csv``: held-out accuracy with its 95%
interval every ``eval_every`` iterations (and before the first), against iterations and
against training wall time (evaluation time excluded), checkpointed with the log.
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
from tqdm.auto import tqdm

from common_io.atomic_io import atomic_write_text, remove_stale_temporaries
from metanas.meta import checkpoint
from metanas.meta.learner import MetaLearner
from tasks.episodes import EpisodeBatch

CHECKPOINT_FILE = "checkpoint.pt"
LOG_FILE = "train_log.csv"
CURVE_FILE = "curve.csv"
Generator = torch.Generator | np.random.Generator


@dataclass(frozen=True)
class Schedule:
    """How long to train and how often to log and checkpoint.

    :param iterations: meta-iterations.
    :param checkpoint_every: iterations between checkpoints (and after the last one).
    :param log_every: iterations averaged into one ``train_log.csv`` row.
    :param eval_every: iterations between learning-curve points (``None``: no curve).
    """

    iterations: int
    checkpoint_every: int
    log_every: int
    eval_every: int | None = None

    def __post_init__(self) -> None:
        if min(self.iterations, self.checkpoint_every, self.log_every, self.eval_every or 1) < 1:
            raise ValueError(
                "iterations, checkpoint_every, log_every and eval_every must be >= 1; got "
                f"{self.iterations}, {self.checkpoint_every}, {self.log_every}, "
                f"{self.eval_every}"
            )

    def evaluates_at(self, done: int) -> bool:
        """Whether the curve gets a point after ``done`` iterations (0, every
        ``eval_every``, and the last)."""
        return self.eval_every is not None and (
            done % self.eval_every == 0 or done == self.iterations)


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
    evaluate: Callable[[], tuple[float, float]] | None = None,
    progress: bool = True,
) -> float:
    """Train ``learner`` to ``schedule.iterations``, resuming from ``out_dir``'s checkpoint.

    :param next_batch: draws the next meta-batch of training episodes (from one of
        ``generators``).
    :param step_rng: passed to every :meth:`MetaLearner.meta_train_step`.
    :param generators: every generator whose state must survive a kill, by name
        (``step_rng`` among them if the learner uses it); restored from the checkpoint.
    :param evaluate: held-out accuracy (%) of the current initialization and its 95%
        half-width; called when :meth:`Schedule.evaluates_at` says so. It must not touch
        ``generators``, so that the curve cannot change the trained parameters.
    :param progress: show a progress bar (iterations, with the last logged loss and
        accuracy) on stderr.
    :returns: training wall time in seconds, summed over the interrupted segments.
    """
    out_dir = Path(out_dir)
    path = out_dir / CHECKPOINT_FILE
    if evaluate is not None and schedule.eval_every is None:
        raise ValueError("an evaluate callback needs Schedule(eval_every=...)")
    remove_stale_temporaries(out_dir)
    iteration, log, window, curve, wall_s, eval_s = 0, [], [], [], 0.0, 0.0
    if path.exists():
        saved = checkpoint.load(path)
        learner.model.load_state_dict(saved["model"])
        learner.load_state_dict(saved["learner"])
        for name, rng in generators.items():
            _set_state(rng, saved["generators"][name])
        iteration, log, wall_s = saved["iteration"], saved["log"], saved["wall_time_s"]
        window = [tuple(w) for w in saved["window"]]
        curve, eval_s = saved.get("curve", []), saved.get("eval_time_s", 0.0)
        # The checkpoint is the truth: a kill after it and before the logs were written
        # must not leave them short.
        _write_logs(out_dir, log, curve)
    started = time.perf_counter() - wall_s

    def add_curve_point(done: int) -> None:
        nonlocal eval_s
        eval_started = time.perf_counter()
        train_s = eval_started - started - eval_s
        acc, ci95 = evaluate()
        eval_s += time.perf_counter() - eval_started
        curve.append({"iteration": done, "acc": round(acc, 3), "ci95": round(ci95, 3),
                      "train_time_s": round(train_s, 2)})

    if evaluate is not None and iteration == 0:
        add_curve_point(0)
    bar = tqdm(total=schedule.iterations, initial=iteration, unit="it", desc="meta-train",
               disable=not progress)
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
            bar.set_postfix(loss=f"{log[-1]['train_loss']:.3f}", acc=f"{log[-1]['train_acc']:.3f}")
        bar.update()
        if evaluate is not None and schedule.evaluates_at(done):
            add_curve_point(done)
        if done % schedule.checkpoint_every == 0 or done == schedule.iterations:
            checkpoint.save_atomic({
                "iteration": done,
                "model": learner.model.state_dict(),
                "learner": learner.state_dict(),
                "generators": {name: _get_state(rng) for name, rng in generators.items()},
                "log": log,
                "window": window,
                "curve": curve,
                "wall_time_s": time.perf_counter() - started,
                "eval_time_s": eval_s,
            }, path)
            _write_logs(out_dir, log, curve)
    bar.close()
    return time.perf_counter() - started


def _write_logs(out_dir: Path, log: list[dict[str, Any]], curve: list[dict[str, Any]]) -> None:
    atomic_write_text(out_dir / LOG_FILE, csv_text(log))
    if curve:
        atomic_write_text(out_dir / CURVE_FILE, csv_text(curve))
