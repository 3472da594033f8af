"""Strategy tests run torch (Optuna's GP sampler) on one thread."""

import pytest


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> None:
    """Apply the shared ``one_torch_thread`` fixture to every strategy test."""
