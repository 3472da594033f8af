"""Equal-compute parity with learn2learn: one run through ours and learn2learn's recipe.

MAML experiments are compared with ``l2l.algorithms.MAML`` (:class:`L2LMaml`), Reptile
experiments with learn2learn's Reptile recipe (:class:`L2LReptile`). Both learners start
from the same initialization, see the same meta-batches (drawn once from the job's training
pool with one seeded generator) and the same inner mini-batch draws (two generators seeded
alike), take the same number of meta-iterations with the same hyper-parameters, and are
meta-tested on the same episodes. Each meta-iteration is timed in this one process,
alternating ours and learn2learn's, so a busy machine slows both alike; the ratio of the
median times is ours / learn2learn's (below 1: ours is faster).

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
from metanas.meta.learner import MetaLearner
from metanas.meta.maml import MAML
from metanas.meta.reptile import Reptile, minibatch_order
from metanas.meta.stats import mean_ci95
from metanas.meta.training import csv_text
from tasks.episodes import EpisodeBatch

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
LIBRARIES = ("metanas", "learn2learn")


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

    def meta_train_step(self, batch: EpisodeBatch, *, progress: float = 0.0,
                        rng: torch.Generator | None = None) -> None:
        """One meta-step; ``progress`` and ``rng`` (the interface :func:`run` calls) are
        unused: MAML has neither a schedule nor random draws."""
        self.optimizer.zero_grad()
        tasks = batch.x_support.shape[0]
        for b in range(tasks):
            learner = self._adapt(batch.x_support[b], batch.y_support[b], self.train_steps)
            (self.loss(learner(batch.x_query[b]), batch.y_query[b]) / tasks).backward()
        self.optimizer.step()

    def evaluate(self, batch: EpisodeBatch, *, rng: torch.Generator | None = None) -> torch.Tensor:
        """Query accuracy per episode (transductive); ``rng`` unused, as in training."""
        accuracies = []
        for b in range(batch.x_support.shape[0]):
            learner = self._adapt(batch.x_support[b], batch.y_support[b], self.test_steps)
            with torch.no_grad():
                predicted = learner(batch.x_query[b]).argmax(-1)
            accuracies.append((predicted == batch.y_query[b]).float().mean())
        return torch.stack(accuracies)


class L2LReptile:
    """learn2learn's Reptile recipe (``examples/vision/reptile_miniimagenet.py``; learn2learn
    ships no Reptile class): per task, ``copy.deepcopy`` the model, step a fresh
    ``torch.optim.Adam(betas=(0, beta2))`` loaded with the carried inner-Adam state on the
    task's data, then an SGD step of size eps along ``theta - mean adapted``.

    Where it necessarily differs from ours (:class:`metanas.meta.reptile.Reptile`):

    * Inner Adam state: the recipe carries it from task to task within a meta-batch (tasks run
      one after another); ours runs the tasks side by side from the same state and keeps the
      mean. With one task per meta-batch the two coincide.
    * Epsilon: torch's Adam adds ``eps`` to the bias-corrected ``sqrt(v_hat)``, ours (as
      TensorFlow's) to the uncorrected ``sqrt(v)``: torch's is in effect ``eps * sqrt(1 -
      beta2^t)``, which matters only where ``sqrt(v)`` is not far above ``eps`` (gradients
      of ~1e-6 and below).

    Where the recipe is adjusted to ours, so that only the implementation differs:

    * Mini-batches: the recipe draws ``torch.randint`` indices with replacement; here the
      draws are ours (:func:`metanas.meta.reptile.minibatch_order` on the caller's generator).
    * Annealing: the recipe's ``frac_done * meta_lr + (1 - frac_done) * meta_lr`` anneals to
      ``meta_lr`` itself (a constant); here eps goes linearly to ``meta_step_final``.
    * Evaluation: the recipe predicts the query set in one batch (transductive); here the
      query protocol follows ``transductive`` as ours does (one query at a time with the
      support set otherwise). As in the recipe, each test task starts from the carried inner
      state; it is deep-copied in, since the recipe's ``load_state_dict`` shares the tensors
      that Adam updates in place, which leaks test-time steps into training.
    """

    def __init__(self, model: nn.Module, *, inner_lr: float, inner_steps: int, inner_batch: int,
                 test_steps: int, test_batch: int, meta_step: float, meta_step_final: float,
                 transductive: bool, beta2: float, eps: float) -> None:
        self.model = model
        self.inner_lr, self.beta2, self.eps = inner_lr, beta2, eps
        self.inner_steps, self.inner_batch = inner_steps, inner_batch
        self.test_steps, self.test_batch = test_steps, test_batch
        self.meta_step, self.meta_step_final = meta_step, meta_step_final
        self.transductive = transductive
        self.optimizer = torch.optim.SGD(model.parameters(), lr=meta_step)
        self.inner_state = self._inner_adam(model).state_dict()
        self.loss = nn.CrossEntropyLoss()

    def _inner_adam(self, module: nn.Module) -> torch.optim.Adam:
        return torch.optim.Adam(module.parameters(), lr=self.inner_lr, betas=(0.0, self.beta2),
                                eps=self.eps)

    def _adapt(self, xs: torch.Tensor, ys: torch.Tensor,
               order: torch.Tensor) -> tuple[nn.Module, torch.optim.Adam]:
        """A copy of the model after inner Adam, from a copy of the carried state, on
        mini-batches ``xs[order[i]]``; and that Adam, whose state the caller may carry on."""
        learner = copy.deepcopy(self.model)
        adapt_opt = self._inner_adam(learner)
        adapt_opt.load_state_dict(copy.deepcopy(self.inner_state))
        for idx in order:
            adapt_opt.zero_grad()
            self.loss(learner(xs[idx]), ys[idx]).backward()
            adapt_opt.step()
        return learner, adapt_opt

    def meta_train_step(self, batch: EpisodeBatch, *, progress: float,
                        rng: torch.Generator) -> None:
        tasks, samples = batch.x_support.shape[:2]
        order = minibatch_order(rng, tasks=tasks, samples=samples, steps=self.inner_steps,
                                batch=self.inner_batch)
        for group in self.optimizer.param_groups:
            group["lr"] = (1 - progress) * self.meta_step + progress * self.meta_step_final
        for p in self.model.parameters():
            p.grad = torch.zeros_like(p)
        for b in range(tasks):
            learner, adapt_opt = self._adapt(batch.x_support[b], batch.y_support[b], order[b])
            self.inner_state = adapt_opt.state_dict()
            for p, adapted in zip(self.model.parameters(), learner.parameters(), strict=True):
                p.grad.sub_(adapted.detach())
        for p in self.model.parameters():
            p.grad.div_(tasks).add_(p.detach())
        self.optimizer.step()

    def evaluate(self, batch: EpisodeBatch, *, rng: torch.Generator) -> torch.Tensor:
        tasks, samples = batch.x_support.shape[:2]
        order = minibatch_order(rng, tasks=tasks, samples=samples, steps=self.test_steps,
                                batch=self.test_batch)
        accuracies = []
        for b in range(tasks):
            xs, xq = batch.x_support[b], batch.x_query[b]
            learner, _ = self._adapt(xs, batch.y_support[b], order[b])
            with torch.no_grad():
                if self.transductive:
                    predicted = learner(xq).argmax(-1)
                else:
                    predicted = torch.stack(
                        [learner(torch.cat([xs, q[None]]))[-1].argmax() for q in xq])
            accuracies.append((predicted == batch.y_query[b]).float().mean())
        return torch.stack(accuracies)


def learn2learn_counterpart(ours: MetaLearner) -> L2LMaml | L2LReptile:
    """learn2learn's recipe for ``ours``, on a copy of its initialization, with its settings."""
    if isinstance(ours, MAML):
        return L2LMaml(
            copy.deepcopy(ours.model), inner_lr=ours.inner_lr, train_steps=ours.train_steps,
            test_steps=ours.test_steps, first_order=ours.first_order,
            outer_lr=ours.optimizer.param_groups[0]["lr"],
        )
    if isinstance(ours, Reptile):
        return L2LReptile(
            copy.deepcopy(ours.model), inner_lr=ours.inner_lr, inner_steps=ours.inner_steps,
            inner_batch=ours.inner_batch, test_steps=ours.test_steps,
            test_batch=ours.test_batch, meta_step=ours.meta_step,
            meta_step_final=ours.meta_step_final, transductive=ours.transductive,
            beta2=ours.beta2, eps=ours.eps,
        )
    raise ValueError(
        f"no learn2learn recipe for {type(ours).__name__}: the parity run covers MAML and "
        "Reptile experiments; pick an experiment whose job.learner is one of them"
    )


def _job(experiment: str, overrides: list[str]) -> MetaTrainJob:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}", *overrides])
    return instantiate(cfg.job)


