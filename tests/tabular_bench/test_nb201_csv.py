"""The NAS-Bench-201 CSV importer on tiny CSVs written here: layout and bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from tabular_bench.data_dir import DataNotFoundError
from tabular_bench.importers.nb201_csv import import_csv
from tabular_bench.spaces import NB201

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
