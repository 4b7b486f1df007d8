"""Training losses of SPEC.md, each a small function (F and L_sep live with their modules).

L = L_CE + lambda_KL L_KL - F(m) + lambda_sep L_sep
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def answer_ce(letter_logits: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """L_CE: cross-entropy of the teacher's option-letter logits [B, C] against answers [B]."""
    return F.cross_entropy(letter_logits, answers)


def mutual_kl(teacher_logits: torch.Tensor, student_scores: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """L_KL = KL(p_t || p_s) over the selected frames, both [B, k] logits.

    p_t = softmax(MLP_t(...)), p_s = softmax(s_S / T). Gradients reach both sides, so the
    student and teacher scorers learn from each other (mutual learning, not distillation).
    """
    log_pt = F.log_softmax(teacher_logits, dim=-1)
    log_ps = F.log_softmax(student_scores / temperature, dim=-1)
    return (log_pt.exp() * (log_pt - log_ps)).sum(-1).mean()


def pseudo_label_loss(student_scores: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Static supervision: KL(targets || softmax(s / T)) over all N candidates, targets [B, N]
    a distribution (e.g. softmax of offline relevance scores)."""
    targets = targets / targets.sum(-1, keepdim=True).clamp_min(1e-12)
    log_ps = F.log_softmax(student_scores / temperature, dim=-1)
    return (targets * (targets.clamp_min(1e-12).log() - log_ps)).sum(-1).mean()
