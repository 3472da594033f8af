"""FLOPs and params of the standard network against NASLib's zero-cost data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tabular_bench import flops as net
from tabular_bench.spaces import NB201

# NASLib convention (data README): ops skip_connect, none, nor_conv_3x3, nor_conv_1x1,
# avg_pool_3x3; edges 1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2.
NASLIB_TO_OUR_OP = np.array([1, 0, 3, 2, 4])
OUR_EDGE_FROM_NASLIB = [0, 1, 3, 2, 4, 5]


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_flops_and_params_match_naslib(real_data: Path, dataset: str) -> None:
    cells = json.loads((real_data / "nb201" / "naslib_zc_nasbench201.json").read_text())[dataset]
    arch = np.array([[int(x) for x in c["arch"].strip("()").split(",")] for c in cells.values()])
    codes = NASLIB_TO_OUR_OP[arch][:, OUR_EDGE_FROM_NASLIB]
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
