"""AKS: Adaptive Keyframe Sampling (Tang et al., "Adaptive Keyframe Sampling for Long Video
Understanding", CVPR 2025), as its authors' code runs it.

Follows ``frame_select.py`` of github.com/ncTimTang/AKS (commit 46675011), functions ``meanstd``
and ``main``, with its defaults t1 = 0.8, t2 = -100, all_depth = 5:
- the scores are min-max normalised over the whole video;
- a segment is judged with n = the whole budget k at every depth: it is kept when the mean of
  its n best scores minus the segment's mean exceeds t1 (and its std exceeds t2, which always
  holds at -100); otherwise, above ``max_depth``, it is split at len // 2 into two halves;
- every kept segment (and every leaf at ``max_depth``) gives its int(k / 2^depth) best frames,
  ties to the earlier frame (``heapq.nlargest``).
So it can return fewer than k frames: a leaf's share rounds down.

Deviations, each the smallest that lets it run here:
- depth: the released all_depth = 5 gives every leaf int(k / 32) = 0 frames for k < 32 (no
  frames at all when nothing is kept, as on most videos); the depth is min(5, floor(log2 k)), so
  each leaf keeps at least one frame. For k >= 32 it is the released 5.
- a constant score vector (min = max) normalises to all ones here; the released code divides by
  zero.
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.selection.base import Selector
from hfs.selection.normalize import minmax


def aks_depth(k: int, max_depth: int) -> int:
    """The split depth: the released ``all_depth``, capped at floor(log2 k) so leaves keep a frame."""
    return min(max_depth, int(np.floor(np.log2(max(k, 1)))))


def judge_and_split(scores: np.ndarray, k: int, t1: float, t2: float, depth_limit: int) -> list[tuple[int, int, int]]:
    """The kept segments as (start, stop, depth), in the released code's judging order."""
    kept: list[tuple[int, int, int]] = []
    level = [(0, scores.size, 0)]
    while level:
        split = []
        for start, stop, depth in level:
            seg = scores[start:stop]
            top = np.sort(seg)[::-1][:k]
            if top.mean() - seg.mean() > t1 and seg.std() > t2:
                kept.append((start, stop, depth))
            elif depth < depth_limit:
                mid = start + seg.size // 2
                split += [(start, mid, depth + 1), (mid, stop, depth + 1)]
            else:
                kept.append((start, stop, depth))
        level = split
    return kept


class AKSSelector(Selector):
    name = "aks"
    exact_k = False

    def __init__(self, objective=None, seed: int = 0, t1: float = 0.8, t2: float = -100.0, max_depth: int = 5) -> None:
        super().__init__(objective, seed)
        if max_depth < 0:
            raise InputError(f"aks: max_depth must be >= 0, got {max_depth}")
        self.t1, self.t2, self.max_depth = t1, t2, max_depth

    def _choose(self, scores, k, positions, embeddings):
        norm = minmax(scores)
        chosen: list[int] = []
        for start, stop, depth in judge_and_split(norm, k, self.t1, self.t2, aks_depth(k, self.max_depth)):
            share = int(k / 2 ** depth)
            order = np.argsort(-norm[start:stop], kind="stable")[:share]
            chosen.extend((start + order).tolist())
        return np.array(chosen, dtype=np.int64)
