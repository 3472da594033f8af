"""Errors raised by task distributions: each message names the culprit and the fix."""

from __future__ import annotations

from common_io.data_dir import DataNotFoundError

__all__ = ["CorruptDataError", "DataNotFoundError", "EpisodeSizeError"]


class CorruptDataError(ValueError):
    """A dataset file exists but cannot be decoded, or a folder is only partly there."""


class EpisodeSizeError(ValueError):
    """A split has too few classes or samples per class for the requested episode."""
