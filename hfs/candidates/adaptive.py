"""Coarse-to-fine candidates (``-n auto``): a duration-driven grid, then refining rounds.

1. coarse: ``policy.coarse_count(duration)`` segment midpoints, decoded, embedded, scored (pass
   "coarse"), or, where ``hfs.candidates.coarse`` finds it cheap enough, a shot scan's frames (pass
   "shots": the first frame of every shot and one at least every ``policy.shot_fill_seconds``, about ``policy.coarse_min`` in all at least);
2. refine (``policy.refine_rounds`` rounds, a budget of ``policy.refine_budget``; none by default
   after a shot scan): targets from ``hfs.candidates.refine`` around the best-scoring candidates
   and in the widest gaps, decoded, embedded, and everything scored again;
3. grow (only when the passes found fewer candidates than the k asked for): exact frames in the
   widest gaps until there are k, or every frame of the video is a candidate.
Selection then chooses k among every candidate scored. Frames come from and go to a
``FrameStore``, so nothing is embedded twice across passes, N or questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hfs.cache import CachedEmbeddings
from hfs.candidates.coarse import coarse_pass, shot_candidates
from hfs.candidates.embed import embed_targets
from hfs.candidates.policy import DEFAULT_POLICY, AdaptivePolicy
from hfs.candidates.refine import refine_targets
from hfs.encoders import ImageTextEncoder
from hfs.frame_cache import FrameStore
from hfs.scoring import standardize
from hfs.video import candidate_times


@dataclass
class CandidatePasses:
    """What the passes produced: the candidates, which pass added each, and the time spent."""

    entry: CachedEmbeddings  # every candidate scored, ascending
    added_by: np.ndarray  # [N] index into ``passes`` of the pass that first scored each candidate
    passes: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "candidates"}]
    decode_seconds: float = 0.0
    encode_seconds: float = 0.0
    embedded: int = 0  # frames embedded by these passes (not taken from the store)


def fixed_candidates(source: Any, encoder: ImageTextEncoder, store: FrameStore, num_candidates: int,
                     batch_size: int = 32, decode_mode: str = "auto", progress: bool = False) -> CandidatePasses:
    """The paper's N segment midpoints (``hfs.video.candidate_times``) as one pass."""
    targets = candidate_times(source.info.duration, num_candidates)
    t_dec, t_enc, embedded, resolved = embed_targets(source, encoder, store, targets, batch_size, decode_mode,
                                                     progress)
    entry = store.candidates(resolved)
    return CandidatePasses(entry, np.zeros(len(entry.times), np.int64), [{"name": "fixed", "candidates": len(entry.times)}],
                           t_dec, t_enc, embedded)


def adaptive_candidates(source: Any, encoder: ImageTextEncoder, store: FrameStore,
                        score: Callable[[np.ndarray], np.ndarray], policy: AdaptivePolicy = DEFAULT_POLICY,
                        batch_size: int = 32, decode_mode: str = "auto", progress: bool = False,
                        min_candidates: int = 0) -> CandidatePasses:
    """Coarse grid or shot scan + refining rounds; ``score(embeddings [N, D]) -> [N]`` rates candidates for the question.

    When they give fewer than ``min_candidates`` (the k asked for), a last pass "grow" adds exact
    frames in the widest gaps, round after round, until there are that many or no gap has a
    frame left inside.
    """
    duration = source.info.duration
    if coarse_pass(source, policy) == "shots":
        t_dec, t_enc, embedded, entry = shot_candidates(source, encoder, store, policy, batch_size, progress)
        first = "shots"
    else:
        targets = candidate_times(duration, policy.coarse_count(duration))
        t_dec, t_enc, embedded, resolved = embed_targets(source, encoder, store, targets, batch_size, decode_mode,
                                                         progress)
        entry = store.candidates(resolved)
        first = "coarse"
    found = CandidatePasses(entry, np.zeros(len(entry.times), np.int64), [{"name": first, "candidates": len(entry.times)}],
                            t_dec, t_enc, embedded)
    budget = policy.refine_budget(len(entry.times), first)
    rounds = max(1, policy.refine_rounds)
    fps = float(source.info.fps or 0.0)
    min_gap = 1.0 / fps if fps > 0 else 0.0
    for r in range(rounds if budget > 0 else 0):
        count = budget // rounds + (1 if r < budget % rounds else 0)
        z = standardize(np.asarray(score(found.entry.embeddings), np.float64))
        extra = refine_targets(found.entry.times, z, duration, count, min_gap, policy.explore_share,
                               policy.promising_z)
        if len(extra) == 0:
            break
        _add_pass(found, "refine" if rounds == 1 else f"refine {r + 1}", extra, source, encoder, store, batch_size,
                  decode_mode, progress)
    grown = -1
    while grown != 0 and len(found.entry.times) < min_candidates:
        n = len(found.entry.times)
        # the widest gaps' midpoints; the first gap starts a frame before 0, so frame 0 can be had,
        # and a gap of exactly two frames (give or take rounding) has one inside
        step = min_gap or 1e-3
        extra = refine_targets(found.entry.times + step, np.zeros(n), duration + step, min_candidates - n,
                               step * (1 - 1e-3), explore_share=1.0, promising_z=np.inf) - step
        grown = _add_pass(found, "grow", extra, source, encoder, store, batch_size, decode_mode, progress) if len(
            extra) else 0
    return found


def _add_pass(found: CandidatePasses, name: str, extra: np.ndarray, source: Any, encoder: ImageTextEncoder,
              store: FrameStore, batch_size: int, decode_mode: str, progress: bool) -> int:
    """Decode and embed the exact frames nearest ``extra`` [E], add those not among ``found``'s
    candidates as pass ``name`` (a pass of that name already there grows); returns how many."""
    d, e, n, resolved = embed_targets(source, encoder, store, extra, batch_size, decode_mode, progress, tolerance=0.0)
    found.decode_seconds, found.encode_seconds, found.embedded = (found.decode_seconds + d, found.encode_seconds + e,
                                                                  found.embedded + n)
    before, new_frames = found.entry, store.candidates(resolved)
    times = np.concatenate([before.times, new_frames.times])
    order = np.argsort(times, kind="stable")  # the earlier candidates first at equal times
    times = times[order]
    keep = np.ones(len(times), bool)
    keep[1:] = np.diff(times) > 1e-6
    embeddings = np.concatenate([before.embeddings, new_frames.embeddings])[order][keep]
    found.entry = CachedEmbeddings(times=times[keep], embeddings=embeddings, info=before.info)
    new = ~np.isin(found.entry.times, before.times)
    if found.passes[-1]["name"] != name:
        found.passes.append({"name": name, "candidates": 0})
    found.added_by = np.where(new, len(found.passes) - 1, _carry(found.added_by, before.times, found.entry.times))
    found.passes[-1]["candidates"] += int(new.sum())
    return int(new.sum())


def _carry(added_by: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``added_by`` [len(before)] spread onto ``after`` (a superset of ``before``, both ascending); 0 elsewhere."""
    out = np.zeros(len(after), np.int64)
    pos = np.searchsorted(after, before)
    out[pos] = added_by
    return out
