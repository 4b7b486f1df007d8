"""The set-level objective of SPEC.md on a hard selection (numpy).

F(S) = l_rel Rel + l_cov Cov - l_red Red with, for the mask m of S,
  Rel = sum_i s_i m_i
  Cov = tau_c log sum_i exp(s_i m_i / tau_c)     (unselected candidates contribute exp(0) = 1)
  Red = sum_{i != j} m_i m_j K_ij
  K_ij = exp(-(t_i - t_j)^2 / (2 gamma^2)) + l_vis exp(-(1 - cos(e_i, e_j)) / sigma_vis)

The temporal kernel is SPEC.md's. Its bandwidth gamma is either fixed (the paper: 10 candidate
steps) or tied to the budget: gamma = gamma_scale * span / k, where span / k is the spacing of k
evenly spread frames (span = N candidate steps, or the video's length in seconds), so the
penalty means "closer than a share of the spacing k frames would have" on every video, N and k.

The second term of K is an extension of SPEC.md (off when l_vis = 0, as in the paper): a
kernel on the frames' embedding similarity, so two frames of one scene count as redundant
however far apart they are, and two frames that look different do not count as redundant by
look alone. It needs the embeddings; without them K is the temporal kernel only.
"""

from __future__ import annotations

import numpy as np

from hfs.config import ObjectiveConfig


def positions_for(num: int, times: np.ndarray | None, config: ObjectiveConfig) -> np.ndarray:
    """t_i: the candidate index (default) or its time in seconds."""
    if config.positions == "seconds":
        if times is None:
            raise ValueError("positions='seconds' needs the candidates' times")
        return np.asarray(times, dtype=np.float64)
    return np.arange(num, dtype=np.float64)


def candidate_span(positions: np.ndarray) -> float:
    """The length the N candidates stand for: N steps for indices 0..N-1, the video's length for
    segment-midpoint times (max - min stretched by N / (N - 1))."""
    p = np.asarray(positions, dtype=np.float64)
    n = p.size
    if n < 2:
        return 1.0
    span = float(p.max() - p.min()) * n / (n - 1)
    return span if span > 0 else float(n)


def bandwidth(config: ObjectiveConfig, positions: np.ndarray, k: int) -> float:
    """gamma: fixed (``config.gamma``) or ``gamma_scale`` times the spacing of k frames."""
    if config.gamma is not None:
        return float(config.gamma)
    return config.gamma_scale * candidate_span(positions) / max(int(k), 1)


def kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """Gaussian temporal kernel between position vectors, [len(a), len(b)]."""
    d = np.asarray(a, np.float64)[:, None] - np.asarray(b, np.float64)[None, :]
    return np.exp(-(d * d) / (2.0 * gamma * gamma))


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings scaled to unit length, float64 [N, D]."""
    e = np.asarray(embeddings, dtype=np.float64)
    return e / np.maximum(np.linalg.norm(e, axis=-1, keepdims=True), 1e-12)


def visual_kernel(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    """exp(-(1 - cos) / sigma) between unit embedding rows, [len(a), len(b)]; 1 for equal looks."""
    return np.exp(-(1.0 - a @ b.T) / sigma)


def pair_kernel(positions: np.ndarray, embeddings: np.ndarray | None, config: ObjectiveConfig,
                gamma: float) -> np.ndarray:
    """K between the given candidates (positions [M], unit embeddings [M, D] or None), [M, M]."""
    kk = kernel(positions, positions, gamma)
    if config.lambda_vis > 0 and embeddings is not None:
        e = unit_rows(embeddings)
        kk = kk + config.lambda_vis * visual_kernel(e, e, config.sigma_vis)
    return kk


def objective_terms(
    scores: np.ndarray, indices: np.ndarray, positions: np.ndarray, config: ObjectiveConfig,
    embeddings: np.ndarray | None = None, k: int | None = None,
) -> dict[str, float]:
    """F and its three terms for the hard selection ``indices``; O(N + k^2 D).

    ``k`` sets a budget-tied bandwidth (default: the size of the selection).
    """
    s = np.asarray(scores, dtype=np.float64)
    idx = np.asarray(indices, dtype=np.int64)
    sel = s[idx]
    rel = float(sel.sum())
    a = sel / config.tau_c
    # log(sum over unselected of exp(0) + sum over selected of exp(a)), computed stably
    logs = np.concatenate([a, [np.log(len(s) - len(idx))] if len(s) > len(idx) else []])
    cov = float(config.tau_c * np.logaddexp.reduce(logs))
    gamma = bandwidth(config, positions, k if k is not None else len(idx))
    kk = pair_kernel(positions[idx], None if embeddings is None else np.asarray(embeddings)[idx], config, gamma)
    red = float(kk.sum() - np.trace(kk))
    f = config.lambda_rel * rel + config.lambda_cov * cov - config.lambda_red * red
    return {"F": f, "rel": rel, "cov": cov, "red": red}
