"""MAML and first-order MAML (Finn et al., 2017) on ``torch.func``.

The inner loop is the pure :func:`metanas.meta.functional.sgd_step`; a task's query loss
after adaptation is a pure function of the initialization, so the meta-gradient of a whole
meta-batch is one ``grad(vmap(...))`` call: no module cloning and no Python loop over tasks
(learn2learn's ``MAML.clone()``/``adapt()`` loop does both).

Reference: Finn, Abbeel, Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
Networks", ICML 2017; code github.com/cbfinn/maml.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import grad_and_value, vmap

from metanas.meta import functional as fn
from metanas.meta.functional import Params
from metanas.meta.learner import InitializationLearner, StepMetrics
from tasks.episodes import EpisodeBatch


class MAML(InitializationLearner):
    """Learn an initialization from which ``steps`` SGD steps on a support set fit the task.

    :param model: the network (its parameters are the meta-parameters).
    :param inner_lr: inner SGD step size alpha (Omniglot 5-way 0.4, 20-way 0.1).
    :param train_steps: inner steps during meta-training (5-way 1, 20-way 5).
    :param test_steps: inner steps at meta-test (5-way 3, 20-way 5).
    :param first_order: drop the second-order terms (FOMAML): the meta-gradient is the
        query-loss gradient at the adapted parameters.
    :param outer_lr: Adam step size of the meta-update (1e-3).

    Example::

        maml = MAML(omniglot_conv4(5), inner_lr=0.4)
        metrics = maml.meta_train_step(batch, progress=0.0, rng=gen)
        adapted = maml.adapt(maml.parameters(), x_support, y_support, steps=3)
    """

    transductive = True

    def __init__(
        self,
        model: nn.Module,
        *,
        inner_lr: float,
        train_steps: int = 1,
        test_steps: int = 3,
        first_order: bool = False,
        outer_lr: float = 1e-3,
    ) -> None:
        if inner_lr <= 0 or train_steps < 1 or test_steps < 1:
            raise ValueError(
                f"MAML needs inner_lr > 0 and at least one inner step; got inner_lr={inner_lr}, "
                f"train_steps={train_steps}, test_steps={test_steps}"
            )
        self.inner_lr = inner_lr
        self.train_steps = train_steps
        self.test_steps = test_steps
        self.first_order = first_order
        self.outer_lr = outer_lr
        self.name = "fomaml" if first_order else "maml"
        super().__init__(model)

    def outer_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.outer_lr)

    def adapt(self, params: Params, x: torch.Tensor, y: torch.Tensor, *, steps: int) -> Params:
        """``steps`` inner SGD steps on one task's support set (:func:`fn.adapt`); pure, and
        differentiable through the steps unless ``first_order``."""
        return fn.adapt(
            fn.classification_loss(self.model), params, [(x, y)] * steps,
            optimizer=fn.InnerSGD(self.inner_lr), first_order=self.first_order,
        ).params

    def _task_query(
        self, params: Params, xs: torch.Tensor, ys: torch.Tensor, xq: torch.Tensor,
        yq: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        adapted = self.adapt(params, xs, ys, steps=self.train_steps)
        out = fn.logits(self.model, adapted, xq)
        loss = torch.nn.functional.cross_entropy(out, yq)
        return loss, (out.argmax(-1) == yq).float().mean()

    def meta_loss(self, params: Params, batch: EpisodeBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean post-adaptation query loss over the meta-batch, and the mean query accuracy."""
        losses, accs = vmap(self._task_query, in_dims=(None, 0, 0, 0, 0))(
            params, batch.x_support, batch.y_support, batch.x_query, batch.y_query
        )
        return losses.mean(), accs.mean()

    def meta_gradient(self, batch: EpisodeBatch) -> tuple[Params, StepMetrics]:
        """The gradient of :meth:`meta_loss` with respect to every meta-parameter."""
        grads, (loss, acc) = grad_and_value(self.meta_loss, has_aux=True)(self.parameters(), batch)
        return grads, StepMetrics(loss=float(loss), accuracy=float(acc))

    def meta_train_step(
        self, batch: EpisodeBatch, *, progress: float, rng: torch.Generator
    ) -> StepMetrics:
        grads, metrics = self.meta_gradient(batch)
        self.meta_update(grads)
        return metrics

    def evaluate(self, batch: EpisodeBatch, *, rng: torch.Generator) -> torch.Tensor:
        """Query accuracy per episode after ``test_steps`` steps; batch norm uses the query
        batch's statistics (transductive, as in Finn et al.'s evaluation)."""

        def one(params: Params, xs, ys, xq, yq) -> torch.Tensor:
            adapted = self.adapt(params, xs, ys, steps=self.test_steps)
            return fn.accuracy(self.model, adapted, xq, yq)

        with torch.no_grad():
            return vmap(one, in_dims=(None, 0, 0, 0, 0))(
                self.parameters(), batch.x_support, batch.y_support, batch.x_query,
                batch.y_query,
            )
