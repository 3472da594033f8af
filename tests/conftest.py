"""Shared test fixtures: the real data directory and the GPU marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from common_io.data_dir import data_root
from tabular_bench.store import Table


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real data directory (``$METANAS_DATA`` or ``../shared/data``).

    Tests that use it fail, not skip, when it is missing: CI always has it.
    """
    root = data_root()
    assert root.is_dir(), f"real data directory {root} missing: set METANAS_DATA"
    return root


@pytest.fixture(scope="session")
def nb201_csv(real_data: Path) -> Path:
    return real_data / "nb201" / "nb201_all.csv.gz"


@pytest.fixture(scope="session")
def nb201_table(nb201_csv: Path) -> Table:
    """The real NB201 table, imported once per test session (about 2 s)."""
    from tabular_bench.importers.nb201_csv import import_csv

    return import_csv(nb201_csv)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def one_torch_thread():
    """Tiny models run fastest on one thread; two threads thrash on a shared 2-core box."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
