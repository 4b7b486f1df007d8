"""Pre-training a tiny multimodal teacher on a task, all its weights, from frames that hold the evidence.

In the paper the teacher M_t is a pretrained MLLM that can already answer when shown the right
frames; HFS then teaches the selector to find them. A tiny randomly initialised model cannot,
so for the miniature reproduction it first learns the task here: each step shows a batch of
questions, each with a few of its video's candidate frames (at least one of them evidence, the
same number in every question of the batch, so the rows stack), and trains every weight on the
cross-entropy of the option letters. Batches matter: asked "what shape is on the red screen?"
with other screens in view, a model shown one question per step learns to read the shape of
whichever screen it sees (0.35 held-out with all four screens shown, after 6000 steps, 10
minutes on 2 cores); with 32 questions per step, in about the same time (600 steps), it finds the
screen of the asked colour (0.81; 0.94 after the 800 steps of
``hfs.eval.learning.TEACHER_RECIPE``). Beside it the teacher's frame scorer MLP_t learns which of
the shown frames are evidence, from the teacher's hidden states ([H_t_i ; h_con]): what a
pretrained MLLM knows about where its answer is. The model is saved like any Hugging Face
model, MLP_t beside it (``TEACHER_SCORER_FILE``, safetensors), and the folder is used as
``teacher:`` in a training config; the trainer starts MLP_t from that file when it is there.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from hfs.atomic import atomic_directory
from hfs.errors import InputError

TEACHER_SCORER_FILE = "hfs_teacher_scorer.safetensors"


@dataclass
class TeacherExample:
    """One question with its video's decoded candidates and which of them are evidence."""

    frames: list[np.ndarray]  # N candidates, RGB uint8, at the teacher's resolution
    times: np.ndarray  # [N] seconds
    evidence: list[int]  # candidate indices inside the evidence
    question: str
    options: list[str]
    answer: int
    # candidates that look like evidence but are not (e.g. the other screens): shown often, so
    # that the teacher and MLP_t learn to tell the asked one from them, not just from filler
    distractors: list[int] = field(default_factory=list)


@dataclass
class PretrainConfig:
    """How long and how the teacher learns the task."""

    steps: int = 400
    lr: float = 3e-4
    batch_size: int = 32  # questions per step, all shown the same number of frames
    min_frames: int = 1  # frames shown per question: uniform in [min_frames, m], where m stays at
    max_frames: int = 8  # min_frames for the first ``hold`` of the steps (first learn to read one
    hold: float = 0.0  # frame), then rises to max_frames until half the steps past it (curriculum)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.lr <= 0:
            raise InputError(f"pretrain steps must be >= 1 and lr > 0, got {self.steps} and {self.lr}")
        if self.batch_size < 1:
            raise InputError(f"pretrain batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 <= self.hold < 1.0:
            raise InputError(f"pretrain hold must be in [0, 1), got {self.hold}")
        if not 1 <= self.min_frames <= self.max_frames:
            raise InputError(f"pretrain frames must satisfy 1 <= min_frames <= max_frames, got "
                             f"{self.min_frames}, {self.max_frames}")


def sample_frames(example: TeacherExample, count: int, rng: np.random.Generator) -> list[int]:
    """``count`` candidate indices, ascending: one evidence frame and the rest drawn from the others,
    each of them a distractor with probability one half (while there are distractors left)."""
    if not example.evidence:
        raise InputError(f"question {example.question!r} has no evidence candidate")
    first = int(rng.choice(example.evidence))
    others = np.setdiff1d(np.arange(len(example.frames)), [first])
    distractors = np.setdiff1d(np.asarray(example.distractors, dtype=np.int64), [first])
    size = min(count - 1, len(others))
    hard = rng.choice(distractors, size=min(int(rng.binomial(size, 0.5)), len(distractors)), replace=False)
    rest = rng.choice(np.setdiff1d(others, hard), size=size - len(hard), replace=False)
    return sorted([first, *hard.tolist(), *rest.tolist()])


def pretrain_teacher(model_dir: str | Path, out_dir: str | Path, examples: Sequence[TeacherExample],
                     config: PretrainConfig | None = None, log: list[float] | None = None) -> Path:
    """Train every weight of the multimodal model in ``model_dir`` on ``examples``; save to ``out_dir``.

    ``log``, when given, receives each step's loss.
    """
    from safetensors.torch import save_file

    from hfs.reasoning.answerer import MultimodalAnswerer
    from hfs.scoring.mlp import FrameScorer

    config = config or PretrainConfig()
    if not examples:
        raise InputError("no examples to pre-train the teacher on")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    teacher = MultimodalAnswerer(str(model_dir), device="cpu")
    scorer = FrameScorer(teacher.hidden_size)
    params = list(teacher.model.parameters())
    for p in params:
        p.requires_grad_(True)
    params += list(scorer.parameters())
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.steps,
                                                   pct_start=0.1)
    teacher.model.train()
    for step in range(config.steps):
        ramp = min(1.0, max(0.0, (step / config.steps - config.hold) / (0.5 * (1.0 - config.hold))))
        most = config.min_frames + (config.max_frames - config.min_frames) * ramp
        count = int(rng.integers(config.min_frames, round(most) + 1))
        batch = [examples[int(i)] for i in rng.integers(len(examples), size=config.batch_size)]
        shown = [sample_frames(example, count, rng) for example in batch]
        out = teacher.forward_batch([([e.frames[i] for i in idx], [float(e.times[i]) for i in idx], e.question,
                                      e.options) for e, idx in zip(batch, shown)], return_hidden=True)
        loss = torch.nn.functional.cross_entropy(out.letter_logits, torch.tensor([e.answer for e in batch]))
        if count > 1:  # MLP_t: cross-entropy against the uniform distribution over the evidence shown
            target = torch.tensor([[float(i in e.evidence) for i in idx] for e, idx in zip(batch, shown)])  # [B, k]
            logits = scorer(torch.stack(out.frame_hidden).float(), out.context_hidden.float())  # [B, k]
            loss = loss - (target / target.sum(-1, keepdim=True) * torch.log_softmax(logits, -1)).sum(-1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        if log is not None:
            log.append(float(loss.detach()))
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    with atomic_directory(out_dir) as tmp:
        for item in Path(model_dir).iterdir():  # tokenizer and image processor, unchanged
            if item.is_file():
                shutil.copy2(item, tmp / item.name)
        teacher.model.eval().save_pretrained(tmp)  # config + safetensors
        save_file({k: v.detach().contiguous() for k, v in scorer.state_dict().items()}, str(tmp / TEACHER_SCORER_FILE))
    return out_dir
