"""Omniglot (Lake et al. 2015) read straight from the official zips or extracted folders.

Our own reader because the shared zips are not byte-identical to the official ones, so
torchvision's md5 check rejects them. Two protocols:

* :class:`OmniglotRandomSplit` -- MAML (Finn et al. 2017) / Reptile (Nichol et al. 2018):
  all 1,623 characters at 28x28, shuffled with a seeded ``random.Random``, the first 1,200
  for meta-training (optionally the last ``num_val`` of those for validation), the rest for
  meta-test; rotations by 90/180/270 degrees are new classes.
* :class:`OmniglotLakeSplit` -- Lake's background (964 characters) / evaluation (659) split,
  unrotated by default as in Lake et al.

Pixels follow openai/supervised-reptile and cbfinn/maml: ``PIL.Image.resize((28, 28),
LANCZOS)`` on the 1-bit PNG. Pillow resizes 1-bit images with nearest neighbour whatever
filter is asked for, so those papers' inputs are binary; ``antialias=True`` converts to
greyscale first and really applies Lanczos. ``invert=True`` (default, as MAML) makes
strokes 1 and background 0; Reptile fed background 1 (``invert=False``).
"""

from __future__ import annotations

import random
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from common_io.data_dir import data_root
from tasks.base import LabelledImages, TaskDistribution, WholeTask
from tasks.cache import cached_arrays, fingerprint
from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.zip_images import decode_image, open_zip, read_member

BACKGROUND, EVALUATION = "images_background", "images_evaluation"
EXPECTED_CHARACTERS = {BACKGROUND: 964, EVALUATION: 659}
DRAWINGS_PER_CHARACTER = 20
OFFICIAL_URL = "https://github.com/brendenlake/omniglot/tree/master/python"


@dataclass(frozen=True)
class OmniglotCharacters:
    """Decoded characters: ``images`` (characters, 20, H, W) uint8 as stored in the PNGs
    (background 255), with the alphabet and folder name of each character."""

    images: np.ndarray
    alphabets: np.ndarray
    characters: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def find_source(root: Path, subset: str) -> Path:
    """``<root>/<subset>.zip``, ``<root>/omniglot-py/<subset>/`` or ``<root>/<subset>/``."""
    candidates = [root / f"{subset}.zip", root / "omniglot-py" / subset, root / subset]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DataNotFoundError(
        f"Omniglot {subset!r} not found; looked for:\n"
        + "".join(f"  {c}\n" for c in candidates)
        + f"  Download {subset}.zip from {OFFICIAL_URL} into {root} (no need to extract), "
        "or pass root=/path/to/omniglot (or set METANAS_DATA so that <data>/omniglot holds it)."
    )


def _members(source: Path, subset: str) -> Iterator[tuple[str, str, str, bytes | Path]]:
    """Yield ``(alphabet, character, file name, bytes or path)`` of every PNG in ``source``."""
    if source.suffix == ".zip":
        fix = f"download {subset}.zip again from {OFFICIAL_URL}"
        with open_zip(source, fix) as archive:
            for name in sorted(archive.namelist()):
                parts = name.split("/")
                if not name.endswith(".png") or subset not in parts[:-3]:
                    continue
                yield parts[-3], parts[-2], parts[-1], read_member(archive, name, fix)
        return
    for path in sorted(source.glob("*/*/*.png")):
        yield path.parent.parent.name, path.parent.name, path.name, path


def _resize(size: int, antialias: bool) -> Callable[[Image.Image], np.ndarray]:
    """The papers' ``resize((size, size), LANCZOS)`` of the 1-bit PNG (nearest neighbour in
    effect), or with ``antialias`` a real Lanczos on the greyscale image."""

    def convert(image: Image.Image) -> np.ndarray:
        if antialias:
            image = image.convert("L")
        resized = image.resize((size, size), resample=Image.Resampling.LANCZOS)
        return np.asarray(resized.convert("L"), dtype=np.uint8)

    return convert


