"""Everything trained end to end, as one nn.Module so accelerate/DDP wraps a single forward.

forward(sample) runs the paper's step for one question:
  student scores N candidates -> Gumbel-TopK picks k (straight-through mask m)
  -> the teacher answers from those k frames, each frame's visual tokens scaled by m_i
  -> L_CE on the option letters, L_KL between the teacher's and student's frame
     distributions, -F(m) (``hfs.training.losses.objective_term``) and L_sep from the student.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hfs.errors import HfsError, InputError
from hfs.scoring.mlp import FrameScorer
from hfs.selection.gumbel import GumbelTopK
from hfs.training.losses import OBJECTIVE_FORMS, answer_ce, mutual_kl, objective_term, pseudo_label_loss


@dataclass
class StepInputs:
    """One training question with its video's candidates (already embedded)."""

    embeddings: torch.Tensor  # [N, D] unit frame embeddings
    times: np.ndarray  # [N] seconds
    frames: list[np.ndarray]  # N decoded candidate frames for the teacher (RGB uint8)
    question: str
    options: list[str]
    answer: int
    targets: torch.Tensor | None = None  # [N] pseudo-label distribution (supervision "pseudo")


class HFSTrainModule(nn.Module):
    """Student M_s, teacher M_t (with its LoRA) and the teacher's frame scorer MLP_t.

    ``objective_form`` is how -F(m) enters the loss: "mask" (F judges the selection through
    the mask, scores' scale held fixed) or "literal" (the paper's formula on the raw scores);
    see ``hfs.training.losses.objective_term``.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module | None, teacher_width: int | None,
                 objective_form: str = "mask") -> None:
        super().__init__()
        if objective_form not in OBJECTIVE_FORMS:
            raise InputError(f"objective_form must be one of {', '.join(OBJECTIVE_FORMS)}, got {objective_form!r}")
        self.objective_form = objective_form
        self.student = student
        self.teacher = teacher
        self.teacher_scorer = FrameScorer(teacher_width) if teacher is not None and teacher_width else None
        self._load_teacher_scorer(teacher)
        self.relaxation = GumbelTopK().eval()  # noise-free soft top-k for F's mask (objective_term)

    def _load_teacher_scorer(self, teacher: nn.Module | None) -> None:
        """Start MLP_t from the teacher's folder when it has one (``hfs.reasoning.pretrain``)."""
        from hfs.reasoning.pretrain import TEACHER_SCORER_FILE

        path = Path(str(getattr(teacher, "name", ""))) / TEACHER_SCORER_FILE
        if self.teacher_scorer is None or not path.is_file():
            return
        from safetensors.torch import load_file

        try:
            self.teacher_scorer.load_state_dict(load_file(str(path)))
        except RuntimeError as exc:
            raise HfsError(f"{path}: does not fit the teacher's width ({exc.__class__.__name__})") from exc

    def forward(self, sample: StepInputs, k: int, weights: dict[str, float], supervision: str,
                generator: torch.Generator | None = None, tau: float | None = None,
                kl_temperature: float = 1.0) -> dict[str, torch.Tensor]:
        """Losses of one question; ``weights`` holds lambda_KL, lambda_sep and use_F (0 or 1)."""
        device = next(self.student.parameters()).device
        out = self.student(sample.embeddings.unsqueeze(0).to(device), [sample.question], [sample.options],
                           times=torch.as_tensor(sample.times).unsqueeze(0), k=k, generator=generator, tau=tau)
        chosen = out.indices[0]  # [k] ascending
        objective = self.student.config.objective
        n = out.scores.shape[-1]
        positions = (torch.as_tensor(sample.times, dtype=out.scores.dtype, device=device)
                     if objective.positions == "seconds" else torch.arange(n, device=device))
        terms = objective_term(out.scores, out.mask, positions, objective, self.objective_form,
                               relaxation=self.relaxation, hard=out.hard_mask, k=k,
                               tau=self.student.topk.tau if tau is None else tau)
        losses: dict[str, torch.Tensor] = {"F": terms["F"], "L_sep": out.losses["L_sep"]}
        zero = out.scores.new_zeros(())
        if supervision == "pseudo":
            losses["L_pseudo"] = pseudo_label_loss(out.scores, sample.targets.unsqueeze(0).to(device))
            losses["L_CE"] = losses["L_KL"] = zero
        else:
            # The mask values m_S are exactly 1 forward; backward they carry L_CE's gradient
            # through the teacher's visual tokens into Gumbel-TopK and the student's scores.
            m_chosen = out.mask[0, chosen]  # [k]
            idx = chosen.tolist()
            teacher_out = self.teacher(
                [sample.frames[i] for i in idx], [float(sample.times[i]) for i in idx], sample.question,
                sample.options, frame_weights=m_chosen, return_hidden=supervision == "ce+kl",
            )
            answer = torch.tensor([sample.answer], device=teacher_out.letter_logits.device)
            losses["L_CE"] = answer_ce(teacher_out.letter_logits.unsqueeze(0), answer)
            if supervision == "ce+kl":
                h_frames = teacher_out.frame_hidden.float().unsqueeze(0)  # [1, k, H_t]
                h_con = teacher_out.context_hidden.float().unsqueeze(0)  # [1, H_t]
                teacher_logits = self.teacher_scorer(h_frames, h_con)  # [1, k]
                student_logits = out.scores[:, chosen]  # [1, k]
                losses["L_KL"] = mutual_kl(teacher_logits.to(student_logits.device), student_logits, kl_temperature)
            else:
                losses["L_KL"] = zero
            losses["L_pseudo"] = zero
        losses["loss"] = (
            losses["L_CE"].to(device) + weights["lambda_kl"] * losses["L_KL"].to(device)
            - weights["use_F"] * losses["F"] + weights["lambda_sep"] * losses["L_sep"] + losses["L_pseudo"]
        )
        return losses

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Weights of every trained part (student parts, teacher LoRA, MLP_t), by name."""
        state = {f"student.{k}": v for k, v in self.student.trainable_state_dict().items()}
        for name, p in self.named_parameters():
            if p.requires_grad and not name.startswith("student."):
                state[name] = p.detach().cpu()
        return state

    def load_trainable_state_dict(self, state: dict[str, Any]) -> None:
        own = dict(self.named_parameters())
        for name, value in state.items():
            if not name.startswith("student."):
                own[name].data.copy_(value)
        student_state = {k[len("student."):]: v for k, v in state.items() if k.startswith("student.")}
        self.student.load_trainable_state_dict(student_state)
