"""The set-level objective of SPEC.md on a hard selection (numpy).

F(S) = l_rel Rel + l_cov Cov - l_red Red with, for the mask m of S,
  Rel = sum_i s_i m_i
  Cov = tau_c log sum_i exp(s_i m_i / tau_c)     (unselected candidates contribute exp(0) = 1)
  Red = sum_{i != j} m_i m_j K_ij
  K_ij = exp(-(t_i - t_j)^2 / (2 gamma^2)) + l_vis exp(-(1 - c_ij) / sigma_vis)
  c_ij = min over i <= l < j of cos(e_l, e_{l+1})   (candidates in time order; c_ii = 1)

The temporal kernel is SPEC.md's. Its bandwidth gamma is either fixed (the paper: 10 candidate
steps) or tied to the budget: gamma = gamma_scale * span / k, where span / k is the spacing of k
evenly spread frames (span = N candidate steps, or the video's length in seconds), so the
penalty means "closer than a share of the spacing k frames would have" on every video, N and k.

The second term of K is an extension of SPEC.md (off when l_vis = 0, as in the paper): visual
redundancy within a shot. c_ij is the weakest link of the chain of neighbouring candidates from
i to j: close to 1 when every step between them looks alike (one continuous scene, however
long), low as soon as a cut lies between them. So two frames of one scene count as redundant
however far apart they are, while the same look coming back after something else (the screen
turns red twice) does not: a recurring event is not a duplicate. A kernel on the plain cosine
of e_i and e_j would penalise that. It needs the embeddings; without them K is the temporal
kernel only.

A fourth term, also beyond SPEC.md and off when l_det = 0: + l_det log det D_S, D the kernel
MDP3 scores sets with (``hfs.selection.mdp3``): the sum of Gaussians exp(-||e_i - e_j||^2 / 2a),
a = 2^-3 .. 2^1, on the unit embeddings. Frames that look alike shrink the determinant at every
scale, whether or not a cut lies between them. It needs the embeddings.
"""

from __future__ import annotations

import numpy as np

from hfs.config import ObjectiveConfig


DET_WIDTHS = tuple(2.0 ** p for p in range(-3, 2))  # MDP3's MultiGaussianKernel widths a
DET_FLOOR = 1e-300  # a Schur complement (or determinant) at or below this counts as this
DET_SELF = float(len(DET_WIDTHS))  # the kernel of a unit vector with itself: one exp(0) per width
DET_DEPENDENT = 1e-12  # a Schur complement below this share of the diagonal: the frame is in the chosen span


def multi_gaussian(sq_dist: np.ndarray) -> np.ndarray:
    """MDP3's kernel as a function of squared distances: sum over a of exp(-d^2 / (2a))."""
    return sum(np.exp(-np.asarray(sq_dist, dtype=np.float64) / (2.0 * a)) for a in DET_WIDTHS)


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """The rows scaled to length 1 (zero rows stay zero)."""
    e = np.asarray(embeddings, dtype=np.float64)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def det_kernel(unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    """D between unit rows: the multi-Gaussian of their squared distance 2 - 2 cos."""
    return multi_gaussian(np.maximum(2.0 - 2.0 * (unit_a @ unit_b.T), 0.0))


def det_matrix(embeddings: np.ndarray, indices: np.ndarray, config: ObjectiveConfig) -> np.ndarray:
    """D_S + det_ridge I for the candidates ``indices`` of all N (embeddings [N, D])."""
    unit = unit_rows(np.asarray(embeddings)[indices])
    return det_kernel(unit, unit) + config.det_ridge * np.eye(len(indices))


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


def neighbour_links(embeddings: np.ndarray) -> np.ndarray:
    """[N - 1] cosine of each candidate with the next one (embeddings [N, D], time order)."""
    e = np.asarray(embeddings)
    if e.dtype not in (np.float32, np.float64):
        e = e.astype(np.float64)
    # dot products and norms of the rows as they are: no normalised copy of [N, D]
    dots = np.einsum("ij,ij->i", e[:-1], e[1:]).astype(np.float64)
    norms = np.maximum(np.sqrt(np.einsum("ij,ij->i", e, e).astype(np.float64)), 1e-12)
    return dots / (norms[:-1] * norms[1:])


def chain_similarity(links: np.ndarray, j: int) -> np.ndarray:
    """[N] c_ij for every i: the weakest neighbour link between candidate i and candidate j."""
    out = np.ones(links.size + 1)
    if j > 0:  # i < j: min(links[i:j])
        out[:j] = np.minimum.accumulate(links[:j][::-1])[::-1]
    if j < links.size:  # i > j: min(links[j:i])
        out[j + 1:] = np.minimum.accumulate(links[j:])
    return out


def visual_row(links: np.ndarray, j: int, sigma: float) -> np.ndarray:
    """[N] the visual kernel exp(-(1 - c_ij) / sigma) between candidate j and every candidate."""
    return np.exp(-(1.0 - chain_similarity(links, j)) / sigma)


def pair_kernel(positions: np.ndarray, indices: np.ndarray, embeddings: np.ndarray | None,
                config: ObjectiveConfig, gamma: float) -> np.ndarray:
    """K between the candidates ``indices`` (of all N: positions [N], embeddings [N, D] or None)."""
    kk = kernel(positions[indices], positions[indices], gamma)
    if config.lambda_vis > 0 and embeddings is not None and len(positions) > 1:
        links = neighbour_links(embeddings)
        vis = np.stack([visual_row(links, int(i), config.sigma_vis)[indices] for i in indices]) if len(indices) else kk
        kk = kk + config.lambda_vis * vis
    return kk


def objective_terms(
    scores: np.ndarray, indices: np.ndarray, positions: np.ndarray, config: ObjectiveConfig,
    embeddings: np.ndarray | None = None, k: int | None = None,
) -> dict[str, float]:
    """F and its three terms for the hard selection ``indices`` of N candidates; O(N D + k N).

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
    kk = pair_kernel(positions, idx, embeddings, config, gamma)
    red = float(kk.sum() - np.trace(kk))
    f = config.lambda_rel * rel + config.lambda_cov * cov - config.lambda_red * red
    terms = {"F": f, "rel": rel, "cov": cov, "red": red}
    if config.lambda_det > 0 and embeddings is not None:
        sign, logdet = np.linalg.slogdet(det_matrix(embeddings, idx, config)) if len(idx) else (1.0, 0.0)
        det = float(logdet) if sign > 0 else float(len(idx) * np.log(DET_FLOOR))
        terms["det"] = det
        terms["F"] = f + config.lambda_det * det
    return terms
