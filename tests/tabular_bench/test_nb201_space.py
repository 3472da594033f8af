"""NB201Space: official strings and indices, key validation, isomorphism, path encoding."""

from __future__ import annotations

import numpy as np
import pytest

from tabular_bench.spaces import NB201, CellSearchSpace
from tabular_bench.store import Table


def test_string_round_trip_for_every_cell() -> None:
    keys = np.arange(NB201.size)
    strings = NB201.strings(keys)
    assert len(set(strings)) == NB201.size
    np.testing.assert_array_equal(NB201.keys_from_strings(strings), keys)
    for key in (0, 1, 777, NB201.size - 1):
        code = NB201.code(key)
        assert NB201.to_string(code) == strings[key]
        np.testing.assert_array_equal(NB201.from_string(strings[key]), code)


def test_string_layout_matches_official_convention() -> None:
    code = np.array([4, 2, 1, 2, 1, 1])  # edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
    assert NB201.to_string(code) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
        "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "|none~0|+|none~0|none~1|",
        "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
    ],
)
def test_invalid_string_names_format_and_ops(bad: str) -> None:
    with pytest.raises(ValueError, match="op~0") as err:
        NB201.from_string(bad)
    assert "nor_conv_3x3" in str(err.value)
    with pytest.raises(ValueError):
        NB201.keys_from_strings([bad])


def test_official_index_order_matches_csv(nb201_table: Table) -> None:
    keys = NB201.keys(nb201_table.codes)
    assert nb201_table.indices.tolist() == list(range(NB201.size))
    assert sorted(keys.tolist()) == list(range(NB201.size))
    assert NB201.strings(keys) == nb201_table.strings.astype(str).tolist()
    np.testing.assert_array_equal(NB201.official_index(keys), nb201_table.indices)


def test_official_index_shape_and_generic_space() -> None:
    assert NB201.official_index(13931).shape == ()  # the CSV's row 0
    assert int(NB201.official_index(13931)) == 0
    assert NB201.official_index(np.array([[13931, 4032]])).tolist() == [[0, 4]]
    generic = CellSearchSpace("toy", ("a", "b"), 3)  # no published order: index = key
    np.testing.assert_array_equal(generic.official_index([0, 5, 7]), [0, 5, 7])


@pytest.mark.parametrize(
    "keys, match",
    [
        (np.array([1.0, 2.0]), "integers, got dtype float64"),
        (2.5, "integers"),
        (np.array([True]), "integers"),
        ([0, NB201.size], "lie in \\[0, 15625\\)"),
        (-1, "lie in"),
    ],
)
def test_bad_keys_are_refused_not_truncated(keys, match: str) -> None:
    for call in (NB201.validate_keys, NB201.codes, NB201.canonical_keys, NB201.official_index):
        with pytest.raises(ValueError, match=match):
            call(keys)


def test_validate_keys_keeps_shape_and_accepts_empty() -> None:
    assert NB201.validate_keys(np.array([[1, 2]], dtype=np.uint16)).dtype == np.int64
    assert NB201.validate_keys(np.array([[1, 2]])).shape == (1, 2)
    assert NB201.validate_keys([]).shape == (0,)


def test_codes_with_unknown_ops_have_no_key() -> None:
    with pytest.raises(ValueError, match="op indices of nb201 lie in \\[0, 5\\)"):
        NB201.key((9,) * 6)
    with pytest.raises(ValueError, match="lie in"):
        NB201.keys(np.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, -1]]))
    with pytest.raises(ValueError, match="6 integer op indices"):
        NB201.key((0.0,) * 6)
    with pytest.raises(ValueError, match="6 integer op indices"):
        NB201.keys(np.zeros((2, 5), dtype=int))
    assert NB201.key((4,) * 6) == NB201.size - 1


