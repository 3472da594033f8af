"""HDF5 table store: round trip, atomic writes, corrupt files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from tabular_bench.store import Table, TableCorruptError, read_table, write_table


def assert_tables_equal(a: Table, b: Table) -> None:
    assert a.space == b.space and a.provenance == b.provenance
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.strings.astype(str).tolist() == b.strings.astype(str).tolist()
    assert a.tasks.keys() == b.tasks.keys()
    for name in a.tasks:
        x, y = a.tasks[name], b.tasks[name]
        assert (x.metrics, x.fidelities, x.cost_unit) == (y.metrics, y.fidelities, y.cost_unit)
        np.testing.assert_array_equal(x.values, y.values)  # NaNs compare equal here
        np.testing.assert_array_equal(x.cost_s, y.cost_s)
        np.testing.assert_array_equal(x.measured, y.measured)


def test_round_trip(toy_table: Table, tmp_path: Path) -> None:
    path = write_table(toy_table, tmp_path / "sub" / "t.h5")
    assert_tables_equal(read_table(path), toy_table)
    assert [p.name for p in path.parent.iterdir()] == ["t.h5"]  # no temporary left


def test_real_table_round_trip(nb201_table: Table, tmp_path: Path) -> None:
    assert_tables_equal(read_table(write_table(nb201_table, tmp_path / "nb201.h5")), nb201_table)


def test_schema_attributes(toy_table: Table, tmp_path: Path) -> None:
    path = write_table(toy_table, tmp_path / "t.h5")
    with h5py.File(path) as f:
        assert f.attrs["schema_version"] == 2 and f.attrs["space"] == "nb201"
        assert {"source_file", "source_sha256", "importer", "created", "checksum"} <= set(f.attrs)
        assert f["archs/code"].dtype == np.int8 and f["archs/code"].shape == (50, 6)
        values = f["tasks/toy/values"]
        assert values.dtype == np.float32 and values.shape == (50, 3, 2, 2)
        assert list(f["tasks/toy"].attrs["fidelities"]) == [12, 200]
        assert f["tasks/toy/cost_s"].shape == (50, 2) and f["tasks/toy/measured"].dtype == bool


def test_changed_values_fail_checksum(toy_table: Table, tmp_path: Path) -> None:
    path = write_table(toy_table, tmp_path / "t.h5")
    with h5py.File(path, "r+") as f:
        f["tasks/toy/values"][0, 0, 0, 0] = 1.0
    with pytest.raises(TableCorruptError, match="re-import"):
        read_table(path)


@pytest.mark.parametrize(
    ("attr", "value"), [("fidelities", np.array([12, 100])), ("metrics", ["test_acc", "valid_acc"])]
)
def test_changed_attributes_fail_checksum(toy_table: Table, tmp_path: Path, attr, value) -> None:
    path = write_table(toy_table, tmp_path / "t.h5")
    with h5py.File(path, "r+") as f:
        f["tasks/toy"].attrs[attr] = value
    with pytest.raises(TableCorruptError, match="checksum mismatch"):
        read_table(path)


def test_cost_unit_round_trips_and_is_checksummed(toy_table: Table, tmp_path: Path) -> None:
    default = write_table(toy_table, tmp_path / "seconds.h5")
    with h5py.File(default) as f:  # the default adds nothing: older files keep their checksum
        assert "cost_unit" not in f["tasks/toy"].attrs
    task = replace(toy_table.tasks["toy"], cost_unit="queries")
    queries = replace(toy_table, tasks={"toy": task})
    path = write_table(queries, tmp_path / "queries.h5")
    assert read_table(path).tasks["toy"].cost_unit == "queries"
    with h5py.File(path, "r+") as f:
        f["tasks/toy"].attrs["cost_unit"] = "simulated_s"
    with pytest.raises(TableCorruptError, match="checksum mismatch"):
        read_table(path)
    with pytest.raises(ValueError, match="cost_unit must be one of"):
        replace(toy_table.tasks["toy"], cost_unit="hours")


def test_empty_table_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "t.h5").write_bytes(b"")
    with pytest.raises(TableCorruptError, match=r"truncated or corrupt") as err:
        read_table(tmp_path / "t.h5")
    assert "()" not in str(err.value)


def test_truncated_file(toy_table: Table, tmp_path: Path) -> None:
    path = write_table(toy_table, tmp_path / "t.h5")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(TableCorruptError, match="re-import"):
        read_table(path)


def test_missing_file_names_the_import_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"tabular_bench\.importers"):
        read_table(tmp_path / "nope.h5")


def test_inconsistent_shapes_rejected(toy_table: Table) -> None:
    task = toy_table.tasks["toy"]
    with pytest.raises(ValueError, match="cost_s"):
        type(task)(task.values, task.metrics, task.fidelities, task.cost_s[:, :1], task.measured)
