"""Top-k: the k highest-scoring candidates, each judged alone."""

from __future__ import annotations

import numpy as np

from hfs.selection.base import Selector


class TopKSelector(Selector):
    """The k best scores; ties go to the earlier candidate."""

    name = "topk"

    def _choose(self, scores, k, positions, embeddings):
        return np.argsort(-scores, kind="stable")[:k]
