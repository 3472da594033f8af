"""Meta-train a learned initialization on a task distribution, then meta-test it.

The runner (``python -m metanas.run experiment=omniglot_maml_5w1s``) instantiates
:class:`MetaTrainJob` from the experiment config and calls :meth:`MetaTrainJob.run`. The
job owns the one ``torch.Generator`` behind every episode and mini-batch, checkpoints
atomically (model, learner state, generator state, iteration, log), and resumes from the
checkpoint in ``out_dir``: a run killed and started again ends with the same parameters as
one that was never interrupted. Files written to ``out_dir``:

* ``checkpoint.pt`` -- the state to resume from;
* ``train_log.csv`` -- mean training query loss/accuracy per ``log_every`` iterations;
* ``model.pt`` -- the final initialization;
* ``summary.csv`` -- one row: method, setting, test accuracy (%) and its 95% interval.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from metanas.meta import checkpoint
from metanas.meta.learner import MetaLearner
from tasks.base import TaskDistribution
from tasks.episodes import FewShotPool

SUMMARY_COLUMNS = (
    "method", "setting", "transductive", "test_acc_mean", "test_acc_ci95", "episodes", "iterations",
    "meta_batch", "seed", "device", "wall_time_s",
)


def mean_ci95(accuracies: torch.Tensor) -> tuple[float, float]:
    """Mean and 95% normal interval half-width, in percent, as MAML and Reptile report."""
    acc = accuracies.double() * 100
    half = 1.96 * float(acc.std(unbiased=True)) / math.sqrt(len(acc)) if len(acc) > 1 else 0.0
    return float(acc.mean()), half


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r} but CUDA is unavailable: use device=cpu or auto")
    return torch.device(device)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


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
    :param seed: seeds the network's initialization, the episodes and the mini-batches.
    :param device: ``auto`` (CUDA when available), ``cpu`` or ``cuda[:i]``.
    :param threads: CPU threads for torch (``None``: torch's default).
    """

    def __init__(
        self,
        *,
        tasks: TaskDistribution,
        backbone: Callable[[int], nn.Module],
        learner: Callable[[nn.Module], MetaLearner],
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
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
    ) -> None:
        if iterations < 1 or meta_batch < 1 or test_episodes < 1 or eval_batch < 1:
            raise ValueError(
                "iterations, meta_batch, test_episodes and eval_batch must be >= 1; got "
                f"{iterations}, {meta_batch}, {test_episodes}, {eval_batch}"
            )
        if checkpoint_every < 1 or log_every < 1:
            raise ValueError("checkpoint_every and log_every must be >= 1")
        if threads is not None:
            torch.set_num_threads(threads)
        self.device = resolve_device(device)
        self.ways, self.shots = ways, shots
        self.train_shots = shots if train_shots is None else train_shots
        self.train_queries = shots if train_queries is None else train_queries
        self.test_queries = test_queries
        self.meta_batch, self.iterations = meta_batch, iterations
        self.test_episodes, self.eval_batch = test_episodes, eval_batch
        self.checkpoint_every, self.log_every = checkpoint_every, log_every
        self.seed = seed
        # Pools first: an episode shape the splits cannot serve fails here, before training.
        self.train_pool: FewShotPool = tasks.pool("train", device=self.device)
        self.test_pool: FewShotPool = tasks.pool("test", device=self.device)
        self.train_pool.check(ways=ways, shots=self.train_shots, queries=self.train_queries)
        self.test_pool.check(ways=ways, shots=shots, queries=test_queries)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = backbone(ways)
        self.learner = learner(model.to(self.device))

    @property
    def setting(self) -> str:
        return f"{self.ways}w{self.shots}s"

    def run(self, out_dir: Path) -> None:
        """Train (resuming from ``out_dir/checkpoint.pt`` if present), then meta-test."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if (out_dir / "summary.csv").exists():
            return
        state = self._resume(out_dir / "checkpoint.pt")
        self._train(out_dir, state)
        self._meta_test(out_dir, state["wall_time_s"])

    # -- meta-training ---------------------------------------------------------------------

    def _resume(self, path: Path) -> dict:
        rng = torch.Generator().manual_seed(self.seed)
        if not path.exists():
            return {"iteration": 0, "rng": rng, "log": [], "wall_time_s": 0.0}
        saved = checkpoint.load(path)
        if saved["setting"] != self.setting or saved["method"] != self.learner.name:
            raise RuntimeError(
                f"{path} belongs to a {saved['method']} {saved['setting']} run, not "
                f"{self.learner.name} {self.setting}: use another out_dir or delete it"
            )
        self.learner.model.load_state_dict(saved["model"])
        self.learner.load_state_dict(saved["learner"])
        rng.set_state(saved["rng"])
        return {
            "iteration": saved["iteration"], "rng": rng, "log": saved["log"],
            "wall_time_s": saved["wall_time_s"],
        }

    def _train(self, out_dir: Path, state: dict) -> None:
        rng: torch.Generator = state["rng"]
        window: list[tuple[float, float]] = []
        started = time.perf_counter() - state["wall_time_s"]
        for it in range(state["iteration"], self.iterations):
            batch = self.train_pool.sample(
                rng, meta_batch=self.meta_batch, ways=self.ways, shots=self.train_shots,
                queries=self.train_queries,
            )
            metrics = self.learner.meta_train_step(batch, progress=it / self.iterations, rng=rng)
            window.append((metrics.loss, metrics.accuracy))
            done = it + 1
            if done % self.log_every == 0 or done == self.iterations:
                state["log"].append({
                    "iteration": done,
                    "train_loss": sum(w[0] for w in window) / len(window),
                    "train_acc": sum(w[1] for w in window) / len(window),
                    "wall_time_s": time.perf_counter() - started,
                })
                window.clear()
            if done % self.checkpoint_every == 0 or done == self.iterations:
                state["iteration"] = done
                state["wall_time_s"] = time.perf_counter() - started
                self._checkpoint(out_dir, state)

    def _checkpoint(self, out_dir: Path, state: dict) -> None:
        checkpoint.save_atomic({
            "method": self.learner.name,
            "setting": self.setting,
            "iteration": state["iteration"],
            "model": self.learner.model.state_dict(),
            "learner": self.learner.state_dict(),
            "rng": state["rng"].get_state(),
            "log": state["log"],
            "wall_time_s": state["wall_time_s"],
        }, out_dir / "checkpoint.pt")
        checkpoint.write_text_atomic(_csv(state["log"]), out_dir / "train_log.csv")

    # -- meta-test -------------------------------------------------------------------------

    def evaluate(self) -> torch.Tensor:
        """Accuracy of each of ``test_episodes`` meta-test episodes.

        Its generator is seeded from ``seed`` alone, so every run and resume of a
        configuration is tested on the same episodes.
        """
        rng = torch.Generator().manual_seed(self.seed + 1_000_003)
        accuracies = []
        for start in range(0, self.test_episodes, self.eval_batch):
            batch = self.test_pool.sample(
                rng, meta_batch=min(self.eval_batch, self.test_episodes - start),
                ways=self.ways, shots=self.shots, queries=self.test_queries,
            )
            accuracies.append(self.learner.evaluate(batch, rng=rng).cpu())
        return torch.cat(accuracies)

    def _meta_test(self, out_dir: Path, train_time_s: float) -> None:
        started = time.perf_counter()
        mean, ci95 = mean_ci95(self.evaluate())
        torch.save(self.learner.model.state_dict(), out_dir / "model.pt")
        values = (
            self.learner.name, self.setting, self.learner.transductive, round(mean, 3), round(ci95, 3), self.test_episodes,
            self.iterations, self.meta_batch, self.seed, device_name(self.device),
            round(train_time_s + time.perf_counter() - started, 1),
        )
        row = dict(zip(SUMMARY_COLUMNS, values, strict=True))
        checkpoint.write_text_atomic(_csv([row]), out_dir / "summary.csv")


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()