def run(experiment: str, *, iterations: int, test_episodes: int,
        overrides: list[str] | None = None) -> list[dict[str, object]]:
    """Train ours and learn2learn's recipe side by side; one result row per library."""
    job = _job(experiment, ["job.device=cpu", *(overrides or [])])
    ours = job.learner
    theirs = learn2learn_counterpart(ours)
    rng = torch.Generator().manual_seed(job.seed)
    step_rngs = {lib: torch.Generator().manual_seed(job.seed) for lib in LIBRARIES}
    times: dict[str, list[float]] = {lib: [] for lib in LIBRARIES}
    for it in range(iterations):
        batch = job.train_pool.sample(rng, meta_batch=job.meta_batch, ways=job.ways,
                                      shots=job.train_shots, queries=job.train_queries)
        for library, learner in zip(LIBRARIES, (ours, theirs), strict=True):
            started = time.perf_counter()
            learner.meta_train_step(batch, progress=it / iterations, rng=step_rngs[library])
            times[library].append(time.perf_counter() - started)
    test_rng = torch.Generator().manual_seed(job.seed + 1_000_003)
    eval_rngs = {lib: torch.Generator().manual_seed(job.seed + 2) for lib in LIBRARIES}
    accuracies: dict[str, list[torch.Tensor]] = {lib: [] for lib in LIBRARIES}
    for start in range(0, test_episodes, job.eval_batch):
        batch = job.test_pool.sample(
            test_rng, meta_batch=min(job.eval_batch, test_episodes - start), ways=job.ways,
            shots=job.shots, queries=job.test_queries)
        for library, learner in zip(LIBRARIES, (ours, theirs), strict=True):
            accuracies[library].append(learner.evaluate(batch, rng=eval_rngs[library]))
    median = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for library in LIBRARIES:
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
