"""MMR: maximal marginal relevance (Carbonell & Goldstein, SIGIR 1998), the classic diversity
baseline. Each step adds argmax_i  lam * rel_i - (1 - lam) * max_{j in S} cos(e_i, e_j).

Ours: relevance is the per-video score rescaled to [0, 1] so that it is on the scale of the
cosine similarities; with lam = 1 MMR is top-k.
"""

from __future__ import annotations

import numpy as np

from hfs.errors import InputError
from hfs.selection.base import Selector
from hfs.selection.normalize import minmax


class MMRSelector(Selector):
    name = "mmr"

    def __init__(self, objective=None, seed: int = 0, lam: float = 0.7) -> None:
        super().__init__(objective, seed)
        if not 0.0 <= lam <= 1.0:
            raise InputError(f"mmr: lam must be in [0, 1], got {lam}")
        self.lam = lam

    def _choose(self, scores, k, positions, embeddings):
        if embeddings is None:
            raise InputError("mmr needs the frame embeddings")
        rel = minmax(scores)
        emb = np.asarray(embeddings, dtype=np.float64)
        max_sim = np.full(len(scores), -np.inf)  # [N] similarity to the closest chosen frame
        available = np.ones(len(scores), dtype=bool)
        chosen = []
        for step in range(k):
            penalty = np.where(np.isfinite(max_sim), max_sim, 0.0) if step else 0.0
            gain = self.lam * rel - (1.0 - self.lam) * penalty
            gain[~available] = -np.inf
            j = int(np.argmax(gain))
            chosen.append(j)
            available[j] = False
            max_sim = np.maximum(max_sim, emb @ emb[j])
        return np.array(chosen)
