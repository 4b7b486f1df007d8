"""MDP3: list-wise selection with a determinantal point process (Sun et al., "MDP3: A
Training-free Approach for List-wise Frame Selection in Video-LLMs", 2025).

The kernel is query-conditioned: L_ij = q_i q_j <e_i, e_j> with q_i = exp(theta z_i), so
log det L_S = 2 theta sum_S z_i + log det of the frames' similarity Gram matrix: relevant and
mutually dissimilar sets score high. The video is cut into segments of ``segment_len``
candidates; in each, the greedy DPP MAP (Chen et al., NeurIPS 2018) gives a nested list of picks
and the log-det gain of each; a dynamic programme then splits k over the segments to maximise
the summed gains (the paper's Markov decision process over segments). Ours: the segments'
kernels are independent (the paper conditions each segment on the previous selection), the
kernel is the cosine Gram of the given embeddings plus ``ridge`` on the diagonal, and a frame
whose embedding duplicates a chosen one is only taken when nothing distinct is left.
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.scoring import standardize
from hfs.selection.base import Selector

_DUPLICATE_COS = 1.0 - 1e-6


def _unit(embeddings: np.ndarray) -> np.ndarray:
    emb = np.asarray(embeddings, dtype=np.float64)
    norm = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.maximum(norm, 1e-12)


def greedy_dpp(quality: np.ndarray, emb: np.ndarray, steps: int, ridge: float) -> tuple[list[int], np.ndarray]:
    """Greedy MAP of the DPP L = diag(q) E E^T diag(q) + ridge I: picks in order and their log gains.

    Chen et al.'s incremental Cholesky, O(n steps^2) after the O(n d) features. Picks that would
    duplicate a chosen embedding are deferred until no distinct candidate remains.
    """
    n = quality.size
    feats = quality[:, None] * emb  # [n, d]  L = feats feats^T + ridge I
    d2 = quality * quality + ridge  # [n] current marginal gains (Schur complements)
    chol = np.zeros((steps, n))  # rows of the incremental Cholesky factor
    max_cos = np.full(n, -np.inf)  # [n] cosine to the closest chosen frame
    available = np.ones(n, dtype=bool)
    picks, gains = [], []
    for step in range(steps):
        fresh = available & (max_cos < _DUPLICATE_COS)
        pool = fresh if fresh.any() else available
        j = int(np.argmax(np.where(pool, d2, -np.inf)))
        gain = max(float(d2[j]), 1e-300)
        picks.append(j)
        gains.append(np.log(gain))
        available[j] = False
        row = feats @ feats[j]
        row[j] += ridge
        e = (row - chol[:step].T @ chol[:step, j]) / np.sqrt(gain)  # [n]
        chol[step] = e
        d2 = np.maximum(d2 - e * e, 0.0)
        max_cos = np.maximum(max_cos, emb @ emb[j])
    return picks, np.array(gains)


def allocate(curves: list[np.ndarray], k: int) -> list[int]:
    """How many picks each segment gets: maximise sum_s curve_s[m_s] subject to sum m_s = k.

    ``curves[s][m]`` is segment s's cumulative gain of its first m picks (curve[0] = 0).
    """
    best = np.full(k + 1, -np.inf)  # [k+1] best total using the segments so far
    best[0] = 0.0
    choice = []
    for curve in curves:
        new = np.full(k + 1, -np.inf)
        arg = np.zeros(k + 1, dtype=np.int64)
        for m in range(min(len(curve) - 1, k) + 1):
            cand = np.full(k + 1, -np.inf)
            cand[m:] = best[: k + 1 - m] + curve[m]
            better = cand > new
            new[better], arg[better] = cand[better], m
        best = new
        choice.append(arg)
    counts, left = [], k
    for arg in reversed(choice):
        counts.append(int(arg[left]))
        left -= counts[-1]
    return counts[::-1]


class MDP3Selector(Selector):
    name = "mdp3"

    def __init__(self, objective=None, seed: int = 0, segment_len: int = 32, theta: float = 0.5,
                 ridge: float = 1e-3) -> None:
        super().__init__(objective, seed)
        if segment_len < 1:
            raise InputError(f"mdp3: segment_len must be >= 1, got {segment_len}")
        if ridge <= 0:
            raise InputError(f"mdp3: ridge must be positive, got {ridge}")
        self.segment_len, self.theta, self.ridge = segment_len, theta, ridge

    def _choose(self, scores, k, positions, embeddings):
        if embeddings is None:
            raise InputError("mdp3 needs the frame embeddings")
        emb = _unit(embeddings)
        quality = np.exp(self.theta * standardize(scores))
        starts = range(0, scores.size, self.segment_len)
        picks, curves = [], []
        for start in starts:
            stop = min(start + self.segment_len, scores.size)
            seg_picks, gains = greedy_dpp(quality[start:stop], emb[start:stop], min(k, stop - start), self.ridge)
            picks.append([start + p for p in seg_picks])
            curves.append(np.concatenate([[0.0], np.cumsum(gains)]))
        counts = allocate(curves, k)
        chosen = [i for seg, m in zip(picks, counts) for i in seg[:m]]
        return _replace_duplicates(chosen, emb, scores, self.segment_len)


def _replace_duplicates(chosen: list[int], emb: np.ndarray, scores: np.ndarray, segment_len: int) -> np.ndarray:
    """Swap a pick that duplicates an earlier one (segments are chosen independently) for the
    best-scoring frame distinct from everything kept, from its own segment if it has one."""
    max_cos = np.full(scores.size, -np.inf)  # [N] cosine to the closest kept frame
    taken = np.zeros(scores.size, dtype=bool)
    kept = []
    for i in chosen:
        if max_cos[i] >= _DUPLICATE_COS:
            fresh = ~taken & (max_cos < _DUPLICATE_COS)
            start = i - i % segment_len
            local = fresh.copy()
            local[:start] = False
            local[start + segment_len:] = False
            pool = local if local.any() else fresh
            if pool.any():
                i = int(np.argmax(np.where(pool, scores, -np.inf)))
            else:
                i = int(np.argmax(np.where(~taken, scores, -np.inf)))
        kept.append(i)
        taken[i] = True
        max_cos = np.maximum(max_cos, emb @ emb[i])
    return np.array(kept, dtype=np.int64)
