"""L_sep: keeps the K query vectors apart (SPEC.md, weight lambda_sep = 0.01)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def separation_loss(queries: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity over ordered pairs a != b of queries [B, K, H]; 0 when K < 2."""
    k = queries.shape[1]
    if k < 2:
        return queries.new_zeros(())
    q = F.normalize(queries, dim=-1)
    cos = q @ q.transpose(1, 2)  # [B, K, K]
    off_diagonal = cos.sum(dim=(1, 2)) - cos.diagonal(dim1=1, dim2=2).sum(-1)
    return (off_diagonal / (k * (k - 1))).mean()
