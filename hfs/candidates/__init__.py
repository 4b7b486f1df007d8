"""Which frames are candidates: the paper's fixed N, or adaptive coarse-to-fine (``-n auto``)."""

from hfs.candidates.adaptive import CandidatePasses, adaptive_candidates, fixed_candidates
from hfs.candidates.embed import embed_targets
from hfs.candidates.policy import AUTO, DEFAULT_POLICY, AdaptivePolicy, NumCandidates, check_num_candidates, is_auto
from hfs.candidates.refine import refine_targets

__all__ = [
    "AUTO", "DEFAULT_POLICY", "AdaptivePolicy", "CandidatePasses", "NumCandidates", "adaptive_candidates",
    "check_num_candidates", "embed_targets", "fixed_candidates", "is_auto", "refine_targets",
]
