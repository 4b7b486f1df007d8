"""MLP_s: the student's frame scorer, s_i = MLP([projected frame i ; fused query])."""

from __future__ import annotations

import torch
from torch import nn


class FrameScorer(nn.Module):
    """Two layers with GELU between, one score per frame."""

    def __init__(self, width: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or width
        self.net = nn.Sequential(nn.Linear(2 * width, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def forward(self, frames: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """frames [B, N, H], query [B, H] -> scores [B, N]."""
        q = query.unsqueeze(1).expand(-1, frames.shape[1], -1)
        return self.net(torch.cat([frames, q], dim=-1)).squeeze(-1)
