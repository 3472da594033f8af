"""Meta-learners over (alpha, w): T-NAS-style first-order MAML and MetaNAS-style Reptile.

Both are :class:`metanas.meta.learner.MetaLearner` s of a :class:`SuperNet`, so the same
training loop (:mod:`metanas.meta.training`) drives them as drives MAML and Reptile on
Conv-4; :class:`metanas.supernet.job.FewShotNASJob` meta-tests them with
:mod:`metanas.supernet.evaluation`. References:

* T-NAS: Lian et al., "Towards Fast Adaptation of Neural Architectures with Meta
  Learning", ICLR 2020. Inner loop: SGD on the support loss for w and alpha (own rates).
  Meta-gradient: the query-loss gradient at the adapted (alpha', w'), i.e. first-order
  MAML, averaged over the meta-batch. Outer Adam; for alpha with betas (0.5, 0.999) and
  weight decay 1e-3 (DARTS' architecture optimiser).
* MetaNAS: Elsken et al., "Meta-Learning of Neural Architectures for Few-Shot Learning",
  CVPR 2020. Inner loop: task-specific first-order DARTS, Adam with beta1 = 0 on w and
  alpha (Omniglot: both rates 0.005, 5 steps). Meta-update: Reptile on both, the SGD step
  ``theta <- theta - lr * (theta - mean theta'_task)`` with meta rates 1.0 (w) and 0.6
  (alpha); alpha is frozen for a warm-up (there: the first half of meta-training).
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch.func import grad, vmap

from metanas.meta.functional import InnerAdam, InnerOptimizer, InnerSGD, Params
from metanas.meta.learner import MetaLearner, StepMetrics
from metanas.supernet.functional import GroupRates, accuracy_fn, adapt, loss_fn
from metanas.supernet.network import ALPHA, SuperNet
from tasks.episodes import EpisodeBatch


class SupernetMetaLearner(MetaLearner):
    """What both methods share: the two parameter groups and test-time adaptation.

    :param test_steps: inner steps on a meta-test task's support set.
    """

    def __init__(self, model: SuperNet, *, test_steps: int) -> None:
        if test_steps < 1:
            raise ValueError(f"test_steps must be >= 1, got {test_steps}")
        self.test_steps = test_steps
        super().__init__(model)

    @abstractmethod
    def test_inner(self) -> InnerOptimizer:
        """The inner optimiser used at meta-test (both groups adapt)."""

    def _groups(self) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
        named = list(self.model.named_parameters())
        return [p for n, p in named if n == ALPHA], [p for n, p in named if n != ALPHA]

    def adapt_tasks(self, batch: EpisodeBatch) -> Params:
        """(alpha', w') of every episode after ``test_steps`` on its support set."""
        inner = self.test_inner()

        def one(params: Params, xs: torch.Tensor, ys: torch.Tensor) -> Params:
            return adapt(params, self.model, xs, ys, optimizer=inner, steps=self.test_steps)

        return vmap(one, in_dims=(None, 0, 0))(self.parameters(), batch.x_support, batch.y_support)


class TNASMaml(SupernetMetaLearner):
    """First-order MAML over (alpha, w), as T-NAS.

    :param inner_lr_weights: inner SGD rate of w (MAML Omniglot 5-way: 0.4).
    :param inner_lr_alpha: inner SGD rate of alpha.
    :param train_steps: inner steps in meta-training (MAML 5-way: 1).
    :param test_steps: inner steps at meta-test (MAML 5-way: 3).
    :param outer_lr_weights: Adam rate of w (1e-3).
    :param outer_lr_alpha: Adam rate of alpha (betas 0.5, 0.999).
    :param alpha_weight_decay: weight decay of alpha in the outer Adam.
    """

    name = "tnas_maml"

    def __init__(
        self, model: SuperNet, *, inner_lr_weights: float = 0.4, inner_lr_alpha: float = 0.4,
        train_steps: int = 1, test_steps: int = 3, outer_lr_weights: float = 1e-3,
        outer_lr_alpha: float = 3e-3, alpha_weight_decay: float = 1e-3,
    ) -> None:
        if train_steps < 1 or inner_lr_weights <= 0 or inner_lr_alpha < 0:
            raise ValueError(
                "T-NAS needs train_steps >= 1, inner_lr_weights > 0, inner_lr_alpha >= 0; got "
                f"{train_steps}, {inner_lr_weights}, {inner_lr_alpha}"
            )
        self.rates = GroupRates(alpha=inner_lr_alpha, weights=inner_lr_weights)
        self.train_steps = train_steps
        self.outer_lr_weights, self.outer_lr_alpha = outer_lr_weights, outer_lr_alpha
        self.alpha_weight_decay = alpha_weight_decay
        super().__init__(model, test_steps=test_steps)

    def outer_optimizer(self) -> torch.optim.Optimizer:
        alpha, weights = self._groups()
        return torch.optim.Adam([
            {"params": weights, "lr": self.outer_lr_weights},
            {"params": alpha, "lr": self.outer_lr_alpha, "betas": (0.5, 0.999),
             "weight_decay": self.alpha_weight_decay},
        ])

    def test_inner(self) -> InnerOptimizer:
        return InnerSGD(self.rates)

    def meta_train_step(
        self, batch: EpisodeBatch, *, progress: float, rng: torch.Generator
    ) -> StepMetrics:
        inner = InnerSGD(self.rates)

        def task(params: Params, xs, ys, xq, yq):
            adapted = adapt(params, self.model, xs, ys, optimizer=inner, steps=self.train_steps)
            return (
                grad(loss_fn)(adapted, self.model, xq, yq),
                loss_fn(adapted, self.model, xq, yq),
                accuracy_fn(adapted, self.model, xq, yq),
            )

        grads, loss, acc = vmap(task, in_dims=(None, 0, 0, 0, 0))(
            self.parameters(), batch.x_support, batch.y_support, batch.x_query, batch.y_query
        )
        self.meta_update({k: g.mean(0) for k, g in grads.items()})
        return StepMetrics(loss=float(loss.mean()), accuracy=float(acc.mean()))


class MetaNASReptile(SupernetMetaLearner):
    """Reptile over (alpha, w) with an inner first-order DARTS (Adam, beta1 = 0), as MetaNAS.

    Meta-training adapts on all examples of an episode (support and query: Reptile has no
    query loss, its "train shots" are every shot it samples); the first-order DARTS step on
    one batch updates w and alpha from the same gradient evaluation.

    :param inner_lr_weights: inner Adam rate of w (MetaNAS Omniglot: 0.005).
    :param inner_lr_alpha: inner Adam rate of alpha (MetaNAS Omniglot: 0.005).
    :param train_steps: inner steps per task in meta-training (MetaNAS: 5).
    :param test_steps: inner steps at meta-test (MetaNAS: 50).
    :param meta_lr_weights: SGD meta rate of w (MetaNAS: 1.0).
    :param meta_lr_alpha: SGD meta rate of alpha (MetaNAS: 0.6).
    :param alpha_warmup: fraction of meta-training with alpha frozen (MetaNAS: 0.5).
    """

    name = "metanas_reptile"

    def __init__(
        self, model: SuperNet, *, inner_lr_weights: float = 0.005, inner_lr_alpha: float = 0.005,
        train_steps: int = 5, test_steps: int = 50, meta_lr_weights: float = 1.0,
        meta_lr_alpha: float = 0.6, alpha_warmup: float = 0.5,
    ) -> None:
        if train_steps < 1 or inner_lr_weights <= 0 or not 0.0 <= alpha_warmup < 1.0:
            raise ValueError(
                "MetaNAS needs train_steps >= 1, inner_lr_weights > 0, 0 <= alpha_warmup < 1; "
                f"got {train_steps}, {inner_lr_weights}, {alpha_warmup}"
            )
        self.rates = GroupRates(alpha=inner_lr_alpha, weights=inner_lr_weights)
        self.train_steps = train_steps
        self.meta_lr_weights, self.meta_lr_alpha = meta_lr_weights, meta_lr_alpha
        self.alpha_warmup = alpha_warmup
        super().__init__(model, test_steps=test_steps)

    def outer_optimizer(self) -> torch.optim.Optimizer:
        alpha, weights = self._groups()
        return torch.optim.SGD([
            {"params": weights, "lr": self.meta_lr_weights},
            {"params": alpha, "lr": self.meta_lr_alpha},
        ])

    def test_inner(self) -> InnerOptimizer:
        return InnerAdam(self.rates)

    def meta_train_step(
        self, batch: EpisodeBatch, *, progress: float, rng: torch.Generator
    ) -> StepMetrics:
        rates = self.rates if progress >= self.alpha_warmup else self.rates.frozen_alpha()
        inner = InnerAdam(rates)
        x = torch.cat([batch.x_support, batch.x_query], dim=1)
        y = torch.cat([batch.y_support, batch.y_query], dim=1)

        def task(params: Params, xt, yt):
            adapted = adapt(params, self.model, xt, yt, optimizer=inner, steps=self.train_steps)
            return adapted, loss_fn(adapted, self.model, xt, yt), accuracy_fn(
                adapted, self.model, xt, yt
            )

        params = self.parameters()
        adapted, loss, acc = vmap(task, in_dims=(None, 0, 0))(params, x, y)
        grads = {k: params[k] - adapted[k].mean(0) for k in params}
        if rates.alpha == 0.0:  # warm-up: exactly no alpha step (a mean of equal floats
            grads[ALPHA] = torch.zeros_like(grads[ALPHA])  # can differ in the last bit)
        self.meta_update(grads)
        return StepMetrics(loss=float(loss.mean()), accuracy=float(acc.mean()))
