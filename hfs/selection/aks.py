"""AKS: Adaptive Keyframe Sampling (Tang et al., "Adaptive Keyframe Sampling for Long Video
Understanding", CVPR 2025), the judge-and-split recursion.

A segment with budget m is judged: if its m best scores stand out from the segment's mean by at
least ``threshold`` (relevance is concentrated), it keeps its top m; otherwise it is split in two
halves with budgets floor(m/2) and ceil(m/2) (coverage), down to ``max_depth`` levels, where
the top m are taken. Ours: scores are standardised per video first, so ``threshold`` is in
standard deviations and does not depend on the scorer's scale; an odd budget's extra frame goes
to the half holding the better frame, and a budget of one takes the segment's best frame (one
frame cannot cover two halves).
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.scoring import standardize
from hfs.selection.base import Selector


class AKSSelector(Selector):
    name = "aks"

    def __init__(self, objective=None, seed: int = 0, threshold: float = 0.8, max_depth: int = 5) -> None:
        super().__init__(objective, seed)
        if max_depth < 0:
            raise InputError(f"aks: max_depth must be >= 0, got {max_depth}")
        self.threshold = threshold
        self.max_depth = max_depth

    def _choose(self, scores, k, positions, embeddings):
        z = standardize(scores)
        chosen: list[int] = []
        # iterative depth-first walk over (start, end, budget, depth) segments
        stack = [(0, z.size, k, 0)]
        while stack:
            start, end, budget, depth = stack.pop()
            if budget == 0:
                continue
            seg = z[start:end]
            if budget >= seg.size:
                chosen.extend(range(start, end))
                continue
            order = np.argsort(-seg, kind="stable")
            distinct = seg[order[:budget]].mean() - seg.mean() >= self.threshold
            if distinct or depth >= self.max_depth or budget == 1:
                chosen.extend((start + order[:budget]).tolist())
                continue
            mid = start + seg.size // 2
            small, large = budget // 2, budget - budget // 2
            left_better = z[start:mid].max() >= z[mid:end].max()
            left, right = (large, small) if left_better and mid - start >= large else (small, large)
            stack.append((mid, end, right, depth + 1))
            stack.append((start, mid, left, depth + 1))
        return np.array(chosen, dtype=np.int64)
