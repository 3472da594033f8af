"""The meta-learned deep-kernel GP: trained on training tables only, adapts to queries."""

from __future__ import annotations

import numpy as np
from scipy import stats

from metanas.priors.deep_kernel import KernelMetaConfig, meta_train_kernel
from metanas.priors.deep_kernel_bo import DeepKernelBO
from metanas.priors.predictor import cell_features, standardise
from metanas.priors.prior import MetaPrior
from priors.synthetic import TOY_SPACE, SyntheticBenchmark

CONFIG = KernelMetaConfig(hidden=(16,), embedding=4, meta_iterations=100, batch=30, lr=0.02)


def _prior(bench: SyntheticBenchmark) -> MetaPrior:
    keys = np.arange(TOY_SPACE.size)
    tables = {t: bench.query(keys, task=t, fidelity=200) for t in ("t1", "t2")}
    features = cell_features(TOY_SPACE, TOY_SPACE.all_codes(), ["one_hot"])
    kernel = meta_train_kernel(features, tables, CONFIG, seed=0)
    scores = np.mean([standardise(v) for v in tables.values()], axis=0)
    return MetaPrior(logits=np.zeros((4, 3)), features=features, kernel=kernel, scores=scores)


def test_predictions_on_the_held_out_task_improve_with_queries() -> None:
    """Random queries (epsilon 1) so that the check is about conditioning, not search."""
    bench = SyntheticBenchmark()
    truth = bench.query(np.arange(TOY_SPACE.size), task="t3", fidelity=12)
    strategy = DeepKernelBO(TOY_SPACE, seed=0, prior=_prior(bench), epsilon=1.0)
    before = stats.spearmanr(strategy.predict()[0], truth)[0]
    for _ in range(40):
        trial = strategy.ask()
        strategy.tell(trial, float(truth[trial.key]))
    after = stats.spearmanr(strategy.predict()[0], truth)[0]
    assert after > before + 0.01, (before, after)


def test_first_ask_is_the_zero_shot_choice_and_no_cell_repeats() -> None:
    prior = _prior(SyntheticBenchmark())
    strategy = DeepKernelBO(TOY_SPACE, seed=0, prior=prior, epsilon=0.0)
    truth = SyntheticBenchmark().query(np.arange(TOY_SPACE.size), task="t3", fidelity=12)
    keys = []
    for _ in range(TOY_SPACE.size):
        trial = strategy.ask()
        strategy.tell(trial, float(truth[trial.key]))
        keys.append(trial.key)
    assert keys[0] == int(np.argmax(prior.scores))
    assert len(set(keys)) == TOY_SPACE.size


def test_meta_training_is_seeded() -> None:
    a, b = _prior(SyntheticBenchmark()), _prior(SyntheticBenchmark())
    assert all(np.array_equal(a.kernel[k], b.kernel[k]) for k in a.kernel)
