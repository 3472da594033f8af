"""Importers of NASLib's zero-cost files and of the official TransNAS-Bench-101 API file,
on fixtures the tests write in each format, and on the shared zero-cost files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tabular_bench import loaders
from tabular_bench.importers import IMPORTERS, importer_named
from tabular_bench.importers.__main__ import main as import_cli
from tabular_bench.importers.naslib_zc import FINAL_EPOCH, import_zero_cost
from tabular_bench.importers.transnas_api import import_transnas_api
from tabular_bench.spaces import NB201, TRANSNAS_MACRO, TRANSNAS_MICRO
from tabular_bench.tabular import TabularBenchmark


def _record(acc: float, params: float, grasp: float) -> dict:
    return {"idx": "7", "arch": "x", "val_accuracy": acc, "flops": {"score": 10.0, "time": 1},
            "params": {"score": params, "time": 1}, "grasp": {"score": grasp, "time": 2},
            "epe_nas": {"score": -100000000.0, "time": 1}}


def _write_zc(path: Path) -> Path:
    data = {
        "class_scene": {"(1, 0, 0, 2, 1, 0)": _record(34.9, 0.9, -0.07),
                        "(3, 3, 3, 3, 3, 3)": _record(50.0, 41.0, 0.5)},
        "room_layout": {"(3, 3, 3, 3, 3, 3)": _record(-0.6, 41.0, 0.1)},
    }
    path.write_text(json.dumps(data))
    return path


def test_zero_cost_micro_fixture(tmp_path: Path) -> None:
    table = import_zero_cost(_write_zc(tmp_path / "zc.json"), space="transnas_micro")
    assert table.space == "transnas_micro" and table.num_archs == 2
    assert [s.decode() if isinstance(s, bytes) else s for s in table.strings] == [
        "64-41414-1_00_210", "64-41414-3_33_333"]
    scene, room = table.tasks["class_scene"], table.tasks["room_layout"]
    assert scene.metrics == ("valid_top1", "valid_norm", "flops", "params", "zc_epe_nas",
                             "zc_grasp")
    assert scene.values[:, 0, 0, 1].tolist() == pytest.approx([0.0, 1.0])
    assert room.metrics[0] == "valid_neg_loss" and scene.fidelities == (FINAL_EPOCH,)
    assert scene.values[:, 0, 0, 0].tolist() == pytest.approx([34.9, 50.0])
    assert np.isnan(scene.values[:, 0, 0, 4]).all()  # NASLib's -1e8 failure sentinel
    assert room.measured.tolist() == [False, True] and (scene.cost_s == 1).all()
    bench = TabularBenchmark(table)
    assert scene.cost_unit == "queries" and bench.cost_unit("room_layout") == "queries"
    assert bench.space is TRANSNAS_MICRO
    key = TRANSNAS_MICRO.key((3, 3, 3, 3, 3, 3))
    grasp = bench.query(key, task="class_scene", fidelity=-1, metric="zc_grasp")[0]
    assert grasp == pytest.approx(0.5)
    with pytest.raises(KeyError, match="completion: surrogate"):
        bench.query(0, task="class_scene", fidelity=-1, metric="valid_top1")


def test_zero_cost_refuses_wrong_space_and_unknown_tasks(tmp_path: Path) -> None:
    path = _write_zc(tmp_path / "zc.json")
    with pytest.raises(ValueError, match="transnas_macro tuples"):
        import_zero_cost(path, space="transnas_macro")  # (1,0,0,2,1,0): blocks after a gap
    data = json.loads(path.read_text()) | {"cifar10": {}}
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="unknown TransNAS-Bench-101 task 'cifar10'"):
        import_zero_cost(path, space="transnas_micro")
    with pytest.raises(ValueError, match="known: \\['nb201'"):
        import_zero_cost(path, space="nb101")


@pytest.mark.parametrize(
    ("name", "file", "space", "rows", "on_all"),
    [
        ("naslib-zc-transnas-micro", "transnas101/zc_transbench101_micro.json",
         TRANSNAS_MICRO, 711, 711),
        ("naslib-zc-transnas-macro", "transnas101/zc_transbench101_macro.json",
         TRANSNAS_MACRO, 725, 662),
        ("naslib-zc-nb201", "nb201/naslib_zc_nasbench201.json", NB201, 725, 724),
    ],
)
def test_shared_zero_cost_files(
    real_data: Path, tmp_path: Path, name, file, space, rows, on_all
) -> None:
    import_cli([name, str(real_data / file), str(tmp_path / "t.h5")])
    bench = TabularBenchmark.from_file(tmp_path / "t.h5")  # the table names its space
    assert bench.space is space and bench.table.num_archs == rows
    measured = np.logical_and.reduce([t.measured for t in bench.table.tasks.values()])
    assert measured.sum() == on_all


def test_nb201_zero_cost_agrees_with_the_nb201_table(real_data: Path, nb201_bench) -> None:
    table = importer_named("naslib-zc-nb201")(real_data / "nb201/naslib_zc_nasbench201.json")
    keys = NB201.keys(table.codes)
    zc = table.tasks["cifar10"].values[:, 0, 0, 0]
    ours = nb201_bench.query(keys, task="cifar10-valid", fidelity=200, metric="valid_acc")
    assert np.corrcoef(zc, ours)[0, 1] > 0.99


def test_loader_reaches_any_importer(real_data: Path, tmp_path: Path) -> None:
    file = "transnas101/zc_transbench101_macro.json"
    measured = loaders.imported("naslib-zc-transnas-macro", file, completion="measured",
                                cache_dir=str(tmp_path))
    assert measured.space.size == 662 and measured.space.family == "transnas_macro"
    whole = loaders.imported("naslib-zc-transnas-macro", file, completion="surrogate",
                             cache_dir=str(tmp_path))
    assert whole.space is TRANSNAS_MACRO and len(list(tmp_path.glob("*.h5"))) == 1
    with pytest.raises(KeyError, match=r"registered: .*naslib-zc-nb201"):
        loaders.imported("naslib-zc-nb101", file)
    with pytest.raises(ValueError, match="completion must be one of"):
        loaders.imported("naslib-zc-transnas-macro", file, completion="all",
                         cache_dir=str(tmp_path))


# -- the official API file ------------------------------------------------------------
def _write_api(path: Path) -> Path:
    """A two-task file in the layout of transnas-bench_v10141024.pth."""
    def result(top1: list[float], loss: list[float]) -> dict:
        return {"total_epochs": len(top1), "model_info": {"model_params": 1.0},
                "metrics": {"valid_top1": top1, "valid_loss": loss, "test_top1": top1[::-1],
                            "time_elapsed": [1.0] * len(top1)}}

    def room(neg: list[float]) -> dict:
        return {"total_epochs": len(neg), "model_info": {},
                "metrics": {"valid_neg_loss": neg, "valid_loss": [-v for v in neg]}}

    database = {
        "metrics_dict": {"class_scene": ["valid_top1", "valid_loss", "test_top1", "time_elapsed"],
                         "room_layout": ["valid_loss", "valid_neg_loss"]},
        "info_names": ["model_params"],
        "task_list": ["class_scene", "room_layout"],
        "data": {
            "macro": {"64-4111-basic": {"class_scene": result([40.0, 45.0], [2.0, 1.5]),
                                        "room_layout": room([-0.7, -0.6])}},
            "micro": {"64-41414-3_33_333": {"class_scene": result([30.0, 52.0], [3.0, 1.0])},
                      "64-41414-1_00_210": {"class_scene": result([20.0, 35.0], [3.0, 2.0]),
                                            "room_layout": room([-0.9, -0.8])}},
        },
    }
    torch.save(database, path)
    return path


def test_api_file_fixture(tmp_path: Path) -> None:
    path = _write_api(tmp_path / "transnas-bench_v10141024.pth")
    micro = import_transnas_api(path, space="micro")
    assert micro.space == "transnas_micro" and micro.num_archs == 2
    scene = micro.tasks["class_scene"]
    assert scene.metrics == ("valid_top1", "valid_loss", "test_top1")  # time_elapsed left out
    rows = [TRANSNAS_MICRO.key((1, 0, 0, 2, 1, 0)), TRANSNAS_MICRO.key((3,) * 6)]
    assert TRANSNAS_MICRO.keys(micro.codes).tolist() == sorted(rows)
    bench = TabularBenchmark(micro)
    got = bench.query(np.array(rows), task="class_scene", fidelity=FINAL_EPOCH, metric="valid_top1")
    assert got.tolist() == [35.0, 52.0]  # final epoch
    assert bench.query(rows[1], task="class_scene", fidelity=-1, metric="test_top1")[0] == 30.0
    assert bench.is_measured(np.array(rows), task="room_layout").tolist() == [True, False]
    assert micro.tasks["room_layout"].metrics[0] == "valid_neg_loss"
    macro = IMPORTERS["transnas-api-macro"](path)
    assert macro.space == "transnas_macro" and TRANSNAS_MACRO.keys(macro.codes).size == 1
    with pytest.raises(ValueError, match="spaces are"):
        import_transnas_api(path, space="both")
    torch.save({"data": {}}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a TransNAS-Bench-101 API file"):
        import_transnas_api(tmp_path / "other.pth", space="micro")
