"""Training losses of SPEC.md, each a small function (F and L_sep live with their modules).

L = L_CE + lambda_KL L_KL - F(m) + lambda_sep L_sep
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hfs.errors import InputError


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


OBJECTIVE_FORMS = ("mask", "literal")


def objective_term(scores: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, config, form: str = "mask", *,
                   relaxation=None, hard: torch.Tensor | None = None, k: int | None = None,
                   tau: float = 1.0) -> dict[str, torch.Tensor]:
    """F(m) as the loss uses it (L = ... - F(m) ...): scores, mask [B, N] -> batch means.

    ``literal`` is the paper's formula: F of the straight-through mask on the student's raw
    scores, with gradients through both. Its relevance and coverage terms reward whatever the
    student already selects: d Rel / d s_i = m_i raises the chosen frames' scores, and through
    the mask it sharpens the scores (their scale grows without bound), so Gumbel-TopK stops
    exploring and locks onto its first picks before the teacher's signal can move it: the
    collapse of issue 12.

    ``mask`` (the default) lets F judge the selection only through the mask, with the scores'
    scale held fixed: the relevance values are the per-video z-scores of the scores with their
    gradient stopped (F cannot be raised by inflating scores), and the mask is the selection
    actually made (``hard``) forward, with the gradient of the noise-free soft top-k of the
    z-scores (``relaxation`` at ``tau``) backward, which no rescaling of the scores changes.
    F is divided by k (one frame's worth) so its weight against the per-question L_CE does not
    grow with the budget. Redundancy means the same in both forms (mask and positions only).
    """
    from hfs.selection.objective_torch import set_objective

    if form not in OBJECTIVE_FORMS:
        raise InputError(f"objective_form must be one of {', '.join(OBJECTIVE_FORMS)}, got {form!r}")
    if form == "literal":
        terms = set_objective(scores, mask, positions, config)
        return {name: value.mean() for name, value in terms.items()}
    if relaxation is None or hard is None or k is None:
        raise ValueError("the mask form needs the relaxation, the hard mask and k")
    z = (scores - scores.mean(-1, keepdim=True)) / scores.std(-1, keepdim=True).clamp_min(1e-6)
    soft = relaxation(z, k, tau=tau).soft
    terms = set_objective(z.detach(), hard - soft.detach() + soft, positions, config)
    return {name: value.mean() / k for name, value in terms.items()}
