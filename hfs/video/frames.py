"""Small helpers for frame arrays shared by every video source."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Frame(NamedTuple):
    """One decoded candidate: its position among the requested times, its time, its pixels."""

    index: int  # index into the requested times
    time: float  # presentation time in seconds from the start of the video
    image: np.ndarray  # [H, W, 3] uint8 RGB, displayed orientation


def scaled_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """(width, height) with the shorter side scaled to ``short_side`` (None: unchanged).

    Sizes are kept even and at least 2 so every pixel format can be converted.
    """
    if short_side is None or min(width, height) <= short_side:
        return width, height
    scale = short_side / min(width, height)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def rotate_to_display(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a counter-clockwise display rotation (0, 90, 180, 270 degrees)."""
    turns = (int(round(rotation / 90.0))) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image
