"""Predictor mechanics: MAML's gradient, meta-learning helps few-shot regression, BO loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanas.priors.meta_predictor import PredictorMetaConfig, meta_train_predictor
from metanas.priors.predictor import adapt, cell_features, init_mlp, mlp, mse, standardise
from metanas.priors.predictor_bo import PredictorBO
from metanas.priors.prior import MetaPrior
from priors.synthetic import TOY_SPACE, SyntheticBenchmark


def _tables(bench: SyntheticBenchmark, tasks: list[str]) -> dict[str, np.ndarray]:
    keys = np.arange(bench.space.size)
    return {t: bench.query(keys, task=t, fidelity=200) for t in tasks}


def test_maml_gradient_through_adaptation_matches_finite_differences() -> None:
    gen = torch.Generator().manual_seed(0)
    params = {k: v.double() for k, v in init_mlp(4, (6,), generator=gen).items()}
    x = torch.randn(12, 4, generator=gen, dtype=torch.float64)
    y = torch.randn(12, generator=gen, dtype=torch.float64)

    def outer(p: dict[str, torch.Tensor]) -> torch.Tensor:
        return mse(adapt(p, x[:6], y[:6], steps=3, lr=0.1), x[6:], y[6:])

    leaf = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    outer(leaf).backward()
    eps = 1e-6
    for name, index in (("w0", (1, 2)), ("b1", (0,))):
        plus = {k: v.clone() for k, v in params.items()}
        minus = {k: v.clone() for k, v in params.items()}
        plus[name][index] += eps
        minus[name][index] -= eps
        numeric = (outer(plus) - outer(minus)) / (2 * eps)
        assert leaf[name].grad[index].item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("algorithm", ["reptile", "maml"])
def test_meta_learned_init_beats_random_init_on_held_out_task(algorithm: str) -> None:
    bench = SyntheticBenchmark(seed=3)
    features = cell_features(TOY_SPACE, TOY_SPACE.all_codes(), ["one_hot"])
    config = PredictorMetaConfig(
        algorithm=algorithm,
        hidden=(16,),
        meta_iterations=60,
        support=8,
        query=30,
        inner_steps=5,
        inner_lr=0.05,
        meta_lr=0.5 if algorithm == "reptile" else 0.1,
    )
    meta = meta_train_predictor(features, _tables(bench, ["t1", "t2"]), config, seed=0)
    scratch = init_mlp(features.shape[1], (16,), generator=torch.Generator().manual_seed(0))
    held_out = standardise(bench.query(np.arange(TOY_SPACE.size), task="t3", fidelity=200))
    x = torch.as_tensor(features)
    y = torch.as_tensor(held_out, dtype=torch.float32)
    support = np.random.default_rng(1).choice(TOY_SPACE.size, 8, replace=False)

    def held_out_error(init: dict[str, torch.Tensor]) -> float:
        tuned = adapt(init, x[support], y[support], steps=5, lr=0.05)
        return float(mse(tuned, x, y))

    assert held_out_error(meta) < 0.5 * held_out_error(scratch)


def test_meta_training_is_deterministic_by_seed() -> None:
    bench = SyntheticBenchmark()
    features = TOY_SPACE.one_hot(TOY_SPACE.all_codes())
    config = PredictorMetaConfig(hidden=(8,), meta_iterations=5, support=5, query=10)
    tables = _tables(bench, ["t1"])
    a = meta_train_predictor(features, tables, config, seed=4)
    b = meta_train_predictor(features, tables, config, seed=4)
    c = meta_train_predictor(features, tables, config, seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_bad_predictor_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="reptile' or 'maml"):
        PredictorMetaConfig(algorithm="fomaml")
    with pytest.raises(ValueError, match="one_hot"):
        cell_features(TOY_SPACE, TOY_SPACE.all_codes()[:2], ["path_encoding"])


def _run_bo(seed: int, params: dict[str, torch.Tensor], values: np.ndarray, n: int) -> list[int]:
    features = TOY_SPACE.one_hot(TOY_SPACE.all_codes())
    prior = MetaPrior(logits=np.zeros((4, 3)), predictor=params, features=features)
    bo = PredictorBO(
        TOY_SPACE, seed=seed, prior=prior, finetune_steps=5, refit_every=5, epsilon=0.2
    )
    keys = []
    for _ in range(n):
        trial = bo.ask()
        bo.tell(trial, float(values[trial.key]))
        keys.append(trial.key)
    return keys


def test_bo_first_ask_is_the_zero_shot_best_and_never_repeats() -> None:
    bench = SyntheticBenchmark()
    features = TOY_SPACE.one_hot(TOY_SPACE.all_codes())
    config = PredictorMetaConfig(hidden=(16,), meta_iterations=40, support=10, query=30)
    params = meta_train_predictor(features, _tables(bench, ["t1", "t2"]), config, seed=0)
    values = bench.query(np.arange(TOY_SPACE.size), task="t3", fidelity=12)
    prior = MetaPrior(logits=np.zeros((4, 3)), predictor=params, features=features)
    bo = PredictorBO(TOY_SPACE, seed=0, prior=prior, epsilon=0.0)
    first = bo.ask()
    with torch.no_grad():
        assert first.key == int(torch.argmax(mlp(params, torch.as_tensor(features))))
    keys = _run_bo(0, params, values, TOY_SPACE.size)
    assert sorted(keys) == list(range(TOY_SPACE.size))
    assert keys == _run_bo(0, params, values, TOY_SPACE.size)
    assert keys != _run_bo(1, params, values, TOY_SPACE.size)
    # The meta-learned ranking finds the held-out optimum far sooner than enumeration.
    assert keys.index(int(np.argmax(values))) < TOY_SPACE.size // 4
