"""Where the refining rounds of the adaptive candidates put their extra targets.

Every gap between neighbouring candidates (and between the video's ends and the first and last
candidate) can take one new target at its midpoint per round. A round first gives targets to
the promising gaps: those next to a candidate scoring at least ``promising_z`` (z-score over
everything scored so far), best neighbour first, so a region that matches the question is
mapped out more finely round after round. The rest goes to the widest gaps, so no long stretch of
the video stays unexplored; among gaps of equal width (a uniform grid's) the picks spread evenly
over the video rather than piling up at its start. A gap narrower than two frame intervals has no new frame inside and
is never split.
"""

from __future__ import annotations

import numpy as np


def refine_targets(times: np.ndarray, scores: np.ndarray, duration: float, count: int, min_gap: float,
                   explore_share: float = 0.5, promising_z: float = 1.0) -> np.ndarray:
    """Up to ``count`` new target times [<= count], ascending.

    ``times`` [N] ascending seconds of the candidates scored so far, ``scores`` [N] their z-scores,
    ``min_gap`` the frame interval in seconds.
    """
    times = np.asarray(times, np.float64)
    scores = np.asarray(scores, np.float64)
    if count <= 0 or len(times) == 0:
        return np.zeros(0, np.float64)
    left = np.concatenate([[0.0], times])  # [N + 1] gap starts
    right = np.concatenate([times, [duration]])
    width = right - left
    promise = np.maximum(np.concatenate([[-np.inf], scores]), np.concatenate([scores, [-np.inf]]))
    open_gap = width >= 2 * max(min_gap, 1e-6)
    n_exploit = count - int(round(count * explore_share))
    exploit = [i for i in np.lexsort((-width, -promise)) if open_gap[i] and promise[i] >= promising_z][:n_exploit]
    taken = np.zeros(len(width), bool)
    taken[exploit] = True
    rest = count - len(exploit)
    explore = [i for i in _widest_first(width) if open_gap[i] and not taken[i]][:rest]
    picked = np.sort(np.asarray(exploit + explore, np.int64))
    return (left[picked] + right[picked]) / 2


def _widest_first(width: np.ndarray) -> np.ndarray:
    """Gap indices, widest first; equal widths (to 1 microsecond) in van der Corput order of position."""
    n = len(width)
    bits = max(1, int(n - 1).bit_length())
    position = np.arange(n)
    reversed_bits = np.zeros(n, np.int64)
    for b in range(bits):  # bit-reversed index: 0, n/2, n/4, 3n/4, ... spread evenly
        reversed_bits |= ((position >> b) & 1) << (bits - 1 - b)
    return np.lexsort((reversed_bits, -np.round(width, 6)))