def _decode_subset(source: Path, subset: str, size: int, antialias: bool,
                   verify_counts: bool) -> dict[str, np.ndarray]:
    drawings: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    convert = _resize(size, antialias)
    fix = f"restore it from the official {subset}.zip at {OFFICIAL_URL}"
    for alphabet, character, name, data in _members(source, subset):
        where = f"{source}:{subset}/{alphabet}/{character}/{name}"
        drawings[(alphabet, character)].append(decode_image(data, where, fix, convert))
    if not drawings:
        raise CorruptDataError(
            f"{source} holds no Omniglot images under {subset}/<alphabet>/<character>/*.png: "
            f"download {subset}.zip again from {OFFICIAL_URL}"
        )
    keys = sorted(drawings)
    for alphabet, character in keys:
        found = len(drawings[(alphabet, character)])
        if found != DRAWINGS_PER_CHARACTER:
            raise CorruptDataError(
                f"Omniglot character {subset}/{alphabet}/{character} in {source} has {found} "
                f"drawings, expected {DRAWINGS_PER_CHARACTER}: the dataset is partial; "
                f"re-extract or download {subset}.zip again from {OFFICIAL_URL}"
            )
    expected = EXPECTED_CHARACTERS.get(subset)
    if verify_counts and expected is not None and len(keys) != expected:
        raise CorruptDataError(
            f"Omniglot {subset} in {source} has {len(keys)} characters, expected {expected}: "
            f"the dataset is partial; download {subset}.zip again from {OFFICIAL_URL}"
        )
    return {
        "images": np.stack([np.stack(drawings[k]) for k in keys]),
        "alphabets": np.array([a for a, _ in keys]),
        "characters": np.array([c for _, c in keys]),
    }


def load_subset(
    root: Path, subset: str, *, size: int = 28, antialias: bool = False,
    verify_counts: bool = True,
) -> OmniglotCharacters:
    """Decode one Omniglot subset (cached under ``$METANAS_CACHE`` after the first call)."""
    source = find_source(root, subset)
    key = fingerprint([source], subset, size, antialias, verify_counts, "omniglot-v1")
    arrays = cached_arrays(
        f"omniglot-{subset}", key,
        lambda: _decode_subset(source, subset, size, antialias, verify_counts),
    )
    return OmniglotCharacters(arrays["images"], arrays["alphabets"], arrays["characters"])


