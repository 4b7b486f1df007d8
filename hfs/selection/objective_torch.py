"""The set-level objective F on soft or hard masks, batched and differentiable (torch).

The same formulas as ``hfs.selection.objective`` (numpy, hard selections), for training:
F(m) = l_rel sum s m + l_cov tau_c log sum exp(s m / tau_c) - l_red sum_{i!=j} m_i m_j K_ij,
K_ij = exp(-(t_i - t_j)^2 / (2 gamma^2)) + l_vis exp(-(1 - c_ij) / sigma_vis), c_ij the weakest
cosine between neighbouring candidates from i to j, gamma fixed or gamma_scale * span / k, as in
the numpy version. With l_det > 0, F gains l_det log det(M D M + I - M^2), M = diag(m) and D
the multi-scale Gaussian kernel of the embeddings: on a hard mask that is log det D_S, the numpy
term; on a soft one it is a smooth relaxation of it (M D M + I - M^2 stays positive definite).
"""

from __future__ import annotations

import torch

from hfs.config import ObjectiveConfig
from hfs.selection.objective import DET_WIDTHS


def _bandwidth(config: ObjectiveConfig, positions: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """[B] gamma for positions [B, N] and budgets k [B] (see ``hfs.selection.objective.bandwidth``)."""
    if config.gamma is not None:
        return torch.full_like(k, float(config.gamma))
    n = positions.shape[-1]
    if n < 2:
        span = torch.ones_like(k)
    else:
        span = (positions.amax(-1) - positions.amin(-1)) * n / (n - 1)
        span = torch.where(span > 0, span, torch.full_like(span, float(n)))
    return config.gamma_scale * span / k.clamp_min(1)


def chain_similarity(embeddings: torch.Tensor) -> torch.Tensor:
    """[B, N, N] c_ij = min over min(i,j) <= l < max(i,j) of cos(e_l, e_{l+1}); 1 on the diagonal."""
    e = embeddings / embeddings.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    links = (e[:, :-1] * e[:, 1:]).sum(-1)  # [B, N-1]
    b, n = e.shape[0], e.shape[1]
    out = torch.ones(b, n, n, dtype=e.dtype, device=e.device)
    band = links  # [B, N-d]: min of links[i : i+d] for d = 1, 2, ...
    idx = torch.arange(n, device=e.device)
    for d in range(1, n):
        if d > 1:
            band = torch.minimum(band[:, :-1], links[:, d - 1:])
        out[:, idx[:n - d], idx[d:]] = band
        out[:, idx[d:], idx[:n - d]] = band
    return out


def set_objective(
    scores: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, config: ObjectiveConfig,
    embeddings: torch.Tensor | None = None, k: int | torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """scores, mask [B, N]; positions [N] or [B, N]; embeddings [B, N, D] (used when
    ``config.lambda_vis`` > 0); k the budget (default: each row's mask sum, rounded)
    -> {"F", "rel", "cov", "red"}, each [B]."""
    if positions.dim() == 1:
        positions = positions.unsqueeze(0).expand_as(scores)
    positions = positions.to(scores.dtype)
    if k is None:
        budget = mask.detach().sum(-1).round().to(scores.dtype)
    else:
        budget = torch.as_tensor(k, dtype=scores.dtype, device=scores.device).expand(scores.shape[0])
    gamma = _bandwidth(config, positions, budget)  # [B]
    rel = (scores * mask).sum(-1)
    cov = config.tau_c * torch.logsumexp(scores * mask / config.tau_c, dim=-1)
    diff = positions.unsqueeze(-1) - positions.unsqueeze(-2)  # [B, N, N]
    kernel = torch.exp(-(diff * diff) / (2.0 * gamma[:, None, None] ** 2))
    if config.lambda_vis > 0 and embeddings is not None:
        chain = chain_similarity(embeddings.to(scores.dtype).detach())
        kernel = kernel + config.lambda_vis * torch.exp(-(1.0 - chain) / config.sigma_vis)
    pair = mask.unsqueeze(-1) * mask.unsqueeze(-2) * kernel
    red = pair.sum((-1, -2)) - pair.diagonal(dim1=-2, dim2=-1).sum(-1)
    f = config.lambda_rel * rel + config.lambda_cov * cov - config.lambda_red * red
    terms = {"F": f, "rel": rel, "cov": cov, "red": red}
    if config.lambda_det > 0 and embeddings is not None:
        e = embeddings.to(scores.dtype).detach()
        e = e / e.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        sq = (2.0 - 2.0 * e @ e.transpose(-1, -2)).clamp_min(0.0)
        dk = sum(torch.exp(-sq / (2.0 * a)) for a in DET_WIDTHS)  # [B, N, N]
        eye = torch.eye(dk.shape[-1], dtype=dk.dtype, device=dk.device)
        relaxed = mask.unsqueeze(-1) * (dk + (config.det_ridge - 1.0) * eye) * mask.unsqueeze(-2) + eye
        terms["det"] = torch.linalg.slogdet(relaxed).logabsdet
        terms["F"] = f + config.lambda_det * terms["det"]
    return terms
