"""FLOPs and params of the standard network against NASLib's zero-cost data."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from tabular_bench import flops as net
from tabular_bench.spaces import NB201


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_flops_and_params_match_naslib(real_data: Path, dataset: str) -> None:
    cells = json.loads((real_data / "nb201" / "naslib_zc_nasbench201.json").read_text())[dataset]
    codes = NB201.from_naslib([ast.literal_eval(c["arch"]) for c in cells.values()])
    expected_flops = np.array([c["flops"]["score"] for c in cells.values()])
    expected_params = np.array([c["params"]["score"] for c in cells.values()])
    assert len(codes) >= 724
    np.testing.assert_allclose(net.flops(codes, dataset), expected_flops, rtol=0, atol=1e-6)
    np.testing.assert_allclose(net.params(codes, dataset), expected_params, rtol=0, atol=1e-6)


def test_cifar10_valid_uses_cifar10_network() -> None:
    codes = NB201.all_codes()[:100]
    np.testing.assert_array_equal(net.flops(codes, "cifar10-valid"), net.flops(codes, "cifar10"))


def test_unknown_dataset_and_bad_code() -> None:
    with pytest.raises(KeyError, match="ImageNet16-120"):
        net.flops(np.zeros((1, 6), dtype=int), "imagenet")
    with pytest.raises(ValueError):
        net.params(np.array([[0, 0, 0, 0, 0, 5]]), "cifar10")
