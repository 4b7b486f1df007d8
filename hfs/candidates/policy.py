"""How many candidates a video gets: the paper's fixed N, or the adaptive policy (``"auto"``).

The adaptive policy follows the video's length. A coarse grid of segment midpoints at
``coarse_per_second`` candidates per second of video, never fewer than ``coarse_min`` (so a
short video gets at least the paper's 128) nor more than ``coarse_max``; then a refining budget
of ``refine_fraction`` times the coarse count, spent over ``refine_rounds`` rounds around the
best-scoring candidates and in the widest gaps (``hfs.candidates.refine``). The constants were
tuned on the long-video benchmark's tuning seeds 0-2 (benchmarks/bench_long_video.py) and are
reported on its seeds 100-104.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Union

from hfs.errors import InputError

AUTO = "auto"
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

    def coarse_count(self, duration: float) -> int:
        """Candidates of the coarse grid for a video of ``duration`` seconds."""
        return int(min(self.coarse_max, max(self.coarse_min, math.ceil(duration * self.coarse_per_second))))

    def refine_budget(self, coarse: int) -> int:
        """Extra candidates the refining rounds may add after ``coarse`` coarse ones."""
        return int(round(coarse * self.refine_fraction))


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
