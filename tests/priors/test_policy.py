"""Policy priors: Reptile over REINFORCE, and the strategies that start from the prior."""

from __future__ import annotations

import numpy as np
import pytest

from metanas.priors.meta_policy import PolicyMetaConfig, meta_train_policy
from metanas.priors.metad2a import policy_log_probabilities
from metanas.priors.policy_strategies import PriorEvolution, PriorReinforce
from metanas.priors.prior import MetaPrior
from priors.synthetic import TOY_SPACE, SyntheticBenchmark


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _peaked(op_per_edge: list[int], strength: float = 30.0) -> MetaPrior:
    logits = np.zeros((TOY_SPACE.num_edges, TOY_SPACE.num_ops))
    logits[np.arange(TOY_SPACE.num_edges), op_per_edge] = strength
    return MetaPrior(logits=logits)


def test_prior_reinforce_starts_from_the_prior() -> None:
    prior = MetaPrior(logits=np.log(np.array([[0.7, 0.2, 0.1]] * TOY_SPACE.num_edges)))
    strategy = PriorReinforce(TOY_SPACE, seed=0, prior=prior)
    np.testing.assert_allclose(strategy.probabilities, _softmax(prior.logits), atol=1e-2)
    with pytest.raises(ValueError, match="needs \\(4, 3\\)"):
        PriorReinforce(TOY_SPACE, seed=0, prior=MetaPrior(logits=np.zeros((3, 3))))


def test_prior_evolution_samples_and_mutates_from_the_prior() -> None:
    for seed in range(20):
        strategy = PriorEvolution(
            TOY_SPACE, seed=seed, prior=_peaked([2, 2, 1, 0]), population_size=4, sample_size=2
        )
        for _ in range(4):
            trial = strategy.ask()
            assert trial.code == (2, 2, 1, 0)
            strategy.tell(trial, 1.0)
        # The first child mutates exactly one edge, never keeping its current op.
        child = np.array(strategy.ask().code)
        assert np.count_nonzero(child != np.array([2, 2, 1, 0])) == 1


def test_reptile_policy_learns_the_shared_good_ops_and_is_seeded() -> None:
    bench = SyntheticBenchmark(seed=1)
    keys = np.arange(TOY_SPACE.size)
    tables = {t: bench.query(keys, task=t, fidelity=200) for t in ("t1", "t2")}
    config = PolicyMetaConfig(meta_iterations=4, inner_steps=40, meta_lr=1.0)

    def learner(logits: np.ndarray, seed: int) -> PriorReinforce:
        return PriorReinforce(
            TOY_SPACE, seed=seed, prior=MetaPrior(logits=logits), learning_rate=0.05
        )

    start = np.zeros((TOY_SPACE.num_edges, TOY_SPACE.num_ops))
    logits = meta_train_policy(start, tables, learner, config, seed=0)
    np.testing.assert_array_equal(logits, meta_train_policy(start, tables, learner, config, seed=0))
    assert not np.array_equal(logits, meta_train_policy(start, tables, learner, config, seed=1))
    # The held-out task's best cell becomes far more likely than under the uniform policy.
    held_out = bench.query(keys, task="t3", fidelity=200)
    best = TOY_SPACE.all_codes()[np.argmax(held_out)][None, :]
    gain = policy_log_probabilities(logits, best) - policy_log_probabilities(start, best)
    assert gain[0] > np.log(3.0)


def test_policy_config_is_validated() -> None:
    with pytest.raises(ValueError, match="meta_iterations >= 1"):
        PolicyMetaConfig(meta_iterations=0)
    with pytest.raises(ValueError, match="at least one training table"):
        meta_train_policy(np.zeros((4, 3)), {}, lambda *_: None, PolicyMetaConfig(), seed=0)
