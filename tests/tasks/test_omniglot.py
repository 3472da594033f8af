"""Omniglot reader and protocols: synthetic zips for mechanics, the real zips for counts."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.omniglot import BACKGROUND, EVALUATION, OmniglotLakeSplit, OmniglotRandomSplit


@pytest.fixture
def tiny_root(tiny_omniglot: Path) -> Path:
    return tiny_omniglot


def tiny(root: Path, **kwargs) -> OmniglotRandomSplit:
    return OmniglotRandomSplit(root, num_train=4, verify_counts=False, **kwargs)


def test_reads_zips_resizes_and_caches(tiny_root: Path, tmp_cache: Path) -> None:
    dist = tiny(tiny_root)
    assert dist.images.shape == (7, 20, 28, 28) and dist.images.dtype == np.uint8
    assert set(np.unique(dist.images)) <= {0, 255}  # PIL resizes 1-bit images by nearest
    assert len(list(tmp_cache.glob("omniglot-*.npz"))) == 2
    again = tiny(tiny_root)
    assert np.array_equal(again.images, dist.images)


def test_antialias_gives_grey_levels(tiny_root: Path) -> None:
    assert len(np.unique(tiny(tiny_root, antialias=True).images)) > 2


def test_extracted_torchvision_layout_equals_zip(tiny_root: Path, tmp_path: Path) -> None:
    extracted = tmp_path / "extracted"
    for subset in (BACKGROUND, EVALUATION):
        with zipfile.ZipFile(tiny_root / f"{subset}.zip") as archive:
            archive.extractall(extracted / "omniglot-py")
    assert np.array_equal(tiny(extracted).images, tiny(tiny_root).images)


def test_seeded_split_and_rotations_are_classes(tiny_root: Path) -> None:
    dist = tiny(tiny_root, seed=0, rotate_splits=("train",))
    train, test = dist.split_characters["train"], dist.split_characters["test"]
    assert sorted([*train, *test]) == list(range(7))
    assert np.array_equal(tiny(tiny_root, seed=0).split_characters["train"], train)
    assert any(not np.array_equal(tiny(tiny_root, seed=s).split_characters["train"], train)
               for s in (1, 2, 3))
    pool = dist.pool("train", dtype=torch.uint8)
    assert pool.num_classes == 16 and pool.class_names[1].endswith("@90")
    base = torch.from_numpy(dist.images[dist.split_characters["train"][0]])
    for r in range(4):
        assert torch.equal(pool.data[r, :, 0], torch.rot90(base, r, dims=(1, 2)))
    assert dist.pool("test").num_classes == 3  # test not rotated


def test_lake_split_has_no_rotations_by_default(tiny_root: Path) -> None:
    lake = OmniglotLakeSplit(tiny_root, verify_counts=False)
    assert lake.pool("train").num_classes == 5 and lake.pool("test").num_classes == 2
    rotated = OmniglotLakeSplit(tiny_root, verify_counts=False, rotations=(0, 90))
    assert rotated.pool("train").num_classes == 10


def test_whole_tasks_reject_unknown_or_empty_meta_split(tiny_root: Path) -> None:
    lake = OmniglotLakeSplit(tiny_root, verify_counts=False)
    assert [t.name for t in lake.whole_tasks("test")] == ["Gamma"]
    with pytest.raises(KeyError, match=r"no meta-split 'tets'.*\('train', 'test'\)"):
        lake.whole_tasks("tets")
    one_test_character = OmniglotRandomSplit(tiny_root, num_train=6, verify_counts=False)
    with pytest.raises(ValueError, match=r"no whole task in meta-split 'test'"):
        one_test_character.whole_tasks("test")  # every alphabet has >= 2 characters


def test_whole_tasks_per_alphabet(tiny_root: Path) -> None:
    tasks = OmniglotLakeSplit(tiny_root, verify_counts=False).whole_tasks()
    assert [t.name for t in tasks] == ["Alpha", "Beta", "Gamma"]
    alpha = tasks[0]
    assert alpha.x_train.shape == (3 * 15, 1, 28, 28) and alpha.x_test.shape == (3 * 5, 1, 28, 28)
    assert alpha.meta_split == "train" and tasks[2].meta_split == "test"
    assert sorted(alpha.y_test.unique().tolist()) == [0, 1, 2]


def test_missing_folder_names_paths_and_fix(tmp_path: Path, tmp_cache: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"(?s)images_background.*omniglot-py.*Download"):
        OmniglotRandomSplit(tmp_path)


def test_partial_character_names_the_folder(
    tmp_path: Path, tmp_cache: Path, omniglot_zip_writer
) -> None:
    omniglot_zip_writer(tmp_path / f"{BACKGROUND}.zip", BACKGROUND, {"Alpha": 2}, drawings=17)
    with pytest.raises(CorruptDataError, match=r"Alpha/character01.*17 drawings, expected 20"):
        OmniglotLakeSplit(tmp_path, verify_counts=False)


def test_partial_subset_fails_count_check(tiny_root: Path) -> None:
    with pytest.raises(CorruptDataError, match=r"5 characters, expected 964.*partial"):
        OmniglotLakeSplit(tiny_root)


def test_corrupt_image_names_the_file(tiny_root: Path, tmp_path: Path) -> None:
    extracted = tmp_path / "x"
    for subset in (BACKGROUND, EVALUATION):
        with zipfile.ZipFile(tiny_root / f"{subset}.zip") as archive:
            archive.extractall(extracted)
    victim = next((extracted / BACKGROUND / "Beta" / "character02").glob("*.png"))
    victim.write_bytes(b"not a png")
    with pytest.raises(CorruptDataError, match=rf"Beta/character02/{victim.name}.*corrupt"):
        tiny(extracted)


def test_damaged_zip_member_names_member_and_fix(tiny_root: Path, zip_corrupter) -> None:
    member = f"{BACKGROUND}/Beta/character01/0004_03.png"
    zip_corrupter(tiny_root / f"{BACKGROUND}.zip", member)
    with pytest.raises(CorruptDataError,
                       match=rf"{member} in .*{BACKGROUND}.zip.*download {BACKGROUND}.zip again"):
        tiny(tiny_root)


def test_unknown_split_and_bad_options(tiny_root: Path) -> None:
    with pytest.raises(KeyError, match="num_val"):
        tiny(tiny_root).pool("val")
    with pytest.raises(ValueError, match="multiples of 90"):
        tiny(tiny_root, rotations=(45,))


# --- real data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reptile(real_data: Path) -> OmniglotRandomSplit:
    """The first run decodes all 32,460 images (~20 s alone on 2 cores), later runs hit
    the cache."""
    return OmniglotRandomSplit(real_data / "omniglot", seed=0, invert=False,
                               rotate_splits=("train",))


@pytest.mark.slow
def test_real_counts(reptile: OmniglotRandomSplit) -> None:
    assert reptile.images.shape == (1623, 20, 28, 28)  # 32,460 drawings
    assert reptile.num_background == 964 and len(reptile.images) - 964 == 659
    assert len(set(reptile.alphabets[:964])) == 30 and len(set(reptile.alphabets[964:])) == 20


@pytest.mark.slow
def test_real_seeded_splits_are_pinned(real_data: Path, reptile: OmniglotRandomSplit) -> None:
    """Character names computed once with seed 0 (Reptile) and seed 1 (MAML): any change
    of listing order or shuffle changes them."""

    def names(dist: OmniglotRandomSplit, split: str, which: slice) -> list[str]:
        return [dist.character_name(i) for i in dist.split_characters[split][which]]

    assert names(reptile, "train", slice(3)) == [
        "Japanese_(hiragana)/character47", "Syriac_(Serto)/character02", "Korean/character07"]
    assert names(reptile, "train", slice(-1, None)) == ["Grantha/character18"]
    assert names(reptile, "test", slice(3)) == [
        "Malayalam/character17", "Mkhedruli_(Georgian)/character07",
        "Japanese_(hiragana)/character33"]
    maml = OmniglotRandomSplit(real_data / "omniglot", seed=1, num_val=100)
    assert names(maml, "val", slice(2)) == ["Tifinagh/character11", "N_Ko/character16"]
    assert names(maml, "test", slice(2)) == ["Keble/character04",
                                              "Atemayar_Qelisayer/character08"]


@pytest.mark.slow
def test_real_maml_reptile_split(reptile: OmniglotRandomSplit) -> None:
    train, test = reptile.split_characters["train"], reptile.split_characters["test"]
    assert len(train) == 1200 and len(test) == 423 and not set(train) & set(test)
    assert reptile.pool("train", dtype=torch.uint8).num_classes == 4800
    test_pool = reptile.pool("test")
    assert test_pool.num_classes == 423 and test_pool.samples_per_class == 20
    batch = test_pool.sample(torch.Generator().manual_seed(0), meta_batch=16, ways=20,
                             shots=5, queries=5)
    assert batch.x_support.shape == (16, 100, 1, 28, 28)
    assert 0.5 < batch.x_support.mean() < 1.0  # invert=False: background 1, as Reptile


@pytest.mark.slow
def test_real_lake_split_and_alphabet_tasks(real_data: Path, reptile) -> None:
    lake = OmniglotLakeSplit(real_data / "omniglot")  # Lake et al.: no rotations
    pools = lake.pools(dtype=torch.uint8)
    assert pools["train"].num_classes == 964 and pools["test"].num_classes == 659
    tasks = lake.whole_tasks()
    assert len(tasks) == 50 and sum(t.num_classes for t in tasks) == 1623
    assert {t.meta_split for t in tasks} == {"train", "test"}
    assert len(lake.whole_tasks("test")) == 20


@pytest.mark.slow
def test_real_second_load_comes_from_the_cache(
    real_data: Path, reptile, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again although the cache holds both subsets")

    monkeypatch.setattr("tasks.omniglot._decode_subset", no_decoding)
    lake = OmniglotLakeSplit(real_data / "omniglot", invert=False)
    assert np.array_equal(lake.images, reptile.images)


@pytest.mark.slow
def test_real_extracted_layout(real_data: Path, reptile, tmp_path: Path) -> None:
    """A few characters extracted from the real zip decode as they do from the zip."""
    with zipfile.ZipFile(real_data / "omniglot" / f"{EVALUATION}.zip") as archive:
        members = [n for n in archive.namelist() if "/Atlantean/" in n]
        archive.extractall(tmp_path / "omniglot-py", members)
    shutil.copy(real_data / "omniglot" / f"{BACKGROUND}.zip", tmp_path)
    from tasks.omniglot import load_subset

    subset = load_subset(tmp_path, EVALUATION, verify_counts=False)
    atlantean = np.flatnonzero(reptile.alphabets == "Atlantean")
    assert np.array_equal(subset.images, reptile.images[atlantean])
