"""Read image files from a zip or a folder and decode them, with errors that name the fix.

Omniglot and ImageFolder roots both read PNG/JPEG members straight from zips; a damaged
archive, member or image must say which file it is and how to restore it instead of
surfacing ``BadZipFile: Bad CRC-32`` or a bare PIL error.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from tasks.errors import CorruptDataError

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, zlib.error, EOFError)


def open_zip(path: Path, fix: str) -> zipfile.ZipFile:
    """Open ``path``; ``fix`` (e.g. ``"download it again from <url>"``) ends the error."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptDataError(f"{path} is not a readable zip ({exc}): {fix}") from exc


def read_member(archive: zipfile.ZipFile, name: str, fix: str) -> bytes:
    """The bytes of member ``name``; a damaged member (bad CRC, broken deflate stream)
    raises :class:`CorruptDataError` naming the archive and the member."""
    try:
        return archive.read(name)
    except _READ_ERRORS as exc:
        raise CorruptDataError(
            f"cannot read {name} in {archive.filename} ({exc}): the zip is damaged; {fix}"
        ) from exc


def decode_image(
    data: bytes | Path, where: str, fix: str, convert: Callable[[Image.Image], np.ndarray]
) -> np.ndarray:
    """Open ``data`` (a member's bytes or a file) and ``convert`` the image to pixels.

    PIL decodes lazily, so ``convert`` runs inside the same guard: a truncated or
    garbled file raises :class:`CorruptDataError` naming ``where`` (``archive:member``
    or the path) and ``fix``.
    """
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
            return convert(image)
    except _DECODE_ERRORS as exc:
        raise CorruptDataError(f"cannot decode image {where} ({exc}): the file is corrupt; {fix}"
                               ) from exc
