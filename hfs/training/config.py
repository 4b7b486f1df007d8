"""TrainConfig: one dataclass (loadable from YAML) for an end-to-end HFS training run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hfs.config import MAX_CANDIDATES, load_yaml
from hfs.errors import InputError
from hfs.student.config import StudentConfig
from hfs.validation import SEED, Checked, Rule, above, at_least, one_of

SUPERVISION = ("ce+kl", "ce", "pseudo")
MIXED_PRECISION = ("no", "bf16", "fp16")


def _data_formats() -> list[str]:
    from hfs.data.instruct import READERS

    return ["synthetic", *READERS]


@dataclass
class DataConfig(Checked):
    """Where the training questions and videos are."""

    format: str = "synthetic"  # synthetic | videochat2 | llava-video
    files: list[str] = field(default_factory=list)  # annotation files (JSON/JSONL)
    root: str = "."  # video paths are resolved under this folder
    skip_open_ended: bool = True  # False: keep them for the teacher's language-model loss
    synthetic_videos: int = 64  # size of the generated set when format is synthetic
    synthetic_seed: int = 0
    num_candidates: int = 128  # N
    cache_dir: str | None = None  # frame-embedding cache (decode + embed each video once)
    # DataLoader worker processes reading (hashing, decoding) the coming steps' videos; 0: in the
    # training process, between steps; null: 0 without a GPU, else min(4, CPU cores / 2).
    # Any number gives the same run (hfs.training.data_pipeline).
    num_workers: int | None = None
    prefetch_factor: int = 2  # steps each worker reads ahead (num_workers > 0)

    def workers(self) -> int:
        """``num_workers``, or its automatic value: workers pay off when a GPU trains, while
        without one they would take CPU cores from the training itself."""
        if self.num_workers is not None:
            return self.num_workers
        import torch

        return min(4, (os.cpu_count() or 1) // 2) if torch.cuda.is_available() else 0

    RULES = {
        "format": one_of(lookup=_data_formats), "files": Rule(allow_empty=True),
        "synthetic_videos": at_least(1, 100_000), "synthetic_seed": SEED,
        "num_candidates": at_least(1, MAX_CANDIDATES),
        "num_workers": at_least(0, 256), "prefetch_factor": at_least(1, 64),
    }


@dataclass
class TrainConfig(Checked):
    """The paper's defaults (SPEC.md) unless a YAML file says otherwise."""

    output_dir: str = "runs/hfs"
    student: StudentConfig = field(default_factory=StudentConfig)
    teacher: str = "Qwen/Qwen2-VL-7B-Instruct"  # multimodal LLM, hub name or folder
    r_teacher: int = 8
    data: DataConfig = field(default_factory=DataConfig)
    k: int = 16
    supervision: str = "ce+kl"  # ce+kl | ce | pseudo
    lambda_sep: float = 0.01
    kl_temperature: float = 1.0
    kl_start: float = 0.1  # lambda_KL rises linearly to kl_end over the first epoch
    kl_end: float = 1.0
    use_objective: bool = True  # -F(m) in the loss; each term also has its lambda in student.objective
    # how -F(m) enters the loss: "mask" (F acts through the mask on fixed-scale scores, /k) or
    # "literal" (the paper's formula on the raw scores); hfs.training.losses.objective_term
    objective_form: str = "mask"
    # where the mask scales frame i in the teacher: "vision" (paper: its visual tokens) or
    # "layers" (each LM layer's normalised input at those tokens); hfs.reasoning.answerer
    mask_at: str = "vision"
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 1
    grad_accumulation: int = 1
    lr: float = 1e-4
    # the teacher's LoRA and MLP_t (None: lr). A pretrained teacher needs a far gentler step than
    # a student learning from scratch: at the student's lr its LoRA unlearns the task in a few
    # hundred steps, and L_CE and L_KL then teach nothing (docs/reproducing.md, the miniature)
    teacher_lr: float | None = None
    teacher_scorer_lr: float | None = None  # MLP_t (None: teacher_lr; 0: frozen)
    weight_decay: float = 0.0
    warmup_steps: int = 10
    min_lr_ratio: float = 0.0
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"  # no | bf16 | fp16 (accelerate)
    checkpoint_every: int = 100
    log_every: int = 1
    seed: int = 0

    RULES = {
        "r_teacher": at_least(0, 1024),  # 0: no LoRA adapter on the teacher
        "k": at_least(1), "supervision": one_of(*SUPERVISION), "objective_form": one_of("mask", "literal"),
        "mask_at": one_of("vision", "layers"),
        "lambda_sep": at_least(0, 1e6),
        "kl_temperature": at_least(1e-3, 1e6), "kl_start": at_least(0, 1e6), "kl_end": at_least(0, 1e6),
        "epochs": at_least(1), "max_steps": at_least(1), "batch_size": at_least(1, 4096),
        "grad_accumulation": at_least(1), "lr": above(0, 10), "teacher_lr": above(0, 10),
        "teacher_scorer_lr": at_least(0, 10),
        "weight_decay": at_least(0, 1e3),
        "warmup_steps": at_least(0), "min_lr_ratio": at_least(0, 1),
        "max_grad_norm": at_least(0),  # 0: no clipping
        "mixed_precision": one_of(*MIXED_PRECISION),
        "checkpoint_every": at_least(0),  # 0: only the final save
        "log_every": at_least(1), "seed": SEED,
    }

    def check(self) -> None:
        if self.k > self.data.num_candidates:
            raise InputError(f"TrainConfig: k={self.k} must be between 1 and N={self.data.num_candidates} "
                             "(data.num_candidates)")

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        return load_yaml(cls, path)
