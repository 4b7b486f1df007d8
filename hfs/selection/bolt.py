"""BOLT: inverse transform sampling over the score distribution (Liu et al., "BOLT: Boost
Large VLMs without Training for Long-form Video Understanding", CVPR 2025).

The scores define a density over the candidates, sharpened by ``sharpness``; the k frames sit at
the k quantile midpoints (i + 0.5) / k of its CDF, so stretches of high relevance get many frames
and the rest of the video still gets some. sharpness = 0 is uniform sampling. Ours: the density
is exp(sharpness * z) on per-video standardised scores z (scale-free, never zero, so low-scoring
stretches keep a share); quantiles are deterministic (no random offset); a quantile that lands
on an already chosen frame takes the best-scoring free frame instead.
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.scoring import standardize
from hfs.selection.base import Selector
from hfs.selection.normalize import fill_distinct


class BoltSelector(Selector):
    name = "bolt"

    def __init__(self, objective=None, seed: int = 0, sharpness: float = 1.0) -> None:
        super().__init__(objective, seed)
        if sharpness < 0:
            raise InputError(f"bolt: sharpness must be >= 0, got {sharpness}")
        self.sharpness = sharpness

    def _choose(self, scores, k, positions, embeddings):
        z = standardize(scores)
        density = np.exp(self.sharpness * (z - z.max()))  # [N], max 1
        cdf = np.cumsum(density) / density.sum()
        quantiles = (np.arange(k) + 0.5) / k
        # the candidate whose CDF step [cdf_{i-1}, cdf_i) holds each quantile; the tolerance keeps
        # a quantile that falls exactly on a step (up to rounding) in the later step
        picks = np.searchsorted(cdf - 1e-9, quantiles, side="right")
        return fill_distinct(np.minimum(picks, scores.size - 1).tolist(), np.argsort(-scores, kind="stable"), k)
