"""Which frames are candidates: the paper's fixed N, or adaptive coarse-to-fine (``-n auto``).

Names load on first use (``hfs.lazy``): configs and the CLI parser read ``hfs.candidates.policy``
without importing the encoders and torch that the passes need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfs.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    **dict.fromkeys(("CandidatePasses", "adaptive_candidates", "fixed_candidates"), ".adaptive"),
    "embed_targets": ".embed",
    **dict.fromkeys(("AUTO", "DEFAULT_POLICY", "AdaptivePolicy", "NumCandidates", "check_num_candidates", "is_auto"),
                    ".policy"),
    "refine_targets": ".refine",
})

if TYPE_CHECKING:
    from hfs.candidates.adaptive import CandidatePasses, adaptive_candidates, fixed_candidates
    from hfs.candidates.embed import embed_targets
    from hfs.candidates.policy import (AUTO, DEFAULT_POLICY, AdaptivePolicy, NumCandidates, check_num_candidates,
                                       is_auto)
    from hfs.candidates.refine import refine_targets

__all__ = [
    "AUTO", "DEFAULT_POLICY", "AdaptivePolicy", "CandidatePasses", "NumCandidates", "adaptive_candidates",
    "check_num_candidates", "embed_targets", "fixed_candidates", "is_auto", "refine_targets",
]
