"""Transfer baselines: what each reads from the training tasks and how it uses it."""

from __future__ import annotations

import numpy as np
import pytest

from metanas.priors.hand_prior import HandPriorReinforce, hand_logits, op_costs
from metanas.priors.meta_train import PriorSignal
from metanas.priors.restricted import HeldOutTaskError, RestrictedBenchmark
from metanas.priors.source import TransferSource
from metanas.priors.transfer_baselines import (
    BoundingBox,
    QuantilePrior,
    WarmREA,
    WarmTPE,
    ZeroShot,
    best_cells,
)
from priors.synthetic import TOY_SPACE, SyntheticBenchmark
from tabular_bench.spaces import CellSearchSpace

SIGNAL = PriorSignal(metric="valid_acc", fidelity=200)


def _source(bench: SyntheticBenchmark, tasks: tuple[str, ...] = ("t1", "t2")) -> TransferSource:
    return TransferSource(RestrictedBenchmark(bench, tasks), tasks, SIGNAL)


def _mean_z(bench: SyntheticBenchmark, tasks: tuple[str, ...] = ("t1", "t2")) -> np.ndarray:
    keys = np.arange(TOY_SPACE.size)
    values = [bench.query(keys, task=t, fidelity=200) for t in tasks]
    return np.mean([(v - v.mean()) / v.std() for v in values], axis=0)


def test_zero_shot_walks_the_mean_z_ranking(toy_benchmark) -> None:
    strategy = ZeroShot(TOY_SPACE, seed=0, source=_source(toy_benchmark))
    keys = [strategy.ask().key for _ in range(TOY_SPACE.size)]
    np.testing.assert_array_equal(keys, np.argsort(-_mean_z(toy_benchmark), kind="stable"))
    assert keys[0] == int(np.argmax(_mean_z(toy_benchmark)))
    with pytest.raises(RuntimeError, match="already been proposed"):
        strategy.ask()


def test_source_is_the_only_data_path(toy_benchmark) -> None:
    """A source naming the held-out task fails; building a strategy reads no other task."""
    toy_benchmark.queried_tasks.clear()
    leaky = TransferSource(RestrictedBenchmark(toy_benchmark, ["t1", "t2"]), ("t1", "t3"), SIGNAL)
    with pytest.raises(HeldOutTaskError):
        ZeroShot(TOY_SPACE, seed=0, source=leaky)
    held_out_changed = SyntheticBenchmark(shift=5.0)
    a = ZeroShot(TOY_SPACE, seed=0, source=_source(SyntheticBenchmark())).order
    b = ZeroShot(TOY_SPACE, seed=0, source=_source(held_out_changed)).order
    np.testing.assert_array_equal(a, b)
    assert held_out_changed.queried_tasks == {"t1", "t2"}
    with pytest.raises(TypeError, match="RestrictedBenchmark"):
        TransferSource(toy_benchmark, ("t1",), SIGNAL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="validation signal"):
        TransferSource(
            RestrictedBenchmark(toy_benchmark, ["t1"]), ("t1",), PriorSignal("test_acc", 200)
        )


def test_warm_starts_begin_with_the_training_tasks_best(toy_benchmark) -> None:
    source = _source(toy_benchmark)
    warm = best_cells(source, 4)
    keys = np.arange(TOY_SPACE.size)
    firsts = {int(np.argmax(toy_benchmark.query(keys, task=t, fidelity=200))) for t in ("t1", "t2")}
    assert firsts <= set(warm[:2].tolist()) and len(set(warm.tolist())) == 4
    rea = WarmREA(TOY_SPACE, seed=0, source=source, population_size=4, sample_size=2)
    tpe = WarmTPE(TOY_SPACE, seed=0, source=source, n_startup_trials=4)
    for strategy in (rea, tpe):
        asked = []
        for _ in range(4):
            trial = strategy.ask()
            strategy.tell(trial, 1.0)
            asked.append(trial.key)
        assert asked == warm.tolist()


def test_bounding_box_stays_in_the_box_until_it_is_exhausted(toy_benchmark) -> None:
    strategy = BoundingBox(TOY_SPACE, seed=0, source=_source(toy_benchmark), top_k=2)
    box = set(strategy.box.tolist())
    assert 0 < len(box) < TOY_SPACE.size
    edges = np.arange(TOY_SPACE.num_edges)
    keys = [strategy.ask().key for _ in range(TOY_SPACE.size)]
    assert set(keys[: len(box)]) == box and len(set(keys)) == TOY_SPACE.size
    for key in keys[: len(box)]:
        assert strategy.allowed[edges, TOY_SPACE.code(key)].all()


def test_quantile_prior_prefers_cells_the_training_tasks_agree_on(toy_benchmark) -> None:
    source = _source(toy_benchmark)
    firsts = [QuantilePrior(TOY_SPACE, seed=s, source=source).ask().key for s in range(20)]
    rank = np.argsort(np.argsort(-_mean_z(toy_benchmark)))
    assert np.median(rank[firsts]) < 5  # out of 81 cells
    runs = set()
    for seed in range(5):
        strategy = QuantilePrior(TOY_SPACE, seed=seed, source=source)
        runs.add(tuple(strategy.ask().key for _ in range(10)))
    assert len(runs) > 1  # sampled, not a fixed order


def test_hand_prior_ranks_ops_by_kind() -> None:
    nb201_like = CellSearchSpace(
        "x", ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"), 6
    )
    costs = op_costs(nb201_like)
    order = [nb201_like.op_names[i] for i in np.argsort(-costs)]
    assert order == ["nor_conv_3x3", "nor_conv_1x1", "skip_connect", "avg_pool_3x3", "none"]
    logits = hand_logits(nb201_like)
    assert (logits == logits[0]).all() and list(logits[0]) == [0, 2, 3, 4, 1]
    with pytest.raises(ValueError, match="op_costs"):
        op_costs(CellSearchSpace("y", ("a", "b"), 2))
    strategy = HandPriorReinforce(nb201_like, seed=0)
    codes = np.array([strategy.ask().code for _ in range(200)])
    assert np.mean(codes == 3) > 0.5  # conv3x3 drawn with p ~ 0.64 per edge
