"""The builder: unit files, resume, crash safety, fusion equivalence, merge, micro real build."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from common_io import atomic_io
from tabular_bench.builder.job import TableBuildJob
from tabular_bench.builder.merge import METRICS, merge
from tabular_bench.builder.plan import (
    conv_ops,
    load_tasks,
    repeat_subset,
    resize,
    select_cells,
    shard_cells,
    stratified_split,
)
from tabular_bench.builder.protocol import Protocol
from tabular_bench.builder.shards import pending_units, run_shard, write_protocol
from tabular_bench.builder.train import SplitTask, build_network, train_group
from tabular_bench.models.profile import count_flops, count_params
from tabular_bench.spaces import TRANSNAS_MACRO, TRANSNAS_MICRO
from tabular_bench.spaces.nb201 import NB201
from tabular_bench.store import write_table
from tabular_bench.tabular import TabularBenchmark

CPU = torch.device("cpu")
MICRO = Protocol(epochs=2, batch_size=16, channels=2, cells_per_stage=1, augment=True,
                 valid_fraction=0.25, seeds=(1, 2))
CELLS = np.array([NB201.key((3, 3, 4, 1, 3, 1)), NB201.key((0, 1, 0, 1, 2, 4))])


def synthetic_task(name: str, n_train: int = 40, classes: int = 3, seed: int = 0) -> SplitTask:
    """Random images for mechanics tests only (nothing here is reported)."""
    g = torch.Generator().manual_seed(seed)

    def part(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, classes, (n,), generator=g)

    return SplitTask(name, classes, *part(n_train), *part(10), *part(12 + seed))


@pytest.mark.slow
def test_fused_group_trains_like_separate_units() -> None:
    ops = [NB201.op_names[i] for i in NB201.code(int(CELLS[0]))]
    tasks = [synthetic_task("a", classes=3), synthetic_task("b", classes=5, seed=1)]
    units = [(tasks[0], 1), (tasks[1], 2), (tasks[0], 2)]
    fused = train_group("c", ops, units, MICRO, CPU)
    for record, unit in zip(fused, units):
        alone = train_group("c", ops, [unit], MICRO, CPU)[0]
        assert record.models_in_flight == 3 and alone.models_in_flight == 1
        for name in ("train_loss", "valid_loss", "valid_acc", "train_acc"):
            np.testing.assert_allclose(getattr(record, name), getattr(alone, name), atol=1e-3)
        assert record.test_acc == pytest.approx(alone.test_acc, abs=1e-3)
        net = build_network(ops, unit[0], MICRO, unit[1])
        assert record.params_m == count_params(net)
        assert record.flops_m == count_flops(net, (1, 8, 8))


def test_cpu_costs_count_cpu_time_not_a_loaded_machine_s_wall_time(monkeypatch) -> None:
    """A cell trained while the machine is busy must not look more expensive: on a CPU the
    epoch costs are the process's CPU seconds (here the wall clock runs 0.3 s idle per
    epoch, as if other jobs held the cores)."""
    import tabular_bench.builder.train as train

    real_epoch = train._train_epoch

    def busy_machine_epoch(*args, **kwargs):
        time.sleep(0.3)
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train, "_train_epoch", busy_machine_epoch)
    ops = [NB201.op_names[i] for i in NB201.code(int(CELLS[0]))]
    (record,) = train_group("c", ops, [(synthetic_task("a"), 1)], MICRO, CPU)
    assert record.clock == "process_cpu"
    assert record.wall_s >= 0.3 * MICRO.epochs
    assert max(record.epoch_time_s) < 0.25 and 0 < record.cpu_s < record.wall_s


def test_group_refuses_tasks_of_different_sizes() -> None:
    ops = ["nor_conv_3x3"] * 6
    units = [(synthetic_task("a"), 1), (synthetic_task("b", n_train=30), 1)]
    with pytest.raises(ValueError, match="equal training size"):
        train_group("c", ops, units, MICRO, CPU)


def test_crash_mid_shard_loses_only_units_in_flight(tmp_path: Path, monkeypatch) -> None:
    tasks = [synthetic_task("a"), synthetic_task("b", n_train=32, seed=1)]
    calls = {"fsync": 0}
    real_fsync = atomic_io.os.fsync

    def dying_fsync(fd: int) -> None:  # the 3rd unit file dies half-written
        calls["fsync"] += 1
        if calls["fsync"] == 4:  # protocol.json, unit 1, unit 2, then unit 3
            raise KeyboardInterrupt("killed mid-write")
        real_fsync(fd)

    monkeypatch.setattr(atomic_io.os, "fsync", dying_fsync)
    with pytest.raises(KeyboardInterrupt):
        run_shard(tmp_path, CELLS, tasks, MICRO, models_in_flight=2, device=CPU)
    monkeypatch.undo()
    finished = sorted(p.name for p in (tmp_path / "units").rglob("*") if p.is_file())
    assert len(finished) == 2 and all(n.endswith(".json") for n in finished)  # no partial file
    assert not list(tmp_path.rglob("*.tmp"))
    left = pending_units(tmp_path, CELLS, tasks, MICRO.seeds)
    assert len(left) == 8 - 2
    trained = run_shard(tmp_path, CELLS, tasks, MICRO, models_in_flight=2, device=CPU)
    assert sorted(trained, key=str) == sorted(left, key=str)
    assert run_shard(tmp_path, CELLS, tasks, MICRO, models_in_flight=2, device=CPU) == []
    table = merge(tmp_path)
    assert table.num_archs == 2 and set(table.tasks) == {"a", "b"}
    np.testing.assert_array_equal(NB201.keys(table.codes), np.sort(CELLS))
    # archs/index is the official NAS-Bench-201 index (the shared CSV's), not the key
    np.testing.assert_array_equal(table.indices, NB201.official_index(np.sort(CELLS)))
    assert not np.array_equal(table.indices, np.sort(CELLS))
    assert all(t.measured.all() for t in table.tasks.values())
    assert not np.isnan(table.tasks["a"].values[:, :, -1, METRICS.index("test_acc")]).any()


def test_exception_between_groups_keeps_finished_units(tmp_path: Path) -> None:
    tasks = [synthetic_task("a")]

    def stop(group: list) -> None:
        raise RuntimeError("node lost")

    with pytest.raises(RuntimeError, match="node lost"):
        run_shard(tmp_path, CELLS, tasks, MICRO, models_in_flight=2, device=CPU,
                  on_group_done=stop)
    assert len(pending_units(tmp_path, CELLS, tasks, MICRO.seeds)) == 2


def test_protocol_mismatch_and_bad_settings(tmp_path: Path) -> None:
    write_protocol(tmp_path, MICRO)
    differing = r"different configuration \(differing: .*epochs: 2 before, 3 now"
    with pytest.raises(ValueError, match=differing):
        write_protocol(tmp_path, Protocol(epochs=3))
    with pytest.raises(ValueError, match="valid_fraction"):
        Protocol(valid_fraction=1.0)
    assert Protocol(seeds=777).seeds == (777,)  # Hydra: `protocol.seeds=777`
    assert Protocol(seeds=[777, 888]).to_dict()["seeds"] == [777, 888]
    for bad in ("777", [7.5], None):
        with pytest.raises(ValueError, match="seeds must be an int or a list of ints"):
            Protocol(seeds=bad)
    with pytest.raises(FileNotFoundError, match="no finished units"):
        merge(tmp_path / "empty")


def test_cell_selection_unique_sample_list() -> None:
    assert select_cells("unique").size == 6466
    sample = select_cells("sample", sample_size=50, seed=3)
    assert sample.size == 50 and np.array_equal(sample, select_cells("sample", sample_size=50,
                                                                     seed=3))
    assert not np.array_equal(sample, select_cells("sample", sample_size=50, seed=4))
    assert np.isin(sample, NB201.canonical_keys()).all()
    convs = np.isin(NB201.codes(sample), [2, 3]).sum(axis=1)
    assert np.unique(convs).size == 7  # every conv-count stratum is represented
    arch = NB201.to_string((3, 3, 4, 1, 3, 1))
    assert select_cells("list", archs=[arch]).tolist() == [NB201.key((3, 3, 4, 1, 3, 1))]
    with pytest.raises(ValueError, match="unknown cell selection"):
        select_cells("all")
    with pytest.raises(ValueError, match="invalid NAS-Bench-201 architecture string"):
        select_cells("list", archs=["|conv~0|"])
    parts = [shard_cells(sample, i, 3) for i in range(3)]
    assert np.array_equal(np.sort(np.concatenate(parts)), sample)


def test_split_is_stratified_per_class_and_seeded() -> None:
    labels = torch.arange(6).repeat_interleave(15)[torch.randperm(90, generator=torch.Generator()
                                                                   .manual_seed(0))]
    labels = torch.cat([labels, torch.tensor([6, 6, 7])])  # a class of two, a class of one
    train, valid = stratified_split(labels, 0.2, seed=0)
    assert sorted(torch.cat([train, valid]).tolist()) == list(range(len(labels)))
    per_class = torch.bincount(labels[valid], minlength=8).tolist()
    assert per_class == [3] * 6 + [1, 0]  # 3 of 15 each; one of two; a lone image trains
    assert torch.bincount(labels[train], minlength=8).tolist() == [12] * 6 + [1, 1]
    again, other = stratified_split(labels, 0.2, seed=0), stratified_split(labels, 0.2, seed=1)
    assert torch.equal(again[1], valid) and not torch.equal(other[1], valid)
    with pytest.raises(ValueError, match="no class has two images"):
        stratified_split(torch.tensor([0, 1, 2]), 0.2, seed=0)


def test_split_caps_images_per_class_from_the_same_draw() -> None:
    labels = torch.arange(3).repeat_interleave(50)
    train, valid = stratified_split(labels, 0.2, seed=0)
    few_train, few_valid = stratified_split(labels, 0.2, seed=0, max_train=7, max_valid=2)
    assert torch.bincount(labels[few_train]).tolist() == [7, 7, 7]
    assert torch.bincount(labels[few_valid]).tolist() == [2, 2, 2]
    assert set(few_train.tolist()) <= set(train.tolist())  # a subset: no image moves over
    assert set(few_valid.tolist()) <= set(valid.tolist())


def test_resize_keeps_mean_and_skips_same_size() -> None:
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    small = resize(images, 16)
    assert small.shape == (4, 3, 16, 16)
    torch.testing.assert_close(small.mean(dim=(2, 3)), images.mean(dim=(2, 3)), atol=2e-3,
                               rtol=0)
    assert resize(images, 32) is images and resize(images, None) is images


def test_second_seed_on_a_subset_of_cells(tmp_path: Path) -> None:
    keys = select_cells("sample", sample_size=10, seed=0)
    repeat = repeat_subset(keys, 3, seed=0)
    assert len(repeat) == 3 and np.isin(repeat, keys).all()
    assert np.array_equal(repeat, repeat_subset(keys, 3, seed=0))
    with pytest.raises(ValueError, match="exceeds the 10 chosen cells"):
        repeat_subset(keys, 11, seed=0)
    tasks = [synthetic_task("a"), synthetic_task("b", seed=1)]
    pending = pending_units(tmp_path, keys, tasks, (1, 2), repeat_keys=repeat)
    assert len(pending) == 2 * (10 + 3)
    assert {u.key for u in pending if u.seed == 2} == set(repeat.tolist())
    run_shard(tmp_path, CELLS, tasks[:1], MICRO, models_in_flight=2, device=CPU,
              repeat_keys=CELLS[:1])
    table = merge(tmp_path)
    test_acc = table.tasks["a"].values[:, :, -1, METRICS.index("test_acc")]
    repeated = int(np.searchsorted(np.sort(CELLS), CELLS[0]))  # table rows are sorted keys
    assert np.isfinite(test_acc[repeated]).all()
    assert np.isnan(test_acc[1 - repeated, 1])  # the other cell: first seed only


@pytest.mark.slow
def test_micro_build_on_real_omniglot_alphabets(real_data: Path, tmp_path: Path) -> None:
    """2 cells x 2 real Omniglot alphabets x 1 epoch, merged and queried as a benchmark."""
    protocol = Protocol(epochs=1, batch_size=64, channels=4, cells_per_stage=1, augment=False,
                        valid_fraction=0.2, seeds=(777,))
    tasks = load_tasks("omniglot_lake", protocol, limit=2,
                       overrides={"root": str(real_data / "omniglot")})
    assert len(tasks) == 2 and all(t.image_shape == (1, 28, 28) for t in tasks)
    for t in tasks:  # 15 training drawings per character: 3 validate, 12 train
        assert torch.bincount(t.y_valid).tolist() == [3] * t.num_classes
        assert torch.bincount(t.y_train).tolist() == [12] * t.num_classes
    run_shard(tmp_path, CELLS, tasks, protocol, models_in_flight=4, device=CPU)
    path = write_table(merge(tmp_path), tmp_path / "table.h5")
    bench = TabularBenchmark.from_file(path)
    assert set(bench.tasks) == {t.name for t in tasks} and bench.fidelities == (1,)
    for task in tasks:
        test_acc = bench.query(CELLS, task=task.name, fidelity=1, metric="test_acc")
        valid_acc = bench.query(CELLS, task=task.name, fidelity=1, metric="valid_acc")
        assert ((test_acc >= 0) & (test_acc <= 100)).all() and np.isfinite(valid_acc).all()
        assert (bench.cost(CELLS, task=task.name, fidelity=1) > 0).all()
        assert bench.is_measured(CELLS, task=task.name).all()
        record = json.loads(next((tmp_path / "units" / task.name).glob("*.json")).read_text())
        assert len(record["train_loss"]) == 1 and record["device"] == "cpu"


def test_protocol_names_its_space_and_records_only_a_non_default_one() -> None:
    # an NB201 build records the protocol.json it did before protocols named a space
    assert "space" not in Protocol().to_dict() and Protocol().cell_space is NB201
    micro = Protocol(space="transnas_micro")
    assert micro.to_dict()["space"] == "transnas_micro" and micro.cell_space is TRANSNAS_MICRO
    with pytest.raises(ValueError, match="unknown search space 'nb301'"):
        Protocol(space="nb301")


def test_a_space_without_a_cell_dag_is_refused_before_training(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"transnas_macro.*cannot be built.*CellSearchSpace"):
        Protocol(space="transnas_macro")
    with pytest.raises(ValueError, match="needs a CellSearchSpace with a cell DAG"):
        select_cells("sample", sample_size=2, space=TRANSNAS_MACRO)
    with pytest.raises(ValueError, match=r"transnas_macro.*cannot be built"):
        TableBuildJob(tasks={"o": {"distribution": "omniglot_lake"}}, cells={"sample_size": 2},
                      protocol={"space": "transnas_macro"}).prepare(tmp_path)
    assert not list(tmp_path.iterdir())


def test_transnas_micro_cells_are_sampled_by_conv_count() -> None:
    assert [TRANSNAS_MICRO.op_names[i] for i in conv_ops(TRANSNAS_MICRO)] == [
        "nor_conv_1x1", "nor_conv_3x3"]
    unique = select_cells("unique", space=TRANSNAS_MICRO)
    assert np.array_equal(unique, np.unique(TRANSNAS_MICRO.canonical_keys()))
    assert 0 < unique.size < TRANSNAS_MICRO.size  # isomorphic cells collapse
    sample = select_cells("sample", sample_size=30, seed=1, space=TRANSNAS_MICRO)
    assert sample.size == 30 and np.isin(sample, unique).all()
    convs = np.isin(TRANSNAS_MICRO.codes(sample), [2, 3]).sum(axis=1)
    assert np.unique(convs).tolist() == list(range(7))  # every stratum 0..6 represented
    arch = TRANSNAS_MICRO.to_string((3, 3, 2, 1, 3, 1))
    assert select_cells("list", archs=[arch], space=TRANSNAS_MICRO).tolist() == [
        TRANSNAS_MICRO.key((3, 3, 2, 1, 3, 1))]
    with pytest.raises(ValueError, match="invalid TransNAS-Bench-101 micro string"):
        select_cells("list", archs=[NB201.to_string((3, 3, 2, 1, 3, 1))], space=TRANSNAS_MICRO)


def test_tiny_transnas_micro_build_merges_to_a_micro_table(tmp_path: Path) -> None:
    protocol = Protocol(epochs=1, batch_size=16, channels=2, cells_per_stage=1, augment=False,
                        valid_fraction=0.25, seeds=(1,), space="transnas_micro")
    keys = select_cells("sample", sample_size=2, seed=0, space=protocol.cell_space)
    run_shard(tmp_path, keys, [synthetic_task("a")], protocol, models_in_flight=2, device=CPU)
    record = json.loads(next((tmp_path / "units" / "a").glob("*.json")).read_text())
    assert record["cell"].startswith("64-41414-")
    assert json.loads((tmp_path / "protocol.json").read_text())["space"] == "transnas_micro"
    table = merge(tmp_path)
    assert table.space == "transnas_micro" and table.num_archs == 2
    codes = np.stack([TRANSNAS_MICRO.from_string(str(a)) for a in table.strings])
    np.testing.assert_array_equal(codes, table.codes)
    np.testing.assert_array_equal(TRANSNAS_MICRO.keys(codes), keys)
    assert table.tasks["a"].measured.all()
    with pytest.raises(ValueError, match=r"space: 'transnas_micro' before, '\(absent\)' now"):
        write_protocol(tmp_path, Protocol(epochs=1, batch_size=16, channels=2,
                                          cells_per_stage=1, augment=False,
                                          valid_fraction=0.25, seeds=(1,)))
