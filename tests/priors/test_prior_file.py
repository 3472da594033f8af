"""Prior files: a lossless round trip through tensors, and a clear error on a corrupt file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from metanas.priors.predictor import init_mlp
from metanas.priors.prior import MetaPrior, load_prior, save_prior


def test_prior_round_trips_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    prior = MetaPrior(
        logits=rng.normal(size=(6, 5)),
        predictor=init_mlp(7, (4,), generator=torch.Generator().manual_seed(0)),
        features=rng.normal(size=(9, 7)).astype(np.float32),
        training_tasks=("cifar100", "ImageNet16-120"),
    )
    save_prior(prior, tmp_path / "prior.pt")
    loaded = load_prior(tmp_path / "prior.pt")
    np.testing.assert_array_equal(loaded.logits, prior.logits)
    assert loaded.logits.dtype == np.float64 and loaded.features.dtype == np.float32
    np.testing.assert_array_equal(loaded.features, prior.features)
    assert loaded.predictor.keys() == prior.predictor.keys()
    assert all(torch.equal(loaded.predictor[k], v) for k, v in prior.predictor.items())
    assert loaded.training_tasks == prior.training_tasks

    policy_only = MetaPrior(logits=np.zeros((2, 3)))
    save_prior(policy_only, tmp_path / "policy.pt")
    loaded = load_prior(tmp_path / "policy.pt")
    assert loaded.predictor is None and loaded.features is None
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary


def test_corrupt_prior_file_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "prior_0.pt"
    save_prior(MetaPrior(logits=np.zeros((2, 3))), path)
    path.write_bytes(path.read_bytes()[:40])  # a torn write of an older version
    with pytest.raises(RuntimeError, match=r"prior_0.pt .*delete it"):
        load_prior(path)
