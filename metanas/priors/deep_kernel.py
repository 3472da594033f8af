"""A deep-kernel Gaussian process meta-learned across training tables (FSBO).

Few-Shot Bayesian Optimisation (Wistuba & Grabocka, ICLR 2021): an MLP embeds each cell's
encoding, an RBF kernel on the embedding defines a GP, and all of it (MLP, mean, log
length-scale, output scale, noise) is trained by maximising the GP marginal likelihood of
random cell batches of the training tasks, targets standardised per task. On the held-out
dataset the GP is then conditioned on the search's own queries
(:class:`metanas.priors.deep_kernel_bo.DeepKernelBO`).

Unlike FSBO the mean is not constant: it is ``a * score + b``, where ``score`` is the
cell's mean standardised signal on the *other* training tasks (on the held-out dataset: on
all of them, the zero-shot ranking). A mean head on the embedding as well was tried and
dropped: it ranked the held-out cells worse than the score alone (CIFAR-100 held out,
Spearman 0.79 against 0.86 with its 12-epoch validation signal). The first query is therefore
the zero-shot transfer choice, and the kernel learns how far held-out observations should
move the neighbours' predictions away from it (as the Gaussian-copula prior of Salinas et
al. 2020 is refined by a GP on the target task).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import cho_solve, solve_triangular

from metanas.priors.predictor import Params, standardise

_JITTER = 1e-6
SCALE_PRIOR_SD = 0.5
"""Prior sd of the log held-out signal scale around the training tasks' (log) scale."""


@dataclass(frozen=True)
class KernelMetaConfig:
    """Hyper-parameters of the deep kernel's meta-training (0 iterations: not trained)."""

    hidden: tuple[int, ...] = (32,)
    """Hidden widths of the embedding MLP."""
    embedding: int = 8
    """Embedding dimension (the RBF kernel's input)."""
    meta_iterations: int = 0
    """Adam steps; each sums the negative log marginal likelihood over all training tasks."""
    batch: int = 100
    """Random cells per task and step."""
    lr: float = 0.01
    """Adam learning rate."""
    top_fraction: float = 0.2
    """Batches come from this share of cells with the best transfer score: the region a
    search visits, where tasks disagree less than over the whole space."""

    def __post_init__(self) -> None:
        if self.meta_iterations < 0 or self.batch < 2 or self.embedding < 1 or not self.lr > 0:
            raise ValueError("need meta_iterations >= 0, batch >= 2, embedding >= 1, lr > 0")
        if not 0 < self.top_fraction <= 1:
            raise ValueError(f"top_fraction must lie in (0, 1], got {self.top_fraction}")


def init_kernel(
    in_features: int, config: KernelMetaConfig, *, generator: torch.Generator
) -> Params:
    """He-initialised embedding MLP, mean = score, unit length-scale and output scale."""
    sizes = [in_features, *config.hidden, config.embedding]
    params: Params = {}
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        std = (2 / fan_in) ** 0.5
        params[f"w{layer}"] = torch.randn(fan_in, fan_out, generator=generator) * std
        params[f"b{layer}"] = torch.zeros(fan_out)
    params["mean_b"] = torch.zeros(())
    params["mean_score"] = torch.ones(())
    params["log_lengthscale"] = torch.zeros(())
    params["log_outputscale"] = torch.zeros(())
    params["log_noise"] = torch.tensor(-2.0)
    return params


def embed(params: Params, x: torch.Tensor) -> torch.Tensor:
    """The MLP embedding of each row of ``x``, shape ``(n, embedding)``."""
    layers = sum(1 for k in params if k.startswith("w") and k[1:].isdigit())
    for layer in range(layers):
        x = x @ params[f"w{layer}"] + params[f"b{layer}"]
        if layer < layers - 1:
            x = torch.relu(x)
    return x


def prior_mean(params: Params, score: torch.Tensor) -> torch.Tensor:
    """The GP mean of cells with transfer ``score``."""
    return params["mean_score"] * score + params["mean_b"]


