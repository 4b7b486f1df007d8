"""BOLT: inverse transform sampling over the score distribution (Liu et al., "BOLT: Boost
Large VLMs without Training for Long-form Video Understanding", CVPR 2025), as its authors'
code runs it.

Follows ``select_frames.py`` of github.com/sming256/BOLT (commit caa3349),
``inverse_transform_sampling``, with the power of ``scripts/frame_selection.sh`` (3 for
Video-MME and MLVU, 2.5 for LongVideoBench): the scores are min-max normalised to [0, 1] and
raised to ``power``; their normalised cumulative sum is the CDF, read by ``searchsorted`` (first
step at or above) at the k points linspace(1/k, 1 - 1/k, k). Two quantiles in one frame's step
give that frame twice: the released code keeps the repeat, so fewer than k distinct frames may
come back (``Selection.repeats`` counts them). Min-max normalisation is unchanged by
standardising, so the z-scores serve.

Deviations: a constant score vector normalises to all ones (uniform sampling; the released code
divides by zero); at k = 1 the single point is 1.0, which rounding can put past the last step,
so the index is clipped to the last frame.
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.selection.base import Selector
from hfs.selection.normalize import minmax


class BoltSelector(Selector):
    name = "bolt"
    exact_k = False

    def __init__(self, objective=None, seed: int = 0, power: float = 3.0) -> None:
        super().__init__(objective, seed)
        if power <= 0:
            raise InputError(f"bolt: power must be positive, got {power}")
        self.power = power

    def _choose(self, scores, k, positions, embeddings):
        weight = minmax(scores) ** self.power
        cdf = np.cumsum(weight / weight.sum())
        picks = np.searchsorted(cdf, np.linspace(1.0 / k, 1.0 - 1.0 / k, k))
        return np.minimum(picks, scores.size - 1)
