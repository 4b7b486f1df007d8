"""Short videos: ``-n auto`` candidates whose decoding costs at most a few times uniform sampling's.

For a video file up to ``policy.short_seconds`` long, the candidates are planned under a decoding
budget of ``policy.short_cost_factor`` times the cost of uniform sampling's ``UNIFORM_FRAMES``
frames, both by the same model (``hfs.video.cost.targets_seconds``, from the keyframe index
alone, which MP4 files hold), so the ratio holds on any machine:

1. the coarse grid (``policy.coarse_count``) when it fits;
2. else the largest grid that fits (at least uniform's own frames). Its targets take the nearest
   keyframe within half their spacing (keyframe decoding), so where keyframes are dense the
   candidates are keyframes, the frames a decoder reaches cheapest; the model counts the rest as
   exact frames. (Every keyframe as a candidate was tried too: on the videos of
   ``benchmarks/bench_decode.py --short`` they either did not fit or were fewer than that grid.)

The coarse grid may spend all but ``policy.short_refine_share`` of the budget; the refining rounds
get what is left, in exact frames (and at most ``policy.refine_budget``);
the shot scan is taken only when it fits. Longer videos keep the recall-first policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfs.candidates.policy import AdaptivePolicy
from hfs.video import FileVideo, candidate_times
from hfs.video.cost import exact_seconds, targets_seconds
from hfs.video.keyframes import default_tolerance

UNIFORM_FRAMES = 16  # the baseline: uniform sampling at the default k


@dataclass(frozen=True)
class ShortPlan:
    """The coarse candidates of a short video and what the model says they cost."""

    targets: np.ndarray  # [N] video seconds, ascending: a grid of segment midpoints
    budget: float  # model seconds for every frame decoded: coarse and refining
    spent: float  # model seconds of ``targets``
    exact: float  # model seconds of one refining (exact) frame

    def refine_cap(self) -> int:
        """Refining frames the rest of the budget pays for."""
        return max(0, int((self.budget - self.spent) // self.exact))


class _Costs:
    """``targets_seconds`` for one video, its keyframes and metadata read once."""

    def __init__(self, video: FileVideo) -> None:
        info = video.info
        self.fps = info.fps or 25.0
        self.frames = int(info.num_frames or round(info.duration * self.fps))
        self.keys = video.keyframes.times - video.start  # video seconds
        self.gop_frames = video.keyframes.interval(info.duration) * self.fps
        self.video = video

    def __call__(self, targets: np.ndarray) -> float:
        info = self.video.info
        return targets_seconds(targets, self.keys, default_tolerance(targets), self.frames, info.width, info.height,
                               self.gop_frames, self.video.has_b_frames)

    def exact(self) -> float:
        info = self.video.info
        return exact_seconds(info.width, info.height, self.gop_frames, self.frames, self.video.has_b_frames)


def short_plan(source: Any, policy: AdaptivePolicy) -> ShortPlan | None:
    """The plan for ``source`` (rules: module docstring), or None for a long video, an image folder
    or a policy without a budget (``short_cost_factor`` 0)."""
    if not isinstance(source, FileVideo) or policy.short_cost_factor <= 0:
        return None
    duration = source.info.duration
    if duration > policy.short_seconds:
        return None
    cost = _Costs(source)
    budget = policy.short_cost_factor * cost(candidate_times(duration, UNIFORM_FRAMES))
    coarse_budget = (1.0 - policy.short_refine_share) * budget
    grid = candidate_times(duration, policy.coarse_count(duration))
    spent = cost(grid)
    if spent <= coarse_budget:
        return ShortPlan(grid, budget, spent, cost.exact())
    low, high = min(UNIFORM_FRAMES, len(grid)), len(grid) - 1  # the largest grid that fits (uniform's fits)
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if cost(candidate_times(duration, mid)) <= coarse_budget else (low, mid - 1)
    grid = candidate_times(duration, low)
    return ShortPlan(grid, budget, cost(grid), cost.exact())
