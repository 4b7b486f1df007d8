"""Q-Frame-style sampling (Zhang et al., "Q-Frame: Query-aware Frame Selection and
Multi-Resolution Adaptation for Video-LLMs", 2025): k frames drawn without replacement from
softmax(s / tau) by the Gumbel-max trick (top-k of s / tau + Gumbel noise).

Ours: frame selection only (Q-Frame also varies the resolution per frame); seeded, so the
same seed gives the same frames.
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.selection.base import Selector


class QFrameSelector(Selector):
    name = "qframe"

    def __init__(self, objective=None, seed: int = 0, tau: float = 0.5) -> None:
        super().__init__(objective, seed)
        if tau <= 0:
            raise InputError(f"qframe: tau must be positive, got {tau}")
        self.tau = tau

    def _choose(self, scores, k, positions, embeddings):
        gumbel = np.random.default_rng(self.seed).gumbel(size=len(scores))
        return np.argsort(-(scores / self.tau + gumbel), kind="stable")[:k]
