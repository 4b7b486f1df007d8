"""Context aggregator pass: fuse frames, question and task queries into one query vector.

The LM (with its "context aggregator" adapter) reads [E_v; E_qa; q_task_1..K; q_agg] as input
embeddings; the fused query is the last-layer hidden state at q_agg, the last real position.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def aggregator_inputs(
    frames: torch.Tensor, qa_embeds: Sequence[torch.Tensor], queries: torch.Tensor, q_agg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Build the right-padded input sequence.

    frames [B, N, H] (projected), qa_embeds: B tensors [L_b, H], queries [B, K, H], q_agg [H].
    Returns inputs_embeds [B, T, H], attention_mask [B, T] and the q_agg position [B].
    """
    b, n, h = frames.shape
    k = queries.shape[1]
    lengths = [n + e.shape[0] + k + 1 for e in qa_embeds]
    width = max(lengths)
    embeds = frames.new_zeros((b, width, h))
    mask = torch.zeros((b, width), dtype=torch.long, device=frames.device)
    for i, e in enumerate(qa_embeds):
        seq = torch.cat([frames[i], e, queries[i], q_agg.unsqueeze(0)], dim=0)
        embeds[i, : seq.shape[0]] = seq
        mask[i, : seq.shape[0]] = 1
    return embeds, mask, torch.tensor([n - 1 for n in lengths], device=frames.device)
