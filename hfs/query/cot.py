"""Task analyzer pass: K query vectors from the student LM reading prompt + question.

The queries are last-layer hidden states at K positions spread evenly over the L_p + L
tokens (SPEC.md): j_k = floor((k - 1) / (K - 1) * (L_p + L - 1)), k = 1..K, so they read
the sequence at different stages of the reasoning.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from hfs.query.prompt import COT_PROMPT, question_block


def query_positions(prompt_len: int, question_len: int, num_queries: int) -> list[int]:
    """0-based positions j_1..j_K in the prompt + question sequence.

    K = 1 takes the last position (the formula's 0/0 read as "the end"), K = 0 none.
    """
    last = prompt_len + question_len - 1
    if num_queries <= 0:
        return []
    if num_queries == 1:
        return [last]
    return [((k - 1) * last) // (num_queries - 1) for k in range(1, num_queries + 1)]


def tokenize_prompted(tokenizer, questions: Sequence[str], options: Sequence[Sequence[str] | None]):
    """Token ids of COT_PROMPT + each question block, right-padded.

    Returns input_ids [B, T], attention_mask [B, T], the prompt length L_p and each
    question's length L_b (the prompt is tokenised once, so L_p is the same for all).
    """
    prompt_ids = tokenizer(COT_PROMPT, add_special_tokens=False)["input_ids"]
    q_ids = [tokenizer(question_block(q, o), add_special_tokens=False)["input_ids"] for q, o in zip(questions, options)]
    seqs = [prompt_ids + ids for ids in q_ids]
    width = max(len(s) for s in seqs)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for b, seq in enumerate(seqs):
        input_ids[b, : len(seq)] = torch.tensor(seq)
        mask[b, : len(seq)] = 1
    return input_ids, mask, len(prompt_ids), [len(ids) for ids in q_ids], q_ids


def gather_queries(hidden: torch.Tensor, prompt_len: int, question_lens: Sequence[int], num_queries: int) -> torch.Tensor:
    """hidden [B, T, H] -> queries [B, K, H] at each sample's own positions."""
    if num_queries <= 0:
        return hidden.new_zeros((hidden.shape[0], 0, hidden.shape[-1]))
    idx = torch.tensor([query_positions(prompt_len, n, num_queries) for n in question_lens], device=hidden.device)
    return torch.gather(hidden, 1, idx.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
