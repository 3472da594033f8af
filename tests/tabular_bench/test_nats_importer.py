"""NATS-Bench archive importer on a small archive written in the official on-disk format."""

from __future__ import annotations

from pathlib import Path

import nats_bench
import numpy as np
import pytest
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

from tabular_bench.importers.nats_bench import import_archive
from tabular_bench.spaces import NB201
from tabular_bench.store import read_table, write_table
from tabular_bench.tabular import TabularBenchmark

SEEDS = {"12": (111, 777), "200": (777, 888, 999)}
EVAL_SETS = {  # NATS dataset -> eval sets recorded for it
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}


def _accuracy(index: int, dataset: str, eval_set: str, hp: str, seed: int) -> float:
    """A distinct, reproducible value per (arch, dataset, set, schedule, seed)."""
    rng = np.random.default_rng([index, len(dataset), len(eval_set), int(hp), seed])
    return float(np.round(rng.uniform(10, 95), 3))


def _epoch_time(index: int, dataset: str, hp: str) -> float:
    return 5.0 + index % 7 + len(dataset) + int(hp) / 100


def write_archive(directory: Path, indices: list[int], order: np.ndarray) -> list[str]:
    """Write ``meta.pickle.pbz2`` + ``NNNNNN.pickle.pbz2`` as NATS-tss-v1_0-3ffb9-simple."""
    directory.mkdir()
    meta_archs = NB201.strings(order)
    pickle_save(
        {"meta_archs": meta_archs, "evaluated_indexes": indices}, str(directory / "meta.pickle")
    )
    for index in indices:
        per_hp = {}
        for hp, seeds in SEEDS.items():
            arch = ArchResults(index, meta_archs[index])
            epochs = int(hp)
            for dataset, eval_sets in EVAL_SETS.items():
                for seed in seeds:
                    result = ResultsCount(
                        dataset,
                        None,
                        {},
                        {},
                        1.0,
                        2.0,
                        {"arch_str": meta_archs[index]},
                        seed,
                        epochs,
                        None,
                    )
                    result.update_train_info(
                        {e: 50.0 for e in range(epochs)},
                        None,
                        {e: 1.0 for e in range(epochs)},
                        {e: _epoch_time(index, dataset, hp) for e in range(epochs)},
                    )
                    accs, losses, times = {}, {}, {}
                    for eval_set in eval_sets:
                        for e in range(epochs):
                            key = f"{eval_set}@{e}"
                            accs[key] = _accuracy(index, dataset, eval_set, hp, seed)
                            losses[key], times[key] = 1.0, 0.1
                    result.update_eval(accs, losses, times)
                    arch.update(dataset, seed, result)
            per_hp[hp] = arch.state_dict()
        pickle_save(per_hp, str(directory / f"{index:06d}.pickle"))
    return meta_archs


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, list[int]]:
    order = np.random.default_rng(3).permutation(NB201.size)
    indices = [0, 5, 42, 15624]
    directory = tmp_path_factory.mktemp("nats") / "NATS-tss-v1_0-3ffb9-simple"
    write_archive(directory, indices, order)
    return directory, order, indices


def test_values_survive_round_trip(archive, tmp_path: Path) -> None:
    directory, order, indices = archive
    table = read_table(write_table(import_archive(directory), tmp_path / "nats.h5"))
    bench = TabularBenchmark(table)
    np.testing.assert_array_equal(table.indices, indices)
    keys = bench.keys_of(indices)
    np.testing.assert_array_equal(keys, order[indices])  # official index -> arch string
    for i, index in enumerate(indices):
        for task, dataset, metric, eval_set in [
            ("cifar10-valid", "cifar10-valid", "valid_acc", "x-valid"),
            ("cifar10", "cifar10", "test_acc", "ori-test"),
            ("cifar100", "cifar100", "valid_acc", "x-valid"),
            ("ImageNet16-120", "ImageNet16-120", "test_acc", "x-test"),
        ]:
            for hp, seeds in SEEDS.items():
                expected = [_accuracy(index, dataset, eval_set, hp, s) for s in seeds]
                got = bench.query(keys[i], task=task, fidelity=int(hp), metric=metric)
                assert got[0] == pytest.approx(np.mean(expected), abs=1e-4)
                draws = {
                    round(
                        float(
                            bench.query(
                                keys[i],
                                task=task,
                                fidelity=int(hp),
                                metric=metric,
                                rng=np.random.default_rng(r),
                            )[0]
                        ),
                        3,
                    )
                    for r in range(30)
                }
                assert draws == set(expected)
                cost = bench.cost(keys[i], task=task, fidelity=int(hp))[0]
                assert cost == pytest.approx(int(hp) * _epoch_time(index, dataset, hp), rel=1e-5)


def test_values_agree_with_official_api(archive) -> None:
    directory, _, indices = archive
    api = nats_bench.create(str(directory), "tss", fast_mode=True, verbose=False)
    bench = TabularBenchmark(import_archive(directory))
    info = api.get_more_info(indices[2], "cifar100", hp="200", is_random=False)
    key = bench.keys_of(indices[2])
    assert bench.query(key, task="cifar100", fidelity=200)[0] == pytest.approx(
        info["valid-accuracy"], abs=1e-4
    )
    assert bench.query(key, task="cifar100", fidelity=200, metric="test_acc")[0] == (
        pytest.approx(info["test-accuracy"], abs=1e-4)
    )


def test_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="NATS-tss-v1_0-3ffb9-simple"):
        import_archive(tmp_path)
