"""Gumbel-TopK: a differentiable choice of k frames for training (SPEC.md).

g_i ~ Gumbel(0, 1). The soft mask is k rounds of softmax over (s + g + d) / tau, where d
accumulates log(1 - p) of the earlier rounds, damping what they took (relaxed subset
sampling, Xie & Ermon 2019); it sums to k and tends to the hard mask as tau falls; the hard mask is the top-k of s + g; the straight-through mask is
hard - stopgrad(soft) + soft: exactly the hard mask forward, the soft mask's gradient back.
In eval mode there is no noise: hard top-k of s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from hfs.schedules import LinearSchedule


@dataclass
class TauSchedule(LinearSchedule):
    """Gumbel temperature: 2.0 -> 0.5 over training (SPEC.md)."""

    start: float = 2.0
    end: float = 0.5


@dataclass
class TopKMasks:
    soft: torch.Tensor  # [B, N], rows sum to k
    hard: torch.Tensor  # [B, N], exactly k ones per row
    mask: torch.Tensor  # [B, N], straight-through: == hard forward, soft's gradient
    indices: torch.Tensor  # [B, k] chosen candidates, ascending


def gumbel_noise(shape: torch.Size, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, device=device).clamp_(1e-10, 1.0 - 1e-10)
    return -torch.log(-torch.log(u))


class GumbelTopK(nn.Module):
    """Soft, hard and straight-through top-k masks over scores [B, N]."""

    def __init__(self, tau: float = 2.0) -> None:
        super().__init__()
        self.tau = tau

    def forward(self, scores: torch.Tensor, k: int, generator: torch.Generator | None = None,
                tau: float | None = None) -> TopKMasks:
        tau = self.tau if tau is None else tau
        if not 1 <= k <= scores.shape[-1]:
            raise ValueError(f"k={k} must be between 1 and the number of candidates ({scores.shape[-1]})")
        if self.training:
            perturbed = scores + gumbel_noise(scores.shape, generator, scores.device).to(scores.dtype)
        else:
            perturbed = scores
        soft = torch.zeros_like(scores)
        damp = torch.zeros_like(scores)  # log of how much earlier rounds left of each frame
        tiny = torch.finfo(scores.dtype).tiny
        for _ in range(k):
            p = torch.softmax((perturbed + damp) / tau, dim=-1)
            soft = soft + p
            # log(1 - p); a frame taken whole (1 - p underflows) is excluded from later rounds.
            # The inner where keeps log's gradient finite on the excluded branch.
            rest = 1.0 - p
            keep = rest > tiny
            damp = damp + torch.where(keep, torch.log(torch.where(keep, rest, torch.ones_like(rest))), -torch.inf)
        indices = torch.topk(perturbed, k, dim=-1).indices.sort(dim=-1).values
        hard = torch.zeros_like(scores).scatter_(-1, indices, 1.0)
        return TopKMasks(soft=soft, hard=hard, mask=hard - soft.detach() + soft, indices=indices)
