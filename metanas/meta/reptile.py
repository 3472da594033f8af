"""Reptile (Nichol, Achiam, Schulman, 2018) on ``torch.func``, as openai/supervised-reptile.

What the reference code does, and we do:

* Inner loop: ``inner_steps`` steps of Adam with ``beta1 = 0`` (TensorFlow's Adam: bias
  correction folded into the rate) on mini-batches of ``inner_batch`` drawn from the task's
  samples by cycling through shuffles without replacement.
* The inner Adam's second moments are not reset between tasks: in the reference they are
  TensorFlow variables outside the restored model state, so they carry over from task to
  task and into evaluation. Its tasks run one after another; ours run side by side under
  ``vmap``, each from the carried state, which then becomes the mean of the tasks' final
  states (the step count advances by ``inner_steps``).
* Meta-update: ``theta += eps * (mean_tasks(theta_task) - theta)``, with ``eps`` annealed
  linearly from ``meta_step`` to ``meta_step_final`` over meta-training (an outer SGD step
  of size ``eps`` along ``theta - mean_tasks(theta_task)``).
* Evaluation: ``test_steps`` inner steps with ``test_batch`` on the support set, then
  non-transductive prediction (each query classified in a batch of the support set plus
  that query alone, so batch norm never mixes queries) or, with ``transductive``, the whole
  query set in one batch.

Reference: Nichol, Achiam, Schulman, "On First-Order Meta-Learning Algorithms",
arXiv:1803.02999; code github.com/openai/supervised-reptile.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import vmap

from metanas.meta import functional as fn
from metanas.meta.functional import AdamState, Params
from metanas.meta.learner import InitializationLearner, StepMetrics
from tasks.episodes import EpisodeBatch


def minibatch_order(
    rng: torch.Generator, *, tasks: int, samples: int, steps: int, batch: int
) -> torch.Tensor:
    """Indices ``(tasks, steps, batch)``: consecutive chunks of concatenated shuffles.

    This is the reference's ``_mini_batches`` without replacement: a batch may straddle two
    shuffles, and every sample is used once per pass.
    """
    if batch > samples:
        raise ValueError(
            f"inner batch {batch} is larger than the task's {samples} samples: lower the "
            "inner batch or raise the shots"
        )
    passes = -(-steps * batch // samples)
    keys = torch.rand(tasks, passes, samples, generator=rng, device=rng.device)
    order = keys.argsort(dim=-1).reshape(tasks, passes * samples)
    return order[:, : steps * batch].reshape(tasks, steps, batch)


class Reptile(InitializationLearner):
    """Move the initialization towards the weights that inner Adam reaches on each task.

    :param model: the network (its parameters are the meta-parameters).
    :param inner_lr: inner Adam step size (Omniglot 1e-3; 20-way 5e-4).
    :param inner_steps: inner iterations in meta-training (5; 20-way 10).
    :param inner_batch: inner mini-batch size in meta-training (10; 20-way 20).
    :param test_steps: inner iterations at meta-test (50).
    :param test_batch: inner mini-batch size at meta-test (5; 20-way 10).
    :param meta_step: initial meta step size eps (1.0).
    :param meta_step_final: eps at the end of meta-training (0.0).
    :param transductive: classify all queries in one batch at meta-test.
    :param beta2: inner Adam's second-moment decay (TensorFlow default 0.999).
    :param eps: inner Adam's epsilon (TensorFlow default 1e-8).
    """

    name = "reptile"

    def __init__(
        self,
        model: nn.Module,
        *,
        inner_lr: float = 1e-3,
        inner_steps: int = 5,
        inner_batch: int = 10,
        test_steps: int = 50,
        test_batch: int = 5,
        meta_step: float = 1.0,
        meta_step_final: float = 0.0,
        transductive: bool = False,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        if min(inner_steps, inner_batch, test_steps, test_batch) < 1 or inner_lr <= 0:
            raise ValueError("Reptile needs inner_lr > 0 and positive step and batch counts")
        self.inner_lr, self.beta2, self.eps = inner_lr, beta2, eps
        self.inner_steps, self.inner_batch = inner_steps, inner_batch
        self.test_steps, self.test_batch = test_steps, test_batch
        self.meta_step, self.meta_step_final = meta_step, meta_step_final
        self.transductive = transductive
        super().__init__(model)
        self.inner_state = AdamState.zeros_like(self.parameters())

    def outer_optimizer(self) -> torch.optim.Optimizer:
        """Plain SGD: a step of ``eps`` along ``theta - mean adapted`` is Reptile's update."""
        return torch.optim.SGD(self.model.parameters(), lr=self.meta_step)

    def adapt(
        self, params: Params, state: AdamState, x: torch.Tensor, y: torch.Tensor,
        order: torch.Tensor,
    ) -> tuple[Params, AdamState, torch.Tensor, torch.Tensor]:
        """Inner Adam on one task, mini-batch ``i`` being ``x[order[i]]``; pure.

        :returns: adapted parameters, the Adam state, and the loss and accuracy of the last
            mini-batch before its step.
        """
        batches = [(x[order[i]], y[order[i]]) for i in range(order.shape[0])]
        params, state, loss, out = fn.adapt(
            fn.classification_loss(self.model), params, batches,
            optimizer=fn.InnerAdam(self.inner_lr, beta2=self.beta2, eps=self.eps), state=state,
        )
        return params, state, loss, (out.argmax(-1) == batches[-1][1]).float().mean()

    def meta_step_size(self, progress: float) -> float:
        """Linear annealing of eps, as the reference's ``frac_done``."""
        return (1 - progress) * self.meta_step + progress * self.meta_step_final

    def reptile_update(self, adapted_mean: Params, progress: float) -> None:
        """``theta <- theta + eps * (mean adapted - theta)``: an outer SGD step of size eps
        along the meta-gradient ``theta - mean adapted``."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.meta_step_size(progress)
        self.meta_update({k: p - adapted_mean[k] for k, p in self.parameters().items()})

    def meta_train_step(
        self, batch: EpisodeBatch, *, progress: float, rng: torch.Generator
    ) -> StepMetrics:
        tasks, samples = batch.x_support.shape[:2]
        order = minibatch_order(
            rng, tasks=tasks, samples=samples, steps=self.inner_steps, batch=self.inner_batch
        ).to(batch.x_support.device)
        with torch.no_grad():
            adapted, states, loss, acc = vmap(self.adapt, in_dims=(None, None, 0, 0, 0))(
                self.parameters(), self.inner_state, batch.x_support, batch.y_support, order
            )
        self.reptile_update({k: v.mean(0) for k, v in adapted.items()}, progress)
        self.inner_state = AdamState(
            {k: v.mean(0) for k, v in states.v.items()}, states.t.reshape(-1)[0]
        )
        return StepMetrics(loss=float(loss.mean()), accuracy=float(acc.mean()))

    def evaluate(self, batch: EpisodeBatch, *, rng: torch.Generator) -> torch.Tensor:
        tasks, samples = batch.x_support.shape[:2]
        order = minibatch_order(
            rng, tasks=tasks, samples=samples, steps=self.test_steps, batch=self.test_batch
        ).to(batch.x_support.device)

        def one(params, state, xs, ys, order, xq, yq) -> torch.Tensor:
            adapted, *_ = self.adapt(params, state, xs, ys, order)
            if self.transductive:
                return fn.accuracy(self.model, adapted, xq, yq)

            def predict(q: torch.Tensor) -> torch.Tensor:
                return fn.logits(self.model, adapted, torch.cat([xs, q[None]]))[-1].argmax()

            return (vmap(predict)(xq) == yq).float().mean()

        with torch.no_grad():
            return vmap(one, in_dims=(None, None, 0, 0, 0, 0, 0))(
                self.parameters(), self.inner_state, batch.x_support, batch.y_support, order,
                batch.x_query, batch.y_query,
            )

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(), "inner_v": dict(self.inner_state.v),
            "inner_t": self.inner_state.t,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        device = next(self.model.parameters()).device
        self.inner_state = AdamState(
            {k: v.to(device) for k, v in state["inner_v"].items()}, state["inner_t"].to(device)
        )
