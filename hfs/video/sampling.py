"""Where the candidate frames sit in time."""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError


def candidate_times(duration: float, n: int) -> np.ndarray:
    """Midpoints of ``n`` equal segments of ``[0, duration]`` in seconds, shape [n].

    Midpoints, not segment starts, so the first and last candidates are as far from the
    video's ends as the candidates are from each other (half a segment).
    """
    if n < 1:
        raise InputError(f"number of candidates must be >= 1, got {n}")
    if not duration > 0:
        raise InputError(f"video duration must be positive, got {duration}")
    return (np.arange(n, dtype=np.float64) + 0.5) * (duration / n)


def nearest_indices(frame_times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each target time, the index of the nearest entry of sorted ``frame_times``.

    Ties go to the earlier frame.
    """
    frame_times = np.asarray(frame_times, dtype=np.float64)
    right = np.clip(np.searchsorted(frame_times, targets, side="left"), 0, len(frame_times) - 1)
    left = np.clip(right - 1, 0, len(frame_times) - 1)
    take_left = np.abs(targets - frame_times[left]) <= np.abs(frame_times[right] - targets)
    return np.where(take_left, left, right)
