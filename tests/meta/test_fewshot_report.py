"""The few-shot summary writer and the learn2learn MAML it is compared with."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest
import torch

from metanas.meta.backbones import omniglot_conv4
from metanas.meta.fewshot_report import COLUMNS, main
from metanas.meta.l2l_parity import L2LMaml
from metanas.meta.maml import MAML


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _run(root: Path, name: str, experiment: str, *, finished: bool) -> Path:
    run = root / name
    _write(run / ".hydra" / "overrides.yaml", f"- experiment={experiment}\n- job.device=cpu\n")
    _write(run / "curve.csv", "iteration,acc,ci95,train_time_s\n0,50.0,2.0,0.0\n"
                              "500,90.5,1.1,120.0\n")
    if finished:
        _write(run / "summary.csv", "method,setting,transductive,test_acc_mean,test_acc_ci95,"
               "episodes,iterations,meta_batch,seed,device,wall_time_s\n"
               "reptile,5w5s,False,97.0,0.3,600,1000,5,0,cpu,10.0\n")
    return run


def test_summary_labels_unfinished_runs_and_carries_published_numbers(tmp_path) -> None:
    runs = [_run(tmp_path, "a", "omniglot_maml_5w1s", finished=False),
            _run(tmp_path, "b", "omniglot_reptile_5w5s", finished=True)]
    out = tmp_path / "out"
    _write(out / "l2l_parity_x.csv",
           "experiment,library,iterations,test_episodes,test_acc_mean,ci95,"
           "s_per_iteration_median,time_ratio_vs_l2l,threads\n"
           "omniglot_maml_5w1s,metanas,100,600,90.0,1.0,0.3,0.5,1\n"
           "omniglot_maml_5w1s,learn2learn,100,600,89.5,1.0,0.6,1.0,1\n")
    main([str(r) for r in runs] + ["--out", str(out)])
    with (out / "summary.csv").open() as f:
        rows = {(r["method"], r["iterations"]): r for r in csv.DictReader(f)}
    assert tuple(next(iter(rows.values()))) == COLUMNS
    unfinished = rows[("maml", "500")]
    assert (unfinished["test_acc_mean"], unfinished["published"]) == ("90.5", "98.7")
    assert unfinished["measured_on"].startswith("curve point (unfinished")
    finished = rows[("reptile", "1000")]
    assert (finished["test_acc_mean"], finished["published"]) == ("97.0", "98.9")
    parity = rows[("maml", "100")]
    assert (parity["l2l_acc_same_iterations"], parity["time_ratio_vs_l2l"]) == ("89.5", "0.5")
    assert (out / "curves" / "a.csv").exists() and (out / "curves.png").stat().st_size > 0


def test_run_without_results_is_refused(tmp_path) -> None:
    run = tmp_path / "empty"
    _write(run / ".hydra" / "overrides.yaml", "- experiment=omniglot_maml_5w1s\n")
    with pytest.raises(ValueError, match=r"neither summary.csv nor curve.csv"):
        main([str(run), "--out", str(tmp_path / "out")])


@pytest.mark.parametrize("first_order", [False, True])
def test_l2l_maml_computes_the_same_meta_gradient_as_ours(synthetic_batch, first_order) -> None:
    """Gradients, not stepped parameters: Adam turns the (mathematically zero) gradient of a
    conv bias followed by batch norm into a full-size step whose sign is rounding noise."""
    torch.manual_seed(0)
    ours = MAML(omniglot_conv4(3, hidden=8), inner_lr=0.4, train_steps=2,
                first_order=first_order)
    theirs = L2LMaml(copy.deepcopy(ours.model), inner_lr=0.4, train_steps=2, test_steps=3,
                     first_order=first_order, outer_lr=0.0)
    batch = synthetic_batch(meta_batch=3, ways=3, shots=1, queries=2)
    mine, _ = ours.meta_gradient(batch)
    theirs.meta_train_step(batch)
    for name, p in theirs.maml.module.named_parameters():
        torch.testing.assert_close(p.grad, mine[name], rtol=1e-4, atol=1e-6, msg=name)
