"""Uniform sampling: the baseline every video LLM uses."""

from __future__ import annotations

import numpy as np

from hfs.selection.base import Selector


def uniform_indices(n: int, k: int) -> np.ndarray:
    """The candidate nearest the midpoint of each of k equal segments of 0..n-1."""
    return np.floor((np.arange(k) + 0.5) * n / k).astype(np.int64)


class UniformSelector(Selector):
    """k evenly spaced candidates; ignores the scores."""

    name = "uniform"

    def _choose(self, scores, k, positions, embeddings):
        return uniform_indices(scores.size, k)
