"""The NAS-Bench-201 CSV importer on tiny CSVs written here: layout and bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from common_io.data_dir import DataNotFoundError
from tabular_bench.importers.nb201_csv import import_csv as _import_csv
from tabular_bench.spaces import NB201


def import_csv(path: Path):
    """Tiny hand-made files: completeness is tested on its own."""
    return _import_csv(path, complete=False)

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
PER_DATASET = ("valid_acc_200", "valid_acc_200_seeds", "test_acc_200", "valid_acc_12",
               "test_acc_12", "train_time_epoch_s")
HEADER = ["index", "arch", "code"] + [f"{d}/{c}" for d in DATASETS for c in PER_DATASET]
CODES = ("421211", "334131")


def _row(index: int, code: str) -> list[str]:
    values = {"valid_acc_200": "80", "valid_acc_200_seeds": f"{79 + index};81",
              "test_acc_200": "82", "valid_acc_12": "60", "test_acc_12": "61",
              "train_time_epoch_s": "10"}
    arch = NB201.to_string(tuple(int(c) for c in code))
    return [str(index), arch, code] + [values[c] for _ in DATASETS for c in PER_DATASET]


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_tiny_csv_imports_in_official_order(tmp_path: Path) -> None:
    table = import_csv(_write(tmp_path / "t.csv.gz", [_row(i, c) for i, c in enumerate(CODES)]))
    np.testing.assert_array_equal(table.codes, [[4, 2, 1, 2, 1, 1], [3, 3, 4, 1, 3, 1]])
    np.testing.assert_array_equal(table.indices, [0, 1])
    c100 = table.tasks["cifar100"]
    assert c100.metrics == ("valid_acc", "test_acc") and c100.fidelities == (12, 200)
    np.testing.assert_array_equal(c100.values[1, :, 1, 0], [80, 81])  # per seed at 200
    assert table.tasks["cifar10-valid"].cost_s[0, 0] == pytest.approx(12 * 10 / 2)


def test_missing_file_says_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="NATS-Bench"):
        import_csv(tmp_path / "nb201_all.csv.gz")


def test_short_row_names_its_line(tmp_path: Path) -> None:
    rows = [_row(0, CODES[0]), _row(1, CODES[1])[:5]]
    with pytest.raises(ValueError, match=r"t\.csv:3: 5 fields, but the header has 21"):
        import_csv(_write(tmp_path / "t.csv", rows))


@pytest.mark.parametrize("code", ["42121a", "421215", "42121", "4212111"])
def test_bad_code_digits_name_their_line(tmp_path: Path, code: str) -> None:
    rows = [_row(0, CODES[0]), [*_row(1, CODES[1])[:2], code, *_row(1, CODES[1])[3:]]]
    with pytest.raises(ValueError, match=rf"t\.csv:3: code '{code}' is not 6 op digits in 0..4"):
        import_csv(_write(tmp_path / "t.csv", rows))


def test_arch_that_disagrees_with_code(tmp_path: Path) -> None:
    rows = [_row(0, CODES[0]), [*_row(1, CODES[1])[:2], CODES[0], *_row(1, CODES[1])[3:]]]
    with pytest.raises(ValueError, match=r"t\.csv:3: arch .* does not match code"):
        import_csv(_write(tmp_path / "t.csv", rows))


def test_not_a_csv(tmp_path: Path) -> None:
    (tmp_path / "t.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="cannot read NAS-Bench-201 CSV"):
        import_csv(tmp_path / "t.csv.gz")
    with pytest.raises(ValueError, match="lacks columns"):
        import_csv(_write(tmp_path / "t.csv", [["0"]], header=["index"]))


def _rows() -> list[list[str]]:
    return [_row(i, c) for i, c in enumerate(CODES)]


def test_blank_field_names_file_line_and_column(tmp_path: Path) -> None:
    rows = _rows()
    rows[1][HEADER.index("cifar100/test_acc_12")] = ""
    with pytest.raises(ValueError, match=r"t\.csv:3: column 'cifar100/test_acc_12' is blank"):
        import_csv(_write(tmp_path / "t.csv", rows))
    rows = _rows()
    rows[0][HEADER.index("cifar10/valid_acc_200_seeds")] = "80;;81"
    blank = r"t\.csv:2: column 'cifar10/valid_acc_200_seeds' is blank"
    with pytest.raises(ValueError, match=blank):
        import_csv(_write(tmp_path / "t.csv", rows))


@pytest.mark.parametrize("column", ["cifar10/test_acc_200", "ImageNet16-120/valid_acc_200_seeds"])
def test_accuracy_outside_percent_range_is_refused(tmp_path: Path, column: str) -> None:
    rows = _rows()
    rows[1][HEADER.index(column)] = "150"
    message = rf"t\.csv:3: column '{column}' is 150, outside \[0, 100\]"
    with pytest.raises(ValueError, match=message):
        import_csv(_write(tmp_path / "t.csv", rows))


def test_cut_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 rows, but NAS-Bench-201 has 15,625 cells"):
        _import_csv(_write(tmp_path / "t.csv", _rows()))


def test_non_utf8_and_empty_files_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes("index,arch\n0,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text") as err:
        import_csv(tmp_path / "t.csv")
    assert "\\x" not in str(err.value)
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(ValueError, match=r"e\.csv is empty"):
        import_csv(tmp_path / "e.csv")