def test_naslib_convention() -> None:
    # NASLib: ops skip, none, 3x3, 1x1, pool; edges 1<-0, 2<-0, 3<-0, 2<-1, 3<-1, 3<-2
    naslib = np.array([[0, 1, 2, 3, 4, 0]])
    np.testing.assert_array_equal(NB201.from_naslib(naslib), [[1, 0, 2, 3, 4, 1]])
    with pytest.raises(ValueError, match="NASLib"):
        NB201.from_naslib([[0, 1, 2, 3, 4, 5]])


def test_paper_reports_6466_unique_topologies() -> None:
    assert NB201.num_isomorphism_classes() == 6466


def test_canonical_keys_are_class_representatives() -> None:
    for rule in ("nb201", "function"):
        canon = NB201.canonical_keys(rule=rule)
        assert (canon <= np.arange(NB201.size)).all()
        np.testing.assert_array_equal(canon[canon], canon)  # idempotent
        np.testing.assert_array_equal(NB201.canonical_keys([5, 77], rule=rule), canon[[5, 77]])


def test_function_rule_is_coarser_than_paper_rule() -> None:
    paper, function = NB201.canonical_keys(), NB201.canonical_keys(rule="function")
    assert NB201.num_isomorphism_classes("function") == 4930
    # every paper class lies inside one function class
    assert all(np.unique(function[paper == c]).size == 1 for c in np.unique(paper)[:500])


def test_isomorphisms_that_must_hold() -> None:
    def same(a: list[int], b: list[int], rule: str) -> bool:
        return bool(np.ptp(NB201.canonical_keys(NB201.keys(np.array([a, b])), rule=rule)) == 0)

    for rule in ("nb201", "function"):
        # skip_connect is the identity: conv3x3 of a skipped input is conv3x3 of the input
        assert same([1, 0, 0, 0, 3, 0], [0, 0, 0, 3, 0, 0], rule)
        # edges out of a node fed only by none are dead
        assert same([0, 0, 0, 3, 2, 0], [0, 0, 0, 3, 0, 0], rule)
        assert not same([0, 0, 0, 3, 0, 0], [0, 0, 0, 4, 0, 0], rule)
    # nodes 1 and 2 swap when edge 2<-1 is none; the paper's text-based rule keeps that
    # none as a zero term of node 2, so it never sees this symmetry
    assert same([2, 3, 0, 4, 1, 3], [3, 2, 0, 4, 3, 1], "function")
    assert not same([2, 3, 0, 4, 1, 3], [3, 2, 0, 4, 3, 1], "nb201")


def test_paper_rule_matches_nats_bench_on_sample() -> None:
    from nats_bench.genotype_utils import topology_str2structure

    keys = np.random.default_rng(0).choice(NB201.size, 1500, replace=False)
    ours = NB201.canonical_keys(keys)
    theirs = [
        topology_str2structure(s).to_unique_str(consider_zero=True) for s in NB201.strings(keys)
    ]
    for i in range(len(keys)):
        for j in range(i + 1, min(i + 40, len(keys))):
            assert (ours[i] == ours[j]) == (theirs[i] == theirs[j])


def test_path_encoding() -> None:
    codes = np.array([[0, 0, 0, 3, 0, 0], [2, 0, 0, 0, 4, 0], [2, 0, 1, 0, 0, 3], [0] * 6])
    enc = NB201.path_encoding(codes)
    assert enc.shape == (4, 84) and enc.dtype == np.float32
    assert enc[0].sum() == 1 and enc[0, 2] == 1  # length-1 path through nor_conv_3x3
    assert enc[1].sum() == 1 and enc[1, 4 + 1 * 4 + 3] == 1  # conv1x1 -> avg_pool
    assert enc[2].sum() == 1 and enc[2, 20 + 1 * 16 + 0 * 4 + 2] == 1  # 1x1, skip, 3x3
    assert enc[3].sum() == 0
    all_enc = NB201.path_encoding(NB201.all_codes())
    assert (all_enc.sum(axis=0) > 0).all()