class Omniglot(TaskDistribution):
    """Shared reading, rotation and per-alphabet whole tasks of both Omniglot protocols.

    :param root: folder with ``images_background.zip``/``images_evaluation.zip`` or their
        extracted folders (also ``<root>/omniglot-py/...``); default ``<data>/omniglot``.
    :param image_size: side of the resized images (28 in MAML/Reptile).
    :param antialias: greyscale + Lanczos instead of the papers' effective nearest-neighbour.
    :param invert: strokes 1 and background 0 (MAML); ``False`` keeps background 1 (Reptile).
    :param rotations: degrees; each rotation of a character is a separate class.
    :param rotate_splits: meta-splits that get the rotated classes (Reptile: train only).
    :param train_drawings: drawings per character in a whole task's train set (rest: test).
    :param verify_counts: require the official 964/659 characters (off for subsets).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        image_size: int = 28,
        antialias: bool = False,
        invert: bool = True,
        rotations: Sequence[int] = (0, 90, 180, 270),
        rotate_splits: Sequence[str] = ("train", "val", "test"),
        train_drawings: int = 15,
        verify_counts: bool = True,
    ) -> None:
        bad = [r for r in rotations if r % 90]
        if bad or not rotations:
            raise ValueError(f"rotations must be non-empty multiples of 90 degrees, got {bad}")
        if not 0 < train_drawings < DRAWINGS_PER_CHARACTER:
            raise ValueError(
                f"train_drawings must be in 1..{DRAWINGS_PER_CHARACTER - 1}, got {train_drawings}"
            )
        root = Path(root).expanduser() if root is not None else data_root() / "omniglot"
        subsets = [
            load_subset(root, s, size=image_size, antialias=antialias,
                        verify_counts=verify_counts)
            for s in (BACKGROUND, EVALUATION)
        ]
        images = np.concatenate([s.images for s in subsets])
        self.images = (255 - images) if invert else images
        self.alphabets = np.concatenate([s.alphabets for s in subsets])
        self.characters = np.concatenate([s.characters for s in subsets])
        self.num_background = len(subsets[0])
        self.rotations = tuple(rotations)
        self.rotate_splits = tuple(rotate_splits)
        self.train_drawings = train_drawings
        self.split_characters = self._split_characters()

    @abstractmethod
    def _split_characters(self) -> dict[str, np.ndarray]:
        """Meta-split name -> indices into ``self.images`` (disjoint)."""

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.split_characters)

    def character_name(self, index: int) -> str:
        return f"{self.alphabets[index]}/{self.characters[index]}"

    def split_images(self, split: str) -> LabelledImages:
        self.check_split(split)
        chars = self.split_characters[split]
        images = self.images[chars]  # (n, drawings, H, W)
        names = [self.character_name(i) for i in chars]
        if split in self.rotate_splits:
            images = np.stack([np.rot90(images, r // 90, axes=(2, 3)) for r in self.rotations],
                              axis=1).reshape(-1, *images.shape[1:])
            names = [f"{n}@{r}" for n in names for r in self.rotations]
        drawings = images.shape[1]
        return LabelledImages(
            images.reshape(-1, 1, *images.shape[2:]),
            np.repeat(np.arange(len(names)), drawings),
            tuple(names),
        )

    def whole_tasks(self, meta_split: str | None = None) -> list[WholeTask]:
        """One task per alphabet: its characters (unrotated), first ``train_drawings``
        drawings of each to train, the remaining drawings (other people) to test."""
        if meta_split is not None:
            self.check_split(meta_split)
        owner = np.empty(len(self.images), dtype=object)
        for split, chars in self.split_characters.items():
            owner[chars] = split
        tasks = []
        for alphabet in dict.fromkeys(self.alphabets):
            chars = np.flatnonzero(self.alphabets == alphabet)
            owners = set(owner[chars])
            task_split = owners.pop() if len(owners) == 1 else None
            if meta_split is not None and task_split != meta_split:
                continue
            names = tuple(self.character_name(i) for i in chars)
            parts = []
            for drawings in (slice(None, self.train_drawings), slice(self.train_drawings, None)):
                block = self.images[chars, drawings]
                parts.append(LabelledImages(
                    block.reshape(-1, 1, *block.shape[2:]),
                    np.repeat(np.arange(len(chars)), block.shape[1]),
                    names,
                ))
            tasks.append(WholeTask.from_images(str(alphabet), *parts, meta_split=task_split))
        return self.require_tasks(tasks, meta_split)


class OmniglotRandomSplit(Omniglot):
    """MAML/Reptile protocol: a seeded shuffle of all characters, ``num_train`` for training.

    Characters are listed as openai/supervised-reptile does (alphabets of both subsets
    sorted by name, then character folders sorted) and shuffled with
    ``random.Random(seed).shuffle``: ``seed=0`` reproduces Reptile's split exactly.
    cbfinn/maml shuffled an unsorted ``os.listdir`` with seed 1 (filesystem-dependent, so not
    reproducible) and kept the last 100 of its 1,200 for validation (``num_val=100``).
    """

    def __init__(self, root: str | Path | None = None, *, seed: int = 0, num_train: int = 1200,
                 num_val: int = 0, **kwargs: object) -> None:
        if not 0 <= num_val < num_train:
            raise ValueError(f"need 0 <= num_val < num_train, got {num_val}, {num_train}")
        self.seed, self.num_train, self.num_val = seed, num_train, num_val
        super().__init__(root, **kwargs)  # type: ignore[arg-type]

    def _split_characters(self) -> dict[str, np.ndarray]:
        total = len(self.images)
        if self.num_train >= total:
            raise ValueError(
                f"num_train={self.num_train} leaves no meta-test characters out of {total}"
            )
        order = sorted(range(total), key=lambda i: (self.alphabets[i], self.characters[i]))
        random.Random(self.seed).shuffle(order)
        fit = self.num_train - self.num_val
        splits = {"train": np.array(order[:fit])}
        if self.num_val:
            splits["val"] = np.array(order[fit:self.num_train])
        splits["test"] = np.array(order[self.num_train:])
        return splits


class OmniglotLakeSplit(Omniglot):
    """Lake's protocol: background alphabets for meta-training, evaluation ones for test.

    Lake et al. (2015) use the characters as drawn, so ``rotations`` defaults to ``(0,)``;
    pass e.g. ``rotations=(0, 90, 180, 270)`` to add rotated classes as MAML does.
    """

    def __init__(self, root: str | Path | None = None, *, rotations: Sequence[int] = (0,),
                 **kwargs: object) -> None:
        super().__init__(root, rotations=rotations, **kwargs)  # type: ignore[arg-type]

    def _split_characters(self) -> dict[str, np.ndarray]:
        return {
            "train": np.arange(self.num_background),
            "test": np.arange(self.num_background, len(self.images)),
        }
