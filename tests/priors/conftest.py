"""Fixtures of the priors tests: the synthetic multi-task table of :mod:`priors.synthetic`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from priors.synthetic import SyntheticBenchmark


@pytest.fixture
def toy_benchmark() -> SyntheticBenchmark:
    return SyntheticBenchmark()


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny MLPs run fastest on one thread; two threads thrash on a shared 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
