"""Meta-train a :class:`MetaPrior` for one held-out dataset from the training tables.

:func:`meta_train_prior` only receives a :class:`RestrictedBenchmark` over the training
datasets' tasks, so the held-out dataset's table cannot influence the prior: any look-up
of it raises :class:`metanas.priors.restricted.HeldOutTaskError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from metanas.priors.deep_kernel import KernelMetaConfig, meta_train_kernel
from metanas.priors.meta_policy import PolicyMetaConfig, meta_train_policy
from metanas.priors.meta_predictor import PredictorMetaConfig, meta_train_predictor
from metanas.priors.policy_strategies import PriorReinforce
from metanas.priors.predictor import cell_features, standardise
from metanas.priors.prior import MetaPrior
from metanas.priors.restricted import RestrictedBenchmark


@dataclass(frozen=True)
class PriorSignal:
    """Which table meta-training learns from on each training dataset."""

    metric: str = "valid_acc"
    fidelity: int = 200


def training_tables(
    view: RestrictedBenchmark, tasks: Sequence[str], signal: PriorSignal
) -> dict[str, np.ndarray]:
    """Signal of every cell (index = key) on each training task, read through the view."""
    keys = np.arange(view.space.size, dtype=np.int64)
    return {
        task: np.asarray(
            view.query(keys, task=task, fidelity=signal.fidelity, metric=signal.metric),
            dtype=np.float64,
        )
        for task in tasks
    }


def meta_train_prior(
    view: RestrictedBenchmark,
    tasks: Sequence[str],
    *,
    signal: PriorSignal,
    policy: PolicyMetaConfig,
    predictor: PredictorMetaConfig,
    reinforce_kwargs: Mapping[str, float],
    encodings: Sequence[str],
    seed: int,
    kernel: KernelMetaConfig | None = None,
) -> MetaPrior:
    """Meta-train the policy (Reptile over REINFORCE), the predictor and, when ``kernel``
    asks for iterations, the deep-kernel GP on ``tasks``.

    :param tasks: the training datasets' search tasks; each must be visible in ``view``.
    :param reinforce_kwargs: the inner REINFORCE's settings (those of the held-out search).
    """
    tables = training_tables(view, tasks, signal)
    space = view.space
    # The third word leaves the first two (and so existing priors) unchanged.
    policy_seed, predictor_seed, kernel_seed = np.random.SeedSequence(seed).generate_state(3)

    def make_learner(logits: np.ndarray, learner_seed: int) -> PriorReinforce:
        return PriorReinforce(
            space, seed=learner_seed, prior=MetaPrior(logits=logits), **reinforce_kwargs
        )

    logits = meta_train_policy(
        np.zeros((space.num_edges, space.num_ops)),
        tables,
        make_learner,
        policy,
        seed=int(policy_seed),
    )
    features = cell_features(space, space.all_codes(), encodings)
    params = meta_train_predictor(features, tables, predictor, seed=int(predictor_seed))
    deep_kernel = scores = None
    if kernel is not None and kernel.meta_iterations > 0:
        deep_kernel = meta_train_kernel(features, tables, kernel, seed=int(kernel_seed))
        scores = np.mean([standardise(tables[t]) for t in tasks], axis=0)
    return MetaPrior(
        logits=logits,
        predictor=params,
        features=features,
        training_tasks=tuple(tasks),
        kernel=deep_kernel,
        scores=scores,
    )
