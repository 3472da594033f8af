"""The restricted view: the leak guard of leave-one-dataset-out meta-training."""

from __future__ import annotations

import numpy as np
import pytest

from metanas.priors.restricted import HeldOutTaskError, RestrictedBenchmark


def test_view_forwards_allowed_tasks(toy_benchmark) -> None:
    view = RestrictedBenchmark(toy_benchmark, ["t1", "t2"])
    keys = np.arange(5)
    np.testing.assert_array_equal(
        view.query(keys, task="t1", fidelity=12),
        toy_benchmark.query(keys, task="t1", fidelity=12),
    )
    np.testing.assert_array_equal(
        view.cost(keys, task="t2", fidelity=200), toy_benchmark.cost(keys, task="t2", fidelity=200)
    )
    assert view.tasks == ("t1", "t2")
    assert view.space is toy_benchmark.space


@pytest.mark.parametrize("call", ["query", "cost", "is_measured"])
def test_view_raises_on_held_out_task(toy_benchmark, call: str) -> None:
    view = RestrictedBenchmark(toy_benchmark, ["t1", "t2"])
    kwargs = {"task": "t3"} if call == "is_measured" else {"task": "t3", "fidelity": 12}
    with pytest.raises(HeldOutTaskError, match="not visible to meta-training"):
        getattr(view, call)(np.arange(3), **kwargs)
    assert "t3" not in toy_benchmark.queried_tasks


def test_view_rejects_unknown_or_empty_tasks(toy_benchmark) -> None:
    with pytest.raises(KeyError, match="unknown tasks"):
        RestrictedBenchmark(toy_benchmark, ["t1", "nope"])
    with pytest.raises(ValueError, match="at least one"):
        RestrictedBenchmark(toy_benchmark, [])
