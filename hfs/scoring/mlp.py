"""MLP_s: the student's frame scorer, s_i = MLP([projected frame i ; fused query])."""

from __future__ import annotations

import torch
from torch import nn

# What the scorer reads for frame i: the paper's [frame ; query], or with their elementwise product
# appended, which lets a two-layer MLP match a frame against the query (docs/reproducing.md, the miniature).
SCORER_INPUTS = ("concat", "concat+product")


class FrameScorer(nn.Module):
    """Two layers with GELU between, one score per frame."""

    def __init__(self, width: int, hidden: int | None = None, inputs: str = "concat") -> None:
        super().__init__()
        if inputs not in SCORER_INPUTS:
            raise ValueError(f"scorer inputs must be one of {', '.join(SCORER_INPUTS)}, got {inputs!r}")
        hidden = hidden or width
        self.inputs = inputs
        parts = 2 if inputs == "concat" else 3
        self.net = nn.Sequential(nn.Linear(parts * width, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def forward(self, frames: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """frames [B, N, H], query [B, H] -> scores [B, N]."""
        q = query.unsqueeze(1).expand(-1, frames.shape[1], -1)
        features = [frames, q] if self.inputs == "concat" else [frames, q, frames * q]
        return self.net(torch.cat(features, dim=-1)).squeeze(-1)
