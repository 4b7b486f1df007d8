"""Greedy maximisation of the set-level objective F (relevance + coverage - redundancy).

Start empty; k times add the candidate with the largest marginal gain of F. Gains are kept
up to date incrementally, O(N) per step and O(N k) in all (plus O(N D) once for the visual
kernel's neighbour links):
  Rel gain  = s_j
  Cov gain  = tau_c [log(Z - 1 + exp(s_j / tau_c)) - log Z],  Z = sum_i exp(s_i m_i / tau_c)
  Red gain  = 2 sum_{i in S} K_ij     (both ordered pairs (i, j) and (j, i))
  Det gain  = log d_j, d_j the Schur complement of D_jj given S (incremental Cholesky, O(N) per
              pick and step), when l_det > 0
with K = K_time + l_vis K_vis and the bandwidth of K_time from the budget k
(``hfs.selection.objective``).
"""

from __future__ import annotations

import numpy as np

from hfs.selection.base import Selector
from hfs.selection.objective import (DET_DEPENDENT, DET_SELF, bandwidth, det_kernel, kernel, neighbour_links, unit_rows,
                                     visual_row)


class GreedySelector(Selector):
    """The default: the set that best trades relevance against coverage and redundancy."""

    name = "greedy"

    def _choose(self, scores, k, positions, embeddings):
        cfg = self.objective
        n = scores.size
        gamma = bandwidth(cfg, positions, k)
        visual = cfg.lambda_vis > 0 and embeddings is not None and n > 1
        links = neighbour_links(embeddings) if visual else None
        det = cfg.lambda_det > 0 and embeddings is not None
        a = scores / cfg.tau_c  # [N]
        log_z = np.log(n)  # empty set: every term is exp(0)
        red_acc = np.zeros(n)  # [N] sum over chosen i of K_ij
        available = np.ones(n, dtype=bool)
        chosen = []
        if det:
            unit = unit_rows(embeddings)
            schur = np.full(n, DET_SELF + cfg.det_ridge)  # [N] d_j given the chosen set
            # below this, d_j is rounding noise: j lies in the chosen frames' span, and every such
            # j gains the same (F's log det is then the floor whichever of them is added)
            dependent = DET_DEPENDENT * (DET_SELF + cfg.det_ridge)
            rows: list[np.ndarray] = []  # Cholesky rows of the chosen frames over all N
        for _ in range(k):
            shift = max(log_z, a.max())
            z_new = np.exp(log_z - shift) - np.exp(-shift) + np.exp(a - shift)
            cov_gain = cfg.tau_c * (np.log(np.maximum(z_new, 1e-300)) + shift - log_z)
            gain = cfg.lambda_rel * scores + cfg.lambda_cov * cov_gain - cfg.lambda_red * 2.0 * red_acc
            if det:
                gain = gain + cfg.lambda_det * np.log(np.maximum(schur, dependent))
            gain[~available] = -np.inf
            j = int(np.argmax(gain))
            chosen.append(j)
            available[j] = False
            log_z = float(np.log(np.maximum(z_new[j], 1e-300)) + shift)
            red_acc += kernel(positions[j:j + 1], positions, gamma)[0]
            if links is not None:
                red_acc += cfg.lambda_vis * visual_row(links, j, cfg.sigma_vis)
            if det:
                d_row = det_kernel(unit[j:j + 1], unit)[0]
                d_row[j] += cfg.det_ridge
                if schur[j] > dependent:
                    row = d_row - sum(r[j] * r for r in rows)
                    rows.append(row / np.sqrt(schur[j]))
                    schur = schur - rows[-1] ** 2
                # else conditioning on j changes no other d (dividing by its ~0 pivot gave inf / NaN)
        return np.array(chosen, dtype=np.int64)
