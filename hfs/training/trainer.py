"""The training loop: one CPU, one GPU or many, through accelerate (never a launcher of ours).

    hfs train CONFIG.yaml                              # one process
    accelerate launch -m hfs.train CONFIG.yaml         # several (DDP), e.g. --num_processes 8

Each process takes every world-th question of a seeded per-epoch order; a checkpoint stores
the trainable weights, optimizer, scheduler, RNG states, the Gumbel generator and the data
position, so ``--resume`` continues exactly where the run stopped. The output folder belongs to
one config (see hfs.training.run_folder); on resume the log and TensorBoard drop the steps after
the checkpoint, so steps replayed since it are recorded once.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hfs.atomic import own_folder, write_text_atomic
from hfs.cache import EmbeddingCache
from hfs.encoders import create_encoder, looks_local
from hfs.errors import InputError, first_line, writing
from hfs.pipeline import cached_candidates
from hfs.progress import progress_bar
from hfs.schedules import LinearSchedule, warmup_cosine
from hfs.scoring import cosine_scores, standardize
from hfs.selection.gumbel import TauSchedule
from hfs.training.checkpoint import latest_checkpoint, load_latest_checkpoint, save_checkpoint, set_rng_state
from hfs.training.config import TrainConfig
from hfs.training.data_pipeline import epoch_order, train_inputs
from hfs.training.module import HFSTrainModule
from hfs.training.run_folder import LOG_FILE, check_output_dir, prepare_output_dir
from hfs.validation import short_repr
from hfs.training.tiny_models import resolve_model
from hfs.video import open_video


class CandidateStore:
    """Per video: candidate times and embeddings (disk cache, so decoded and embedded once
    across epochs and runs) and, for the teacher, the decoded candidates (small LRU)."""

    def __init__(self, encoder, num_candidates: int, cache_dir: str | None, teacher_short_side: int | None,
                 max_videos_in_memory: int = 8) -> None:
        self.encoder = encoder
        self.num_candidates = num_candidates
        self.cache = EmbeddingCache(cache_dir)
        self.short_side = teacher_short_side
        self.frames: OrderedDict[str, list[np.ndarray]] = OrderedDict()
        self.max_videos = max_videos_in_memory
        self.text: dict[str, np.ndarray] = {}

    def candidates(self, video: Path):
        entry, _, _, _ = cached_candidates(open_video(video), self.encoder, self.num_candidates, self.cache)
        return entry.times, entry.embeddings

    def decoded(self, video: Path, times: np.ndarray) -> list[np.ndarray]:
        key = str(video)
        if key not in self.frames:
            source = open_video(video)
            exact = source.frames_at(times, short_side=self.short_side, unique=False, tolerance=0)
            self.frames[key] = [f.image for f in exact]
            if len(self.frames) > self.max_videos:
                self.frames.popitem(last=False)
        self.frames.move_to_end(key)
        return self.frames[key]

    def pseudo_targets(self, embeddings: np.ndarray, question: str, temperature: float = 1.0) -> torch.Tensor:
        """Static per-frame relevance from the image-text model: softmax of z-scored cosine."""
        if question not in self.text:
            self.text[question] = self.encoder.encode_text(question)
        z = standardize(cosine_scores(embeddings, self.text[question]))
        return torch.softmax(torch.as_tensor(z / temperature, dtype=torch.float32), dim=0)


def _param_groups(module: HFSTrainModule, config: TrainConfig) -> list[dict]:
    """The student's trainable weights at ``lr``; the teacher's LoRA at ``teacher_lr``; MLP_t at
    ``teacher_scorer_lr`` (each unset: the one before it)."""
    teacher_lr = config.teacher_lr or config.lr
    scorer_lr = teacher_lr if config.teacher_scorer_lr is None else config.teacher_scorer_lr
    lrs = {"student.": config.lr, "teacher_scorer.": scorer_lr, "": teacher_lr}  # "": the teacher's LoRA
    params: dict[str, list] = {prefix: [] for prefix in lrs}
    for name, p in module.named_parameters():
        if p.requires_grad:
            params[next(prefix for prefix in lrs if name.startswith(prefix))].append(p)
    return [{"params": params[prefix], "lr": lr} for prefix, lr in lrs.items() if params[prefix] or prefix == "student."]


def train(config: TrainConfig, resume: bool = False, *, stop_at: int | None = None, student=None, teacher=None,
          questions=None, encoder=None, progress: bool = True) -> dict[str, Any]:
    """Train; returns a summary (steps, last losses, where the student was saved).

    ``stop_at`` ends this run early at that step, with a checkpoint, while the schedules
    still span the whole run (for time-boxed jobs: resume later with ``resume=True``).

    ``student``, ``teacher``, ``questions`` and ``encoder`` override what the config would
    build (tests pass tiny models); ``questions`` are ``TrainingQuestion``s with answers.

    A folder holding checkpoints of another config is refused, and so is one holding this
    config's checkpoints unless ``resume`` (see hfs.training.run_folder).
    """
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, set_seed

    if stop_at is not None and (isinstance(stop_at, bool) or not isinstance(stop_at, int) or stop_at < 1):
        raise InputError(f"stop_at must be a step of at least 1, got {short_repr(stop_at)}")

    accelerator = Accelerator(
        # without cpu=True accelerate forms no process group on a machine with no GPU
        cpu=not torch.cuda.is_available(),
        mixed_precision=config.mixed_precision,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    set_seed(config.seed)
    out_dir = Path(config.output_dir)
    newest = latest_checkpoint(out_dir)
    check_output_dir(config, out_dir, resume, newest)  # every process, before any of them writes
    check_paths(config, student is None, teacher is None and config.supervision != "pseudo",
                encoder is None, questions is None)
    encoder = encoder or create_encoder(config.student.encoder, flag="student.encoder")
    if encoder.dim != config.student.frame_dim:
        raise InputError(f"student.frame_dim={config.student.frame_dim} but encoder {encoder.name} gives {encoder.dim}-d")
    questions = questions if questions is not None else build_questions(config)
    questions = [q for q in questions if q.answer is not None]
    if not questions:
        raise InputError("no multiple-choice training questions")
    student = student if student is not None else _build_student(config)
    needs_teacher = config.supervision != "pseudo"
    if needs_teacher and teacher is None:
        teacher = _build_teacher(config)
    module = HFSTrainModule(student, teacher if needs_teacher else None,
                            getattr(teacher, "hidden_size", None) if needs_teacher else None,
                            objective_form=config.objective_form)
    groups = _param_groups(module, config)
    params = [p for group in groups for p in group["params"]]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)

    rank, world = accelerator.process_index, accelerator.num_processes
    per_step = config.batch_size * config.grad_accumulation  # questions per optimizer step per process
    steps_per_epoch = max(1, math.ceil(len(epoch_order(len(questions), 0, config.seed, rank, world)) / per_step))
    total_steps = config.max_steps or config.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, config.warmup_steps, total_steps, config.min_lr_ratio))
    module, optimizer = accelerator.prepare(module, optimizer)
    raw = accelerator.unwrap_model(module)
    generator = torch.Generator().manual_seed(config.seed + rank)
    tau_schedule = TauSchedule(config.student.tau_start, config.student.tau_end, steps=total_steps)
    kl_schedule = LinearSchedule(config.kl_start, config.kl_end, steps=steps_per_epoch)

    step, epoch, index = 0, 0, 0
    if resume and newest is not None:
        shapes = {name: tuple(value.shape) for name, value in raw.trainable_state_dict().items()}
        found = load_latest_checkpoint(out_dir, shapes)  # the newest usable one: a damaged newest is passed over
        if found is None:
            raise InputError(f"{out_dir}: no checkpoint there can be resumed (each is named above with why); "
                             f"delete the damaged ones or use a new output_dir")
        path, weights, state, meta = found
        try:
            raw.load_trainable_state_dict(weights)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
            generator.set_state(state["generator"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise InputError(f"{path}: cannot resume from it ({short_repr(first_line(exc), 160)})") from None
        step, epoch, index = meta["step"], meta["data_position"]["epoch"], meta["data_position"]["index"]
    if stop_at is not None and stop_at <= step:
        raise InputError(f"stop_at={stop_at}: the run is already at step {step}; give a later step")

    store = CandidateStore(encoder, config.data.num_candidates, config.data.cache_dir,
                           getattr(teacher, "short_side", None))
    if accelerator.is_main_process:
        prepare_output_dir(config, out_dir, step)  # config.json, leftovers gone, log.jsonl cut back to `step`
    logger = _Logger(out_dir, accelerator.is_main_process, config, step)
    # questions read ahead in DataLoader workers (hfs.training.data_pipeline), in this loop's order
    inputs = train_inputs(questions, encoder, config, getattr(teacher, "short_side", None), needs_teacher, rank, world,
                          epoch, index, min(total_steps, stop_at or total_steps) - step,
                          store.pseudo_targets if config.supervision == "pseudo" else None)
    last: dict[str, float] = {}
    module.train()
    with progress_bar(total_steps, "training", progress and accelerator.is_main_process) as bar:
        bar.advance(step)
        while step < min(total_steps, stop_at or total_steps):
            order = epoch_order(len(questions), epoch, config.seed, rank, world)
            if index >= len(order):
                epoch, index = epoch + 1, 0
                continue
            batch = order[index:index + per_step]
            weights = {"lambda_kl": kl_schedule(step), "lambda_sep": config.lambda_sep,
                       "use_F": 1.0 if config.use_objective else 0.0}
            tau = tau_schedule(step)
            sums: dict[str, float] = {}
            for sample in inputs.next_step(batch):
                losses = module(sample, k=config.k, weights=weights,
                                supervision=config.supervision, generator=generator, tau=tau,
                                kl_temperature=config.kl_temperature)
                accelerator.backward(losses["loss"] / len(batch))
                for key, value in losses.items():
                    sums[key] = sums.get(key, 0.0) + float(value.detach()) / len(batch)
            if config.max_grad_norm:
                accelerator.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step, index = step + 1, index + len(batch)
            last = {**sums, "lambda_kl": weights["lambda_kl"], "tau": tau, "lr": scheduler.get_last_lr()[0],
                    "data_wait_s": inputs.wait_s}
            logger.log(step, epoch, last)
            bar.advance()
            if config.checkpoint_every and step % config.checkpoint_every == 0 and step < total_steps:
                _checkpoint(accelerator, raw, optimizer, scheduler, generator, out_dir, step, epoch, index)
    inputs.close()
    _checkpoint(accelerator, raw, optimizer, scheduler, generator, out_dir, step, epoch, index)
    # Every process's copy of the trained weights should be identical (DDP averages gradients);
    # record one checksum per process so a run can be checked afterwards.
    checksum = torch.stack([p.detach().double().sum() for p in params]).sum().reshape(1).to(accelerator.device)
    checksums = accelerator.gather(checksum).tolist()
    student_dir = out_dir / "student"
    summary = {"steps": step, "last": last, "student": str(student_dir), "processes": world,
               "param_checksums": checksums}
    if accelerator.is_main_process:
        raw.student.config.encoder = raw.student.config.encoder or encoder.name
        with writing(student_dir, "the trained student"):
            own_folder(student_dir)  # a link planted there is replaced, never written through
        raw.student.save_pretrained(student_dir)
        write_text_atomic(out_dir / "summary.json", json.dumps(summary, indent=2), "the training summary")
    accelerator.wait_for_everyone()
    logger.close()
    return summary


def _checkpoint(accelerator, raw, optimizer, scheduler, generator, out_dir: Path, step: int, epoch: int,
                index: int) -> None:
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        save_checkpoint(out_dir / f"checkpoint-{step:06d}", raw.trainable_state_dict(), optimizer, scheduler,
                        step, {"epoch": epoch, "index": index}, generator=generator)
    accelerator.wait_for_everyone()


class _Logger:
    """One JSON line per step in log.jsonl, and the same scalars in TensorBoard.

    ``start_step`` is the step the run starts from: TensorBoard hides what an earlier session
    logged after it (purge_step), as ``prepare_output_dir`` cut log.jsonl back to it."""

    def __init__(self, out_dir: Path, enabled: bool, config: TrainConfig, start_step: int = 0) -> None:
        self.enabled = enabled
        self.every = max(1, config.log_every)
        self.writer = None
        self.file = None
        if not enabled:
            return
        self.path = out_dir / LOG_FILE
        with writing(self.path, "the training log"):
            out_dir.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "a")
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(out_dir / "tensorboard"), purge_step=start_step + 1)
        except ImportError:  # tensorboard is a dependency; without it JSONL still records everything
            self.writer = None

    def log(self, step: int, epoch: int, values: dict[str, float]) -> None:
        if not self.enabled or step % self.every:
            return
        with writing(self.path, "the training log"):
            self.file.write(json.dumps({"step": step, "epoch": epoch, "time": time.time(), **values}) + "\n")
            self.file.flush()
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.writer is not None:
            self.writer.close()


def build_questions(config: TrainConfig):
    """The training questions the config names (readers in hfs.data.instruct)."""
    from hfs.data.instruct import READERS, ReadReport

    data = config.data
    if data.format == "synthetic":
        from hfs.data.synthetic import make_synthetic_set

        root = Path(config.output_dir) / "synthetic"
        items = make_synthetic_set(root, data.synthetic_videos, seed=data.synthetic_seed)
        return [item.to_question(root) for item in items]
    if data.format not in READERS:
        raise InputError(f"data.format must be one of {', '.join(READERS)}, got {data.format!r}")
    report = ReadReport()
    questions = []
    for file in data.files:
        questions += READERS[data.format](file, data.root, keep_open_ended=not data.skip_open_ended, report=report)
    return questions


def check_paths(config: TrainConfig, student: bool, teacher: bool, encoder: bool, data: bool) -> None:
    """Before any model loads: every path the config names that can only be local (not a hub
    name, see ``looks_local``) exists, else one error naming the field."""
    fields = []
    if student:
        fields.append(("student.base_lm", config.student.base_lm))
    if teacher:
        fields.append(("teacher", config.teacher))
    if encoder and config.student.encoder:
        fields.append(("student.encoder", config.student.encoder))
    if data and config.data.format != "synthetic":
        fields += [("data.root", config.data.root)] + [(f"data.files[{i}]", f) for i, f in enumerate(config.data.files)]
    for name, value in fields:
        if (name.startswith("data.") or looks_local(value)) and not Path(value).expanduser().exists():
            raise InputError(f"{name}: {value}: no such file or folder (relative paths are taken from {Path.cwd()})")


def _build_student(config: TrainConfig):
    from dataclasses import replace

    from hfs.student import HFSSelector

    return HFSSelector(replace(config.student, base_lm=resolve_model(config.student.base_lm)))


def _build_teacher(config: TrainConfig):
    from hfs.reasoning import MultimodalAnswerer

    return MultimodalAnswerer(resolve_model(config.teacher), lora_rank=config.r_teacher, mask_at=config.mask_at)
