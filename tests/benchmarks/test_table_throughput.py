"""Table load time and query throughput against the peers (ratios, not assertions).

* against the official ``nats_bench`` API on the same small archive (its fast mode);
* against pandas look-ups (``DataFrame.loc`` by index) on the real CSV.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import nats_bench
import numpy as np
import pytest

from tabular_bench.spaces import NB201
from tabular_bench.store import Table, write_table
from tabular_bench.tabular import TabularBenchmark

QUERIES = 1000
# The NATS archive writer lives with the importer's tests; reuse it, do not copy it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tabular_bench"))


def _seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _record(benchmark, name: str, ours: float, peer: float) -> None:
    ratio = peer / ours
    benchmark.extra_info[f"{name}_ours_s"] = ours
    benchmark.extra_info[f"{name}_peer_s"] = peer
    benchmark.extra_info[f"{name}_speedup"] = ratio
    print(f"{name}: ours {ours * 1e3:.2f} ms, peer {peer * 1e3:.2f} ms, speed-up x{ratio:.1f}")


@pytest.fixture(scope="module")
def real_h5(nb201_table: Table, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_table(nb201_table, tmp_path_factory.mktemp("bench") / "nb201.h5")


def test_load_all_cells(benchmark, real_h5: Path) -> None:
    """Loading all 15,625 cells from our HDF5 table (target: < 0.1 s)."""
    bench = benchmark(TabularBenchmark.from_file, real_h5)
    assert bench.table.num_archs == NB201.size
    load_s = _seconds(lambda: TabularBenchmark.from_file(real_h5))
    benchmark.extra_info["load_s"] = load_s
    print(f"load all cells: {load_s * 1e3:.1f} ms")


def test_query_vs_pandas(benchmark, real_data: Path, real_h5: Path) -> None:
    import pandas as pd  # a declared dependency: a broken install fails here

    frame = pd.read_csv(real_data / "nb201" / "nb201_all.csv.gz").set_index("index")
    bench = TabularBenchmark.from_file(real_h5)
    indices = np.random.default_rng(0).integers(0, NB201.size, QUERIES)
    keys = bench.keys_of(indices)

    def ours() -> np.ndarray:
        return bench.query(keys, task="cifar10-valid", fidelity=12)

    def peer() -> list[float]:
        return [frame.loc[i, "cifar10/valid_acc_12"] for i in indices]

    np.testing.assert_allclose(ours(), peer(), rtol=1e-6)
    benchmark(ours)
    _record(benchmark, "query_1000_vs_pandas_loc", _seconds(ours), _seconds(peer, 1))


@pytest.mark.slow
def test_load_and_query_vs_nats_api(benchmark, tmp_path: Path) -> None:
    from test_nats_importer import write_archive

    from tabular_bench.importers.nats_bench import import_archive

    indices = list(range(5))  # each cell's archive file takes ~2 s to write
    directory = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    write_archive(directory, indices, np.arange(NB201.size))
    h5 = write_table(import_archive(directory), tmp_path / "nats.h5")

    def nats_load_all() -> object:
        api = nats_bench.create(str(directory), "tss", fast_mode=True, verbose=False)
        for i in indices:
            api.get_more_info(i, "cifar10-valid", hp="12", is_random=False)
        return api

    _record(
        benchmark,
        "load_5_cells_vs_nats",
        _seconds(lambda: TabularBenchmark.from_file(h5)),
        _seconds(nats_load_all, 1),
    )
    api, bench = nats_load_all(), TabularBenchmark.from_file(h5)
    query = np.random.default_rng(0).choice(indices, 200)
    keys = bench.keys_of(query)

    def ours() -> np.ndarray:
        return bench.query(keys, task="cifar10-valid", fidelity=12)

    def peer() -> list[float]:
        return [
            api.get_more_info(int(i), "cifar10-valid", hp="12", is_random=False)["valid-accuracy"]
            for i in query
        ]

    np.testing.assert_allclose(ours(), peer(), rtol=1e-5)
    benchmark(ours)
    _record(benchmark, "query_200_vs_nats", _seconds(ours), _seconds(peer, 1))
