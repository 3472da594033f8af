"""Fixtures of the priors tests: the synthetic multi-task table of :mod:`priors.synthetic`."""

from __future__ import annotations

import pytest

from priors.synthetic import SyntheticBenchmark


@pytest.fixture
def toy_benchmark() -> SyntheticBenchmark:
    return SyntheticBenchmark()


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> None:
    """Tiny MLPs run fastest on one thread (the shared ``one_torch_thread`` fixture)."""
