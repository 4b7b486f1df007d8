"""How many candidates a video gets: the paper's fixed N, or the adaptive policy (``"auto"``).

The adaptive policy follows the video's length. A coarse grid of segment midpoints at
``coarse_per_second`` candidates per second of video, never fewer than ``coarse_min`` (so a
short video gets at least the paper's 128) nor more than ``coarse_max``; then a refining budget
of ``refine_fraction`` times the coarse count, spent over ``refine_rounds`` rounds around the
best-scoring candidates and in the widest gaps (``hfs.candidates.refine``).

The first pass (``coarse``) is that grid, or a shot scan (``hfs.video.shots``: one forward pass
over the reference frames keeping the first frame of every shot, and a frame at least every
``shot_fill_seconds`` within long shots, more often where the video would otherwise get fewer
than ``coarse_min`` (about ``coarse_min`` then, as the grid), and at most ``coarse_max``); ``"auto"`` takes the scan when
``hfs.video.cost`` rates it cheap enough against decoding the grid (long low-resolution videos),
else the grid (e.g. 720p, where decoding every reference frame costs far more than a grid of
keyframes). The refining budget is then ``refine_fraction`` of the grid's candidates, or
``shot_refine_fraction`` of the scan's: the scan already gives every shot a candidate, and on
the tuning seeds refining after it (10% or 25%) added a third to the time and no recall, since
an exact frame costs a seek, about 30 scanned frames at 64x64.

A video up to ``short_seconds`` long gets its candidates under a decoding budget instead:
``short_cost_factor`` times uniform sampling's 16 frames by ``hfs.video.cost``'s model (the grid,
the keyframes or a smaller grid, then what is left for refining; ``hfs.candidates.budget``).

The constants were tuned on the long-video benchmark's tuning seeds 0-2
(benchmarks/bench_long_video.py) and are reported on its seeds 100-104.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Union

from hfs.errors import InputError

AUTO = "auto"
COARSE_PASSES = ("auto", "grid", "shots")
NumCandidates = Union[int, str]  # a positive int, or "auto"


@dataclass(frozen=True)
class AdaptivePolicy:
    """The constants of ``-n auto`` (see the module docstring)."""

    coarse_per_second: float = 0.1
    coarse_min: int = 128
    coarse_max: int = 1024
    refine_fraction: float = 0.25
    refine_rounds: int = 1
    explore_share: float = 0.5  # of each round: the widest gaps; the rest around the best scores
    promising_z: float = 1.0  # a gap is promising when a neighbour's z-score is at least this
    coarse: str = "auto"  # the first pass: "grid", "shots" (files only) or "auto" (the cheaper, hfs.video.cost)
    shot_fill_seconds: float = 30.0  # in the shot scan, a kept frame at least this often within a shot
    shot_refine_fraction: float = 0.0  # the refining budget after a shot scan (of its candidates)
    # videos up to this long get candidates decoding in at most short_cost_factor x uniform-16's
    # (hfs.candidates.budget; 0: no budget)
    short_seconds: float = 900.0
    short_cost_factor: float = 3.5
    short_refine_share: float = 0.0  # of that budget kept for the refining rounds

    def __post_init__(self) -> None:
        if self.coarse not in COARSE_PASSES:
            raise InputError(f"AdaptivePolicy.coarse: must be one of {', '.join(COARSE_PASSES)}, got {self.coarse!r}")
        for name, low_open, high in (("shot_fill_seconds", True, math.inf), ("shot_refine_fraction", False, math.inf),
                                     ("short_seconds", False, math.inf), ("short_cost_factor", False, math.inf),
                                     ("short_refine_share", False, 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                    (0 < value if low_open else 0 <= value) and value < high):
                bound = "finite number" if high == math.inf else f"number below {high:g} and"
                raise InputError(f"AdaptivePolicy.{name}: must be a {bound} {'>' if low_open else '>='} 0, "
                                 f"got {value!r}")

    def coarse_count(self, duration: float) -> int:
        """Candidates of the coarse grid for a video of ``duration`` seconds."""
        return int(min(self.coarse_max, max(self.coarse_min, math.ceil(duration * self.coarse_per_second))))

    def refine_budget(self, coarse: int, first_pass: str = "coarse") -> int:
        """Extra candidates the refining rounds may add after ``coarse`` candidates of the first
        pass (``"coarse"``: the grid, or ``"shots"``)."""
        fraction = self.shot_refine_fraction if first_pass == "shots" else self.refine_fraction
        return int(round(coarse * fraction))


DEFAULT_POLICY = AdaptivePolicy()


def check_num_candidates(value: object, what: str, maximum: int) -> NumCandidates:
    """``value`` as a number of candidates (1 to ``maximum``) or "auto"; else one InputError naming ``what``."""
    if isinstance(value, str):
        if value.strip().lower() == AUTO:
            return AUTO
        try:
            value = int(value)
        except ValueError:
            raise InputError(f"{what}: expected a positive integer or 'auto', got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{what}: expected a positive integer or 'auto', got {value!r}")
    if not 1 <= int(value) <= maximum:
        raise InputError(f"{what}: must be between 1 and {maximum} or 'auto', got {value}")
    return int(value)


def is_auto(value: NumCandidates) -> bool:
    """Whether ``value`` asks for the adaptive candidates."""
    return isinstance(value, str) and value == AUTO
