"""TransNAS-Bench-101 spaces: official strings, the macro rule, and the encodings checked
against NASLib's zero-cost files (params and FLOPs of conv-heavy vs skip-heavy networks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tabular_bench.spaces import (
    NB201,
    SPACES,
    TRANSNAS_MACRO,
    TRANSNAS_MICRO,
    SubsetSpace,
    space_named,
)


def test_sizes_and_registry() -> None:
    assert (TRANSNAS_MICRO.size, TRANSNAS_MACRO.size, NB201.size) == (4096, 3256, 15625)
    assert set(SPACES) == {"nb201", "transnas_micro", "transnas_macro"}
    assert space_named("transnas_macro") is TRANSNAS_MACRO
    with pytest.raises(KeyError, match="registered: nb201, transnas_macro, transnas_micro"):
        space_named("nb101")


@pytest.mark.parametrize("space", [TRANSNAS_MICRO, TRANSNAS_MACRO], ids=lambda s: s.name)
def test_every_official_string_round_trips(space) -> None:
    keys = np.arange(space.size)
    strings = space.strings(keys)
    assert len(set(strings)) == space.size
    assert np.array_equal(space.keys_from_strings(strings), keys)


def test_official_string_formats() -> None:
    assert TRANSNAS_MICRO.to_string((1, 0, 0, 2, 1, 0)) == "64-41414-1_00_210"
    assert TRANSNAS_MICRO.from_string("64-41414-3_33_333").tolist() == [3] * 6
    assert TRANSNAS_MACRO.from_string("64-4111-basic").tolist() == [4, 1, 1, 1, 0, 0]
    assert TRANSNAS_MACRO.to_string(np.array([1, 2, 4, 2, 0, 0])) == "64-1242-basic"
    for bad in ("64-41414-4_00_000", "64-41414-1_0_210", "|none~0|"):
        with pytest.raises(ValueError, match="64-41414-a_bc_def"):
            TRANSNAS_MICRO.from_string(bad)
    # no downsampling block, too few blocks, four channel doublings: not in the space
    for bad in ("64-1111-basic", "64-333-basic", "64-2224-basic"):
        with pytest.raises(ValueError, match="downsampling"):
            TRANSNAS_MACRO.from_string(bad)


def test_macro_members_follow_the_published_rule() -> None:
    codes = TRANSNAS_MACRO.all_codes()
    blocks = (codes > 0).sum(axis=1)
    assert set(blocks.tolist()) == {4, 5, 6}
    for code, n in zip(codes, blocks):
        assert (code[:n] > 0).all() and (code[n:] == 0).all()
    down = np.isin(codes, [3, 4]).sum(axis=1)
    double = np.isin(codes, [2, 4]).sum(axis=1)
    assert down.min() == 1 and down.max() == 4 and double.min() == 1 and double.max() == 3


def test_subset_moves_stay_inside() -> None:
    rng = np.random.default_rng(0)
    subset = SubsetSpace(TRANSNAS_MICRO, rng.choice(4096, 300, replace=False), name="part")
    assert subset.family == "transnas_micro"
    for code in subset.random_codes(rng, 20):
        assert subset.key_of(tuple(code.tolist())) is not None
        for n in subset.neighbours(code):
            assert (n != code).sum() == 1 and subset.key_of(tuple(n.tolist())) is not None
        assert subset.key_of(tuple(subset.mutate(code, rng).tolist())) is not None
        assert np.array_equal(subset.nearest(tuple(code.tolist())), code)
    outside = next(c for c in TRANSNAS_MICRO.all_codes() if subset.key_of(tuple(c)) is None)
    near = subset.nearest(tuple(outside.tolist()))
    best = min((subset.members != outside).sum(axis=1))
    assert (near != outside).sum() == best
    with pytest.raises(ValueError, match="nearest"):
        subset.keys(outside[None, :])


def test_subsets_keep_the_parents_op_costs() -> None:
    """A hand prior on the measured macro networks ranks block kinds as on the whole space
    (the subset forwards ``op_costs``); a subset of a space with none declares none."""
    from metanas.priors.hand_prior import hand_logits, op_costs

    macro = SubsetSpace(TRANSNAS_MACRO, np.arange(0, 3256, 5), name="macro_part")
    assert macro.op_costs == TRANSNAS_MACRO.op_costs
    assert np.array_equal(hand_logits(macro), hand_logits(TRANSNAS_MACRO))
    micro = SubsetSpace(TRANSNAS_MICRO, np.arange(0, 4096, 7), name="micro_part")
    assert micro.op_costs is None
    assert np.argmax(op_costs(micro)) == TRANSNAS_MICRO.op_names.index("nor_conv_3x3")


# -- against the file ------------------------------------------------------------------
def _records(real_data: Path, space: str, task: str) -> tuple[np.ndarray, dict]:
    raw = json.loads((real_data / f"transnas101/zc_transbench101_{space}.json").read_text())
    records = raw[task]
    codes = np.array([json.loads(a.replace("(", "[").replace(")", "]")) for a in records])
    return codes, records


def _score(records: dict, name: str) -> np.ndarray:
    return np.array([r[name]["score"] if name != "val_accuracy" else r[name]
                     for r in records.values()])


def test_micro_ops_match_the_files_params(real_data: Path) -> None:
    """Least squares of params on op counts: a conv3x3 edge adds ~6.9M, conv1x1 ~0.8M, and
    none/skip almost nothing (0.11M for skip); so op 3 is conv3x3 and op 2 conv1x1."""
    codes, records = _records(real_data, "micro", "class_scene")
    counts = np.stack([(codes == op).sum(axis=1) for op in (1, 2, 3)] + [np.ones(len(codes))], 1)
    skip, conv1, conv3, _ = np.linalg.lstsq(counts, _score(records, "params"), rcond=None)[0]
    assert 6.0 < conv3 < 8.0 and 0.5 < conv1 < 1.2 and abs(skip) < 0.2
    # Op 0 is none: a cell whose output node receives only none is the zero cell, so
    # every such cell scores the same (the network sees no input signal).
    dead = (codes[:, 3:] == 0).all(axis=1)
    assert dead.sum() > 5 and np.ptp(_score(records, "val_accuracy")[dead]) == 0
    # ... and the function-isomorphism rule puts all of them in one class.
    keys = TRANSNAS_MICRO.keys(codes[dead])
    assert np.unique(TRANSNAS_MICRO.canonical_keys(keys, rule="function")).size == 1


def test_macro_blocks_match_the_files_params_and_flops(real_data: Path) -> None:
    """Log params and FLOPs on block-kind counts: kinds 2 and 4 multiply params by ~3.4
    (channels x2), kind 3 cuts FLOPs (stride 2) and kind 4 about cancels in FLOPs."""
    codes, records = _records(real_data, "macro", "jigsaw")
    assert len(TRANSNAS_MACRO.keys(codes)) == len(codes)  # every file network is a member
    counts = np.stack([(codes == k).sum(axis=1) for k in (1, 2, 3, 4)] + [np.ones(len(codes))], 1)
    lp = np.linalg.lstsq(counts, np.log(_score(records, "params")), rcond=None)[0]
    lf = np.linalg.lstsq(counts, np.log(_score(records, "flops")), rcond=None)[0]
    assert lp[1] > 1.0 and lp[3] > 1.0 and lp[0] < 0.3 and lp[2] < 0.3
    assert lf[2] < -0.2 < lf[0] and lf[1] > 0.8 and abs(lf[3] - lf[0]) < 0.2
    order = TRANSNAS_MACRO.op_cost_order
    assert np.argsort(np.r_[0.0, lp[:4]]).tolist() == list(order)
