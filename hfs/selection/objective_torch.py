"""The set-level objective F on soft or hard masks, batched and differentiable (torch).

The same formulas as ``hfs.selection.objective`` (numpy, hard selections), for training:
F(m) = l_rel sum s m + l_cov tau_c log sum exp(s m / tau_c) - l_red sum_{i!=j} m_i m_j K_ij.
"""

from __future__ import annotations

import torch

from hfs.config import ObjectiveConfig


def set_objective(
    scores: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, config: ObjectiveConfig
) -> dict[str, torch.Tensor]:
    """scores, mask [B, N]; positions [N] or [B, N] -> {"F", "rel", "cov", "red"}, each [B]."""
    if positions.dim() == 1:
        positions = positions.unsqueeze(0).expand_as(scores)
    positions = positions.to(scores.dtype)
    rel = (scores * mask).sum(-1)
    cov = config.tau_c * torch.logsumexp(scores * mask / config.tau_c, dim=-1)
    diff = positions.unsqueeze(-1) - positions.unsqueeze(-2)  # [B, N, N]
    kernel = torch.exp(-(diff * diff) / (2.0 * config.gamma**2))
    pair = mask.unsqueeze(-1) * mask.unsqueeze(-2) * kernel
    red = pair.sum((-1, -2)) - pair.diagonal(dim1=-2, dim2=-1).sum(-1)
    f = config.lambda_rel * rel + config.lambda_cov * cov - config.lambda_red * red
    return {"F": f, "rel": rel, "cov": cov, "red": red}
