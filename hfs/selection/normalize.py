"""Score rescaling shared by selectors that need scores in [0, 1]."""

from __future__ import annotations

import numpy as np


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scores rescaled to [0, 1]; a constant vector becomes all ones (every frame equal)."""
    half = np.asarray(scores, dtype=np.float64) / 2.0  # halved: hi - lo cannot overflow near the float limit
    lo, hi = float(half.min()), float(half.max())
    if hi - lo < 0.5e-12:
        return np.ones_like(half)
    return (half - lo) / (hi - lo)


def fill_distinct(chosen: list[int], ranking: np.ndarray, k: int) -> np.ndarray:
    """``chosen`` without repeats, topped up to k from ``ranking`` (best first)."""
    out = list(dict.fromkeys(chosen))[:k]
    taken = set(out)
    for i in ranking:
        if len(out) == k:
            break
        if int(i) not in taken:
            out.append(int(i))
            taken.add(int(i))
    return np.array(out, dtype=np.int64)

