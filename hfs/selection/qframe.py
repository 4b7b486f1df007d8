"""Q-Frame (Zhang et al., "Q-Frame: Query-aware Frame Selection and Multi-Resolution Adaptation
for Video-LLMs", ICCV 2025), its frame selection as its authors' code runs it.

Follows ``QFrameVideoSampler.text_image_matching``, the "qframe" sampler of an lmms-eval-style
``video_samplers/qframe.py`` that ships Q-Frame with its authors' defaults (two versions read
through the public code index, which did not name the repository or commit; both compute the
same ranking): the text-image similarities of
the candidate frames, divided by the temperature tau = 0.8, through a softmax; log-probabilities
plus Gumbel noise drawn afresh for every video; the frames ranked by that sum; the first k
kept. Ranking log softmax(s / tau) + g is ranking s / tau + g (the softmax only shifts every
frame by one constant), so that is what is computed. The noise is seeded: the seed and the
video's raw scores pick it, so one video gives the same frames on every run, and different
videos get different noise.

Deviations: Q-Frame also gives the ranked frames three resolutions (its "multi-resolution
adaptation"), which is outside frame selection. Its similarities are dot products of Long-CLIP's
unnormalised features; hfs passes cosine similarities (``raw``), so at tau = 0.8 the sampling is
flatter here than with the authors' encoder unless ``scale`` multiplies them back (default 1).
"""

from __future__ import annotations

import zlib

import numpy as np

from hfs.errors import InputError
from hfs.selection.base import Selector


class QFrameSelector(Selector):
    name = "qframe"
    uses_raw = True

    def __init__(self, objective=None, seed: int = 0, tau: float = 0.8, scale: float = 1.0) -> None:
        super().__init__(objective, seed)
        if tau <= 0 or scale <= 0:
            raise InputError(f"qframe: tau and scale must be positive, got tau={tau}, scale={scale}")
        self.tau, self.scale = tau, scale

    def noise(self, raw: np.ndarray) -> np.ndarray:
        """[N] Gumbel noise for this video: from the seed and the video's scores."""
        video = zlib.crc32(np.ascontiguousarray(raw, dtype=np.float64).tobytes())
        return np.random.default_rng([self.seed, video]).gumbel(size=raw.size)

    def _choose(self, scores, k, positions, embeddings, raw):
        with np.errstate(over="ignore"):
            key = self.scale * raw / self.tau + self.noise(raw)
        return np.argsort(-key, kind="stable")[:k]
