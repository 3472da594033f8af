"""tabular_bench.loaders.nb201 and the import CLI."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from common_io.data_dir import DataNotFoundError
from tabular_bench import loaders
from tabular_bench.importers.__main__ import main as import_cli
from tabular_bench.spaces import NB201
from tabular_bench.store import Table, write_table


def test_default_csv_is_cached_then_loaded(
    real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = loaders.nb201(cache_dir=str(tmp_path))
    cached = list(tmp_path.glob("nb201-*.h5"))
    assert len(cached) == 1

    def no_second_import(path: object) -> Table:
        raise AssertionError("the cached table should have been loaded, not re-imported")

    monkeypatch.setattr(loaders, "import_csv", no_second_import)
    second = loaders.nb201(cache_dir=str(tmp_path))
    assert second.identity() == first.identity()  # what a resumed search compares
    assert second.tasks == ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")


def test_cache_dir_comes_from_the_environment(
    toy_table: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = tmp_path / "nb201.csv"
    csv.write_text("stands in for the CSV; only its sha256 names the cache")
    monkeypatch.setattr(loaders, "import_csv", lambda path: toy_table)
    monkeypatch.setenv("METANAS_CACHE", str(tmp_path / "env-cache"))
    assert loaders.nb201(str(csv)).tasks == ("toy",)
    assert len(list((tmp_path / "env-cache").glob("nb201-*.h5"))) == 1


def test_corrupt_cache_is_rebuilt(real_data: Path, tmp_path: Path) -> None:
    loaders.nb201(cache_dir=str(tmp_path))
    (cache,) = tmp_path.glob("nb201-*.h5")
    cache.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="rebuilding"):
        bench = loaders.nb201(cache_dir=str(tmp_path))
    assert bench.table.num_archs == 15625


def test_h5_path(toy_table: Table, tmp_path: Path) -> None:
    path = write_table(toy_table, tmp_path / "t.h5")
    assert loaders.nb201(str(path)).tasks == ("toy",)


def test_missing_data_names_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METANAS_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="NATS-Bench"):
        loaders.nb201(cache_dir=str(tmp_path))
    with pytest.raises(DataNotFoundError, match="NAS-Bench-201"):
        loaders.nb201(str(tmp_path / "missing.csv.gz"))


def test_import_cli(nb201_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import_cli(["nb201-csv", str(nb201_csv), str(tmp_path / "nb201.h5")])
    assert "15625 architectures" in capsys.readouterr().out
    assert loaders.nb201(str(tmp_path / "nb201.h5")).table.num_archs == 15625


def test_table_file_searches_the_measured_cells(toy_table: Table, tmp_path: Path) -> None:
    official = replace(toy_table, indices=NB201.official_index(NB201.keys(toy_table.codes)))
    path = write_table(official, tmp_path / "built" / "table.h5")
    bench = loaders.table_file(str(path))
    assert bench.space.size == int(toy_table.tasks["toy"].measured.sum())  # 80% of 50
    assert bench.is_measured(np.arange(bench.space.size), task="toy").all()
    whole = loaders.table_file(str(path), completion="surrogate")
    assert whole.space.size == 15625
    with pytest.raises(DataNotFoundError, match="experiment=table_build_cpu"):
        loaders.table_file(str(tmp_path / "missing.h5"))


def test_embedded_tables_need_no_data_directory(
    toy_table: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METANAS_DATA", str(tmp_path / "no-data-here"))
    monkeypatch.setattr(loaders, "EMBEDDED_DIR", tmp_path / "tables")
    write_table(toy_table, tmp_path / "tables" / "toy_build.h5")
    assert loaders.embedded_names() == ["toy_build"]
    assert loaders.embedded("toy_build").tasks == ("toy",)
    with pytest.raises(KeyError, match="shipped: toy_build"):
        loaders.embedded("nb201")
