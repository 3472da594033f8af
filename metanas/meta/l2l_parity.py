"""Equal-compute parity with learn2learn: one MAML run through ours and ``l2l.algorithms.MAML``.

Both learners start from the same initialization, see the same meta-batches (drawn once from
the job's training pool with one seeded generator), take the same number of meta-iterations
with the same inner steps, step sizes and outer Adam, and are meta-tested on the same
episodes. Each meta-iteration is timed in this one process, alternating ours and
learn2learn's, so a busy machine slows both alike; the ratio of the median times is ours /
learn2learn's (below 1: ours is faster).

Usage::

    OMP_NUM_THREADS=1 python -m metanas.meta.l2l_parity experiment=omniglot_maml_5w1s \\
        iterations=300 test_episodes=600 out=results/fewshot/l2l_parity_omniglot_maml_5w1s.csv
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch import nn

from common_io.atomic_io import atomic_write_text
from metanas.meta.job import MetaTrainJob
from metanas.meta.maml import MAML
from metanas.meta.stats import mean_ci95
from metanas.meta.training import csv_text
from tasks.episodes import EpisodeBatch

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


class L2LMaml:
    """learn2learn's MAML recipe (``examples/vision/maml_omniglot.py``): one ``clone()`` per
    task, ``adapt`` on the support loss, query loss backpropagated into the meta-parameters."""

    def __init__(self, model: nn.Module, *, inner_lr: float, train_steps: int, test_steps: int,
                 first_order: bool, outer_lr: float) -> None:
        import learn2learn as l2l

        self.maml = l2l.algorithms.MAML(model, lr=inner_lr, first_order=first_order)
        self.train_steps, self.test_steps = train_steps, test_steps
        self.optimizer = torch.optim.Adam(self.maml.parameters(), lr=outer_lr)
        self.loss = nn.CrossEntropyLoss()

    def _adapt(self, xs: torch.Tensor, ys: torch.Tensor, steps: int) -> nn.Module:
        learner = self.maml.clone()
        for _ in range(steps):
            learner.adapt(self.loss(learner(xs), ys))
        return learner

    def meta_train_step(self, batch: EpisodeBatch) -> None:
        self.optimizer.zero_grad()
        tasks = batch.x_support.shape[0]
        for b in range(tasks):
            learner = self._adapt(batch.x_support[b], batch.y_support[b], self.train_steps)
            (self.loss(learner(batch.x_query[b]), batch.y_query[b]) / tasks).backward()
        self.optimizer.step()

    def evaluate(self, batch: EpisodeBatch) -> torch.Tensor:
        accuracies = []
        for b in range(batch.x_support.shape[0]):
            learner = self._adapt(batch.x_support[b], batch.y_support[b], self.test_steps)
            with torch.no_grad():
                predicted = learner(batch.x_query[b]).argmax(-1)
            accuracies.append((predicted == batch.y_query[b]).float().mean())
        return torch.stack(accuracies)


def _job(experiment: str, overrides: list[str]) -> MetaTrainJob:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}", *overrides])
    return instantiate(cfg.job)


def run(experiment: str, *, iterations: int, test_episodes: int,
        overrides: list[str] | None = None) -> list[dict[str, object]]:
    """Train ours and learn2learn's MAML side by side; one result row per library."""
    job = _job(experiment, ["job.device=cpu", *(overrides or [])])
    ours = job.learner
    if not isinstance(ours, MAML):
        raise ValueError(f"{experiment} is not a MAML experiment; the parity run covers MAML")
    theirs = L2LMaml(
        copy.deepcopy(ours.model), inner_lr=ours.inner_lr, train_steps=ours.train_steps,
        test_steps=ours.test_steps, first_order=ours.first_order,
        outer_lr=ours.optimizer.param_groups[0]["lr"],
    )
    rng = torch.Generator().manual_seed(job.seed)
    step_rng = torch.Generator().manual_seed(job.seed)
    times: dict[str, list[float]] = {"metanas": [], "learn2learn": []}
    for it in range(iterations):
        batch = job.train_pool.sample(rng, meta_batch=job.meta_batch, ways=job.ways,
                                      shots=job.train_shots, queries=job.train_queries)
        started = time.perf_counter()
        ours.meta_train_step(batch, progress=it / iterations, rng=step_rng)
        times["metanas"].append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs.meta_train_step(batch)
        times["learn2learn"].append(time.perf_counter() - started)
    test_rng = torch.Generator().manual_seed(job.seed + 1_000_003)
    accuracies: dict[str, list[torch.Tensor]] = {"metanas": [], "learn2learn": []}
    for start in range(0, test_episodes, job.eval_batch):
        batch = job.test_pool.sample(
            test_rng, meta_batch=min(job.eval_batch, test_episodes - start), ways=job.ways,
            shots=job.shots, queries=job.test_queries)
        accuracies["metanas"].append(ours.evaluate(batch, rng=test_rng))
        accuracies["learn2learn"].append(theirs.evaluate(batch))
    median = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for library in ("metanas", "learn2learn"):
        mean, ci95 = mean_ci95(torch.cat(accuracies[library]).double().numpy() * 100)
        rows.append({
            "experiment": experiment, "library": library, "iterations": iterations,
            "test_episodes": test_episodes, "test_acc_mean": round(mean, 3),
            "ci95": round(ci95, 3), "s_per_iteration_median": round(median[library], 4),
            "time_ratio_vs_l2l": round(median[library] / median["learn2learn"], 3),
            "threads": torch.get_num_threads(),
        })
    return rows


def main(argv: list[str]) -> None:
    """``experiment=... iterations=N test_episodes=M out=PATH [job.overrides ...]``."""
    args = dict(a.split("=", 1) for a in argv if not a.startswith("job."))
    missing = {"experiment", "iterations", "out"} - set(args)
    if missing:
        raise SystemExit(f"missing {sorted(missing)}; usage: {__doc__}")
    rows = run(args["experiment"], iterations=int(args["iterations"]),
               test_episodes=int(args.get("test_episodes", 600)),
               overrides=[a for a in argv if a.startswith("job.")])
    atomic_write_text(Path(args["out"]), csv_text(rows))
    print(csv_text(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