def negative_log_likelihood(
    params: Params, x: torch.Tensor, score: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """GP negative log marginal likelihood of ``y`` at cells ``x``, per point."""
    z = embed(params, x)
    residual = y - prior_mean(params, score)
    cov = rbf(z, z, params) + (params["log_noise"].exp() ** 2 + _JITTER) * torch.eye(len(y))
    chol = torch.linalg.cholesky(cov)
    alpha = torch.cholesky_solve(residual[:, None], chol)[:, 0]
    return (0.5 * residual @ alpha + chol.diagonal().log().sum()) / len(y)


def rbf(a: torch.Tensor, b: torch.Tensor, params: Params) -> torch.Tensor:
    """RBF kernel between embeddings ``a`` and ``b``."""
    distance = torch.cdist(a, b) ** 2
    scale = params["log_outputscale"].exp() ** 2
    return scale * torch.exp(-0.5 * distance / params["log_lengthscale"].exp() ** 2)


def meta_train_kernel(
    features: np.ndarray,
    tables: Mapping[str, np.ndarray],
    config: KernelMetaConfig,
    *,
    seed: int,
) -> Params:
    """Deep-kernel parameters maximising the marginal likelihood of the training tables.

    :param features: encoding of every cell of the space, ``(space.size, F)``.
    :param tables: per training task, the signal of every cell (index = key), read by the
        caller from a restricted view. Each task's ``score`` is the mean standardised signal
        of the others (zero with a single task), so the mean's weight on it is learned
        from transfer between tasks, never from a task's own values.
    """
    if not tables:
        raise ValueError("deep-kernel meta-training needs at least one training table")
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    x_all = torch.as_tensor(features, dtype=torch.float32)
    params = init_kernel(x_all.shape[1], config, generator=generator)
    for p in params.values():
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(params.values(), lr=config.lr)
    names = sorted(tables)
    z = {t: torch.as_tensor(standardise(tables[t]), dtype=torch.float32) for t in names}
    scores = {
        t: torch.stack([z[o] for o in names if o != t]).mean(dim=0)
        if len(names) > 1 else torch.zeros_like(z[t])
        for t in names
    }
    region = max(int(config.top_fraction * x_all.shape[0]), 2)
    top = {t: np.argsort(-scores[t].numpy(), kind="stable")[:region] for t in names}
    batch = min(config.batch, region)
    for _ in range(config.meta_iterations):
        optimiser.zero_grad()
        loss = torch.zeros(())
        for task in names:
            keys = torch.as_tensor(rng.choice(top[task], size=batch, replace=False))
            loss = loss + negative_log_likelihood(
                params, x_all[keys], scores[task][keys], z[task][keys]
            )
        loss.backward()
        optimiser.step()
    trained = {name: p.detach().clone() for name, p in params.items()}
    # Not trained: where the held-out signal's scale is expected (geometric mean of sds).
    sds = [max(float(np.std(tables[t])), 1e-12) for t in names]
    trained["log_signal_scale"] = torch.tensor(float(np.mean(np.log(sds))))
    return trained


class DeepKernelPosterior:
    """The meta-learned GP conditioned on observations, in numpy (cheap per ask).

    The embedding and the prior mean of every cell are computed once; each update solves
    an ``n x n`` system and returns the posterior mean and variance of every cell.

    :param params: from :func:`meta_train_kernel`.
    :param features: encoding of every cell in key order.
    :param scores: every cell's mean standardised signal over the training tasks.
    """

    def __init__(self, params: Params, features: np.ndarray, scores: np.ndarray) -> None:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(features), dtype=torch.float32)
            z = embed(params, x)
            score = torch.as_tensor(np.asarray(scores), dtype=torch.float32)
            self.prior_mean = prior_mean(params, score).numpy().astype(np.float64)
        self.embedding = z.numpy().astype(np.float64)
        self.sq_norm = (self.embedding**2).sum(axis=1)
        self.lengthscale = float(params["log_lengthscale"].exp())
        self.outputscale = float(params["log_outputscale"].exp() ** 2)
        self.noise = float(params["log_noise"].exp() ** 2) + _JITTER
        self.log_signal_scale = float(params["log_signal_scale"])

    def _kernel(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        a = self.embedding[rows]
        if cols is None:
            sq = self.sq_norm[:, None] + self.sq_norm[rows][None, :] - 2 * self.embedding @ a.T
        else:
            b = self.embedding[cols]
            sq = self.sq_norm[rows][:, None] + self.sq_norm[cols][None, :] - 2 * a @ b.T
        return self.outputscale * np.exp(-0.5 * np.maximum(sq, 0.0) / self.lengthscale**2)

    def posterior(
        self, keys: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float | None]:
        """Mean, variance of every cell and the best observation, in the model's units.

        The held-out signal ``values`` (at ``keys``) has its own scale: it is modelled as
        ``values / scale = offset + prior_mean + GP``, ``scale`` the MAP on a grid under a
        log-normal prior around the training tasks' signal sd (a search observes good
        cells only, whose spread alone would understate the scale and make the GP explore
        far from the prior's best cells), the offset by generalised least squares. With no
        observation the prior is returned unchanged with best ``None``.
        """
        n = keys.size
        if n == 0:
            return self.prior_mean.copy(), np.full(self.prior_mean.size, self.outputscale), None
        gram = self._kernel(keys, keys) + self.noise * np.eye(n)
        factor = (np.linalg.cholesky(gram), True)
        ones = cho_solve(factor, np.ones(n))
        m = self.prior_mean[keys]
        best_nll, fit = np.inf, (1.0, 0.0, m)
        for log_scale in self.log_signal_scale + np.linspace(-1.5, 1.5, 31):
            u = values / np.exp(log_scale) - m
            offset = float(ones @ u / ones.sum())
            residual = u - offset
            nll = 0.5 * residual @ cho_solve(factor, residual) + n * log_scale
            nll += 0.5 * ((log_scale - self.log_signal_scale) / SCALE_PRIOR_SD) ** 2
            if nll < best_nll:
                best_nll, fit = nll, (float(np.exp(log_scale)), offset, residual)
        scale, offset, residual = fit
        cross = self._kernel(keys)  # (cells, n)
        mean = offset + self.prior_mean + cross @ cho_solve(factor, residual)
        v = solve_triangular(factor[0], cross.T, lower=True)
        var = np.maximum(self.outputscale - (v**2).sum(axis=0), 1e-12)
        return mean, var, float(values.max() / scale)
