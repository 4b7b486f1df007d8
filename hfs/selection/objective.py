"""The set-level objective of SPEC.md on a hard selection (numpy).

F(S) = l_rel Rel + l_cov Cov - l_red Red with, for the mask m of S,
  Rel = sum_i s_i m_i
  Cov = tau_c log sum_i exp(s_i m_i / tau_c)     (unselected candidates contribute exp(0) = 1)
  Red = sum_{i != j} m_i m_j K(t_i, t_j),  K(a, b) = exp(-(a - b)^2 / (2 gamma^2))
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


def kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """Gaussian temporal kernel between position vectors, [len(a), len(b)]."""
    d = np.asarray(a, np.float64)[:, None] - np.asarray(b, np.float64)[None, :]
    return np.exp(-(d * d) / (2.0 * gamma * gamma))


def objective_terms(
    scores: np.ndarray, indices: np.ndarray, positions: np.ndarray, config: ObjectiveConfig
) -> dict[str, float]:
    """F and its three terms for the hard selection ``indices``; O(N + k^2)."""
    s = np.asarray(scores, dtype=np.float64)
    idx = np.asarray(indices, dtype=np.int64)
    sel = s[idx]
    rel = float(sel.sum())
    a = sel / config.tau_c
    # log(sum over unselected of exp(0) + sum over selected of exp(a)), computed stably
    logs = np.concatenate([a, [np.log(len(s) - len(idx))] if len(s) > len(idx) else []])
    cov = float(config.tau_c * np.logaddexp.reduce(logs))
    kk = kernel(positions[idx], positions[idx], config.gamma)
    red = float(kk.sum() - np.trace(kk))
    f = config.lambda_rel * rel + config.lambda_cov * cov - config.lambda_red * red
    return {"F": f, "rel": rel, "cov": cov, "red": red}
