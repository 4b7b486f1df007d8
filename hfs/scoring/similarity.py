"""Training-free scores: cosine similarity, standardised per video."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hfs.query import query_text

if TYPE_CHECKING:
    from hfs.encoders import ImageTextEncoder


def cosine_scores(frame_embeddings: np.ndarray, query: np.ndarray) -> np.ndarray:
    """[N, D] unit frame vectors x [D] unit query -> [N] cosine similarities."""
    return np.asarray(frame_embeddings, np.float64) @ np.asarray(query, np.float64)


def standardize(scores: np.ndarray) -> np.ndarray:
    """z-scores over one video's candidates (the last axis: [N], or [Q, N] for Q videos at once),
    so the objective's lambdas mean the same thing on every video and model (SPEC.md). A
    constant score vector becomes all zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[-1:] == (0,):
        return scores.copy()
    scale = np.abs(scores).max(axis=-1, keepdims=True)
    # z-scores do not depend on scale, and near the float limit std would overflow
    scores = scores / np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    std = scores.std(axis=-1, keepdims=True)
    flat = ~np.isfinite(std) | (std < 1e-12)
    return np.where(flat, 0.0, (scores - scores.mean(axis=-1, keepdims=True)) / np.where(flat, 1.0, std))


def query_scores(encoder: ImageTextEncoder, frame_embeddings: np.ndarray, question: str,
                 options: Sequence[str] | None = None) -> np.ndarray:
    """[N] cosine scores of the frames against the question (+ options) as the encoder reads it."""
    return cosine_scores(frame_embeddings, encoder.encode_text(query_text(question, options)))
