"""MDP3: list-wise frame selection by a conditional DPP over segments (Sun et al., "MDP3: A
Training-free Approach for List-wise Frame Selection in Video-LLMs", 2025), as its authors'
code runs it.

Follows ``MDP3._select_frames_fast`` and ``seqdpp_select_super_fast`` of the authors'
``mdp3_frame_selector.py`` (github.com/sunh-23/MDP3, as vendored in
github.com/joslefaure/frames-dont-add-up at commit a44b100, ``external/MDP3/vlmeval/smp/``):
- the kernel is a sum of Gaussians, sum over a in 2^-3 .. 2^1 of exp(-||x - y||^2 / (2a)), on
  the encoder's unit vectors, between frames and between the text and each frame;
- the objective of a set S is (2 / lambda) sum_S log r_i + log det K_S, lambda = 0.2, with r_i
  the text-frame kernel;
- the candidates are cut into segments of 32 (128 when k > 32); a dynamic programme over the
  segments keeps, for every count of frames so far, the best total and its frames; each segment
  is filled greedily (largest objective first, ties to the earlier frame) conditioned on the
  last frame picked before it: that frame joins the segment's kernel and its two terms join the
  segment's score, as in the released code.

Inputs: the text-frame kernel needs the raw cosines c_i (for unit vectors ||t - v||^2 = 2 - 2c),
which a z-score loses, so MDP3 reads ``raw``; embeddings are normalised to unit length, as the
authors' SigLIP outputs are. Deviations: a last segment shorter than 32 is used as it is (the
released code indexes past the end); cosines are clipped to [-1, 1]; a Schur complement at or
below 1e-300 counts as 1e-300 (the released code takes log 0).
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.selection.base import Selector
from hfs.selection.objective import DET_FLOOR, DET_SELF, det_kernel, multi_gaussian, unit_rows


def conditioned_greedy(log_r: np.ndarray, kernel: np.ndarray, cond_rows: np.ndarray, cond_base: np.ndarray,
                       has_cond: np.ndarray, steps: int, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """One segment's greedy fill for S start states at once (the states differ in their
    conditioning frame).

    log_r [n]: log text-frame kernel of the segment's frames; kernel [n, n]: their kernel;
    cond_rows [S, n]: the kernel between each state's conditioning frame and them (ignored where
    has_cond [S] is False); cond_base [S]: that frame's own terms, weight log r_c + log K_cc.
    Each pick maximises the objective of the conditioning frame plus the picks so far, which is
    the largest weight log r_i + log of i's Schur complement (its log-det gain), kept up to date
    by incremental Cholesky rows. Returns picks [S, steps] (segment positions, in pick order) and
    scores [S, steps + 1]: that objective after m picks (0 for m = 0, as in the released code).
    """
    s_count, n = cond_rows.shape
    chol0 = np.where(has_cond[:, None], cond_rows / np.sqrt(DET_SELF), 0.0)  # [S, n]
    d2 = np.diag(kernel)[None, :] - chol0 * chol0  # [S, n] Schur complements given the condition
    rows = np.zeros((s_count, steps, n))  # Cholesky rows of the picks (zero until filled)
    taken = np.zeros((s_count, n), dtype=bool)
    picks = np.zeros((s_count, steps), dtype=np.int64)
    scores = np.zeros((s_count, steps + 1))
    total = np.where(has_cond, cond_base, 0.0)
    every = np.arange(s_count)
    for t in range(steps):
        gain = weight * log_r[None, :] + np.log(np.maximum(np.abs(d2), DET_FLOOR))
        gain[taken] = -np.inf
        j = np.argmax(gain, axis=1)  # [S], the first of equal maxima
        total = total + gain[every, j]
        picks[:, t], scores[:, t + 1] = j, total
        taken[every, j] = True
        pivot = np.sqrt(np.maximum(np.abs(d2[every, j]), DET_FLOOR))  # [S]
        proj = chol0[every, j][:, None] * chol0 + np.einsum("su,sun->sn", rows[every, :, j], rows)
        rows[:, t] = (kernel[j] - proj) / pivot[:, None]
        d2 = d2 - rows[:, t] ** 2
    return picks, scores


class MDP3Selector(Selector):
    name = "mdp3"
    uses_raw = True

    def __init__(self, objective=None, seed: int = 0, lam: float = 0.2, segment_size: int | None = None,
                 condition_size: int = 1) -> None:
        super().__init__(objective, seed)
        if lam <= 0:
            raise InputError(f"mdp3: lam must be positive, got {lam}")
        if segment_size is not None and segment_size < 1:
            raise InputError(f"mdp3: segment_size must be >= 1, got {segment_size}")
        if condition_size not in (0, 1):
            raise InputError(f"mdp3: condition_size must be 0 or 1 (the released code uses 1), got {condition_size}")
        self.lam, self.segment_size, self.condition_size = lam, segment_size, condition_size

    def _choose(self, scores, k, positions, embeddings, raw):
        if embeddings is None:
            raise InputError("mdp3 needs the frame embeddings")
        emb = unit_rows(embeddings)
        log_r = np.log(np.maximum(multi_gaussian(2.0 - 2.0 * np.clip(raw, -1.0, 1.0)), DET_FLOOR))  # [N]
        weight = 2.0 / self.lam
        size = self.segment_size or (32 if k <= 32 else 128)
        n = scores.size
        best = np.full(k + 1, -np.inf)  # best objective total per count of frames so far
        best[0] = 0.0
        traces: list[list[int]] = [[] for _ in range(k + 1)]
        for start in range(0, n, size):
            stop = min(start + size, n)
            seg = np.arange(start, stop)
            states = np.arange(min(k, start) + 1)  # counts reachable before this segment
            cond = np.array([traces[s][-1] if traces[s] and self.condition_size else -1 for s in states])
            has_cond = cond >= 0
            c_emb = emb[np.maximum(cond, 0)]
            cond_rows = det_kernel(c_emb, emb[seg])  # [S, n_seg]
            cond_base = weight * log_r[np.maximum(cond, 0)] + np.log(DET_SELF)
            steps = min(k, stop - start)
            picks, seg_scores = conditioned_greedy(log_r[seg], det_kernel(emb[seg], emb[seg]),
                                                   cond_rows, cond_base, has_cond, steps, weight)
            new_best = np.full(k + 1, -np.inf)
            new_best[0] = 0.0
            new_traces: list[list[int]] = [[] for _ in range(k + 1)]
            for s in states:
                for m in range(min(k - s, stop - start) + 1):
                    total = best[s] + seg_scores[s, m]
                    if total > new_best[s + m]:
                        new_best[s + m] = total
                        new_traces[s + m] = traces[s] + sorted((start + picks[s, :m]).tolist())
            best, traces = new_best, new_traces
        return np.array(traces[k], dtype=np.int64)
