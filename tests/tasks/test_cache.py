"""The decoded-dataset cache: where it lives, hits, and rebuilding a damaged entry."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tasks.cache import cached_arrays


class CountingBuild:
    """A ``build`` callback that records how often the cache had to decode."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        return {"images": np.arange(24, dtype=np.uint8).reshape(2, 3, 4), "names": np.array(["a"])}


def test_entry_lives_under_metanas_cache_and_is_reused(tmp_cache: Path) -> None:
    build = CountingBuild()
    first = cached_arrays("demo", "k1", build)
    again = cached_arrays("demo", "k1", build)
    assert build.calls == 1
    assert [p.name for p in tmp_cache.iterdir()] == ["demo-k1.npz"]  # no temporaries left
    assert np.array_equal(again["images"], first["images"]) and again["names"][0] == "a"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad member"])
def test_damaged_entry_warns_and_is_rebuilt(tmp_cache: Path, damage: str, zip_corrupter) -> None:
    build = CountingBuild()
    cached_arrays("demo", "k1", build)
    path = tmp_cache / "demo-k1.npz"
    if damage == "garbage":  # np.load would try to unpickle it: "contains pickled data"
        path.write_bytes(b"not an npz")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        zip_corrupter(path, "images.npy")
    with pytest.warns(RuntimeWarning, match=r"cache entry .*demo-k1\.npz is damaged"):
        rebuilt = cached_arrays("demo", "k1", build)
    assert build.calls == 2 and np.array_equal(rebuilt["images"], CountingBuild()()["images"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rewritten whole: the next load is a plain hit
        cached_arrays("demo", "k1", build)
    assert build.calls == 2
