"""The shared 95% interval, and what a run folder records about its settings."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from common_io.fingerprint import describe_call, fingerprint
from metanas.meta.maml import MAML
from metanas.meta.run_settings import pool_identity
from metanas.meta.stats import NORMAL_FROM, mean_ci95


def test_mean_ci95_uses_t_for_small_samples_and_the_normal_from_600() -> None:
    small = np.arange(10.0)
    mean, half = mean_ci95(small)
    assert mean == 4.5
    assert half == pytest.approx(stats.t.ppf(0.975, 9) * small.std(ddof=1) / math.sqrt(10))
    large = np.random.default_rng(0).normal(size=NORMAL_FROM)
    _, half = mean_ci95(large)
    assert half == pytest.approx(1.96 * large.std(ddof=1) / math.sqrt(NORMAL_FROM))
    assert math.isnan(mean_ci95([3.0])[1])
    with pytest.raises(ValueError, match="at least one"):
        mean_ci95([])


def test_describe_call_records_defaults_and_normalises_sequences() -> None:
    described = describe_call(functools.partial(MAML, inner_lr=0.4))
    assert described["target"] == "metanas.meta.maml.MAML"
    assert described["kwargs"] == {
        "first_order": False, "inner_lr": 0.4, "outer_lr": 1e-3, "test_steps": 3,
        "train_steps": 1,
    }
    assert fingerprint({"a": (1, 2)}) == fingerprint({"a": [1, 2]}) == {"a": [1, 2]}


def test_pool_identity_sees_every_pixel(synthetic_tasks) -> None:
    pool = synthetic_tasks.pool("train")
    before = pool_identity(pool)
    pool.data[3, 2, 0, 5, 5] += 1e-3
    after = pool_identity(pool)
    assert before["pixels_sha256"] != after["pixels_sha256"]
    assert {k: v for k, v in before.items() if k != "pixels_sha256"} == {
        k: v for k, v in after.items() if k != "pixels_sha256"}
