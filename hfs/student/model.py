"""HFSSelector: the trainable student of SPEC.md around any Hugging Face causal LM.

One base LM (frozen) carries two LoRA adapters, switched per pass:
  1. "task_analyzer" reads COT_PROMPT + question (+ options) -> K query vectors;
  2. "context_aggregator" reads [E_v; E_qa; q_task_1..K; q_agg] -> the fused query.
A projector maps frame embeddings to the LM width, MLP_s scores [frame ; fused query], and
Gumbel-TopK turns the scores into a k-frame mask. Only the adapters, the projector, q_agg and
MLP_s are trainable; ``save_pretrained`` writes just those (safetensors) plus a JSON config.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from hfs.atomic import atomic_file, write_text_atomic
from hfs.errors import HfsError, InputError
from hfs.weights import check_model_folder, check_safetensors, invalid_weights, load_errors
from hfs.query.aggregator import aggregator_inputs
from hfs.query.cot import gather_queries, tokenize_prompted
from hfs.query.prompt import PROMPT_VERSION
from hfs.query.separation import separation_loss
from hfs.scoring.mlp import FrameScorer
from hfs.selection.gumbel import GumbelTopK
from hfs.selection.objective_torch import set_objective
from hfs.student.config import StudentConfig

ADAPTERS = ("task_analyzer", "context_aggregator")
CONFIG_FILE = "hfs_student.json"
WEIGHTS_FILE = "hfs_student.safetensors"


@dataclass
class StudentOutput:
    scores: torch.Tensor  # [B, N] s_i
    soft_mask: torch.Tensor  # [B, N]
    hard_mask: torch.Tensor  # [B, N]
    mask: torch.Tensor  # [B, N] straight-through
    indices: torch.Tensor  # [B, k] ascending
    queries: torch.Tensor  # [B, K, H]
    fused: torch.Tensor  # [B, H]
    losses: dict[str, torch.Tensor] = field(default_factory=dict)  # F, rel, cov, red, L_sep (batch means)


class HFSSelector(nn.Module):
    """Student selector M_s: frame embeddings + question -> frame scores and a k-frame mask."""

    def __init__(self, config: StudentConfig, lm: nn.Module | None = None, tokenizer=None,
                 local_files_only: bool = True) -> None:
        super().__init__()
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config
        if lm is None:
            check_model_folder(config.base_lm, "student base LM")
        try:
            lm = lm if lm is not None else AutoModelForCausalLM.from_pretrained(
                config.base_lm, local_files_only=local_files_only, use_safetensors=True)
            self.tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(
                config.base_lm, local_files_only=local_files_only)
        except load_errors() as exc:
            raise invalid_weights(config.base_lm, "student base LM", exc) from exc
        except (OSError, ValueError) as exc:
            raise HfsError(f"student base LM {config.base_lm!r} cannot be loaded: {exc}") from exc
        for p in lm.parameters():
            p.requires_grad_(False)

        def lora(rank: int) -> LoraConfig:
            return LoraConfig(r=rank, lora_alpha=config.lora_alpha_ratio * rank, lora_dropout=config.lora_dropout,
                              target_modules=list(config.lora_targets), bias="none")

        self.lm = get_peft_model(lm, lora(config.r_task), adapter_name=ADAPTERS[0])
        self.lm.add_adapter(ADAPTERS[1], lora(config.r_agg))
        width = lm.config.hidden_size
        self.width = width
        self.projector = nn.Sequential(nn.Linear(config.frame_dim, width), nn.GELU(), nn.Linear(width, width))
        self.q_agg = nn.Parameter(torch.randn(width) * 0.02)
        self.scorer = FrameScorer(width, config.scorer_hidden, config.scorer_input)
        self.topk = GumbelTopK(tau=config.tau_start)
        self._use_adapter(ADAPTERS[0])

    # -- the two passes ----------------------------------------------------------------
    def _decoder(self) -> nn.Module:
        """The LM body without its vocabulary head: hidden states only, no [T, vocab] logits."""
        causal = self.lm.get_base_model()
        return getattr(causal, causal.base_model_prefix)

    def _use_adapter(self, name: str) -> None:
        self.lm.set_adapter(name)
        # peft freezes the adapters it is not using; both must keep learning within one step.
        for pname, p in self.lm.named_parameters():
            if "lora_" in pname:
                p.requires_grad_(True)

    def task_queries(self, questions: Sequence[str], options: Sequence[Sequence[str] | None]):
        """Pass 1 -> (queries [B, K, H], token ids of each question block)."""
        ids, mask, prompt_len, q_lens, q_ids = tokenize_prompted(self.tokenizer, questions, options)
        device = self.q_agg.device
        if self.config.num_queries <= 0:
            return self.q_agg.new_zeros((len(questions), 0, self.width)), q_ids
        self._use_adapter(ADAPTERS[0])
        hidden = self._decoder()(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
        return gather_queries(hidden, prompt_len, q_lens, self.config.num_queries), q_ids

    def fuse(self, frames: torch.Tensor, q_ids: Sequence[list[int]], queries: torch.Tensor) -> torch.Tensor:
        """Pass 2: projected frames [B, N, H] + question tokens + queries -> fused query [B, H]."""
        self._use_adapter(ADAPTERS[1])
        embed = self.lm.get_input_embeddings()
        dtype = embed.weight.dtype
        qa = [embed(torch.tensor(ids, dtype=torch.long, device=frames.device)) for ids in q_ids]
        inputs, mask, last = aggregator_inputs(frames.to(dtype), qa, queries.to(dtype), self.q_agg.to(dtype))
        hidden = self._decoder()(inputs_embeds=inputs, attention_mask=mask).last_hidden_state
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]

    # -- forward -----------------------------------------------------------------------
    def forward(
        self,
        frame_embeddings: torch.Tensor,
        questions: Sequence[str],
        options: Sequence[Sequence[str] | None] | None = None,
        times: torch.Tensor | None = None,
        k: int = 16,
        generator: torch.Generator | None = None,
        tau: float | None = None,
    ) -> StudentOutput:
        """frame_embeddings [B, N, D] (unit vectors), B questions -> scores, masks and losses.

        ``times`` [B, N] seconds are needed only when the objective's positions are seconds.
        """
        if frame_embeddings.dim() != 3 or frame_embeddings.shape[-1] != self.config.frame_dim:
            raise InputError(f"frame embeddings must be [B, N, {self.config.frame_dim}], "
                             f"got {tuple(frame_embeddings.shape)}")
        b, n, _ = frame_embeddings.shape
        if len(questions) != b:
            raise InputError(f"{len(questions)} questions for a batch of {b} videos")
        options = list(options) if options is not None else [None] * b
        queries, q_ids = self.task_queries(questions, options)
        self._check_length(n, q_ids)
        frames = self.projector(frame_embeddings.to(self.q_agg.dtype))  # [B, N, H]
        fused = self.fuse(frames, q_ids, queries).to(frames.dtype)
        scores = self.scorer(frames, fused)  # [B, N]
        masks = self.topk(scores, k, generator=generator, tau=tau)
        if self.config.objective.positions == "seconds":
            if times is None:
                raise InputError("objective positions are seconds: pass the candidates' times")
            positions = times.to(scores.device)
        else:
            positions = torch.arange(n, device=scores.device)
        # F on per-video z-scores, as in the training-free path (SPEC.md): on raw scores Rel
        # and Cov grow without bound by scaling every score up, which -F in the loss rewards.
        # One candidate has no spread: its z-score is 0 (std of one value is undefined).
        spread = scores.std(-1, keepdim=True).clamp_min(1e-6) if n > 1 else torch.ones_like(scores)
        z = (scores - scores.mean(-1, keepdim=True)) / spread
        terms = set_objective(z, masks.mask, positions, self.config.objective, embeddings=frame_embeddings.to(scores.device), k=k)
        losses = {name: value.mean() for name, value in terms.items()}
        losses["L_sep"] = separation_loss(queries)
        return StudentOutput(scores=scores, soft_mask=masks.soft, hard_mask=masks.hard, mask=masks.mask,
                             indices=masks.indices, queries=queries, fused=fused, losses=losses)

    def _check_length(self, n: int, q_ids: Sequence[list[int]]) -> None:
        """The aggregator reads N frames + question tokens + K queries + q_agg as one sequence,
        which must fit the base LM's positions (nothing else depends on N)."""
        if n < 1:
            raise InputError("the student needs at least one candidate frame to score")
        limit = getattr(self.lm.get_base_model().config, "max_position_embeddings", None)
        longest = n + max(len(ids) for ids in q_ids) + self.config.num_queries + 1
        if limit and longest > limit:
            raise InputError(
                f"{n} candidate frames do not fit the student's base LM {self.config.base_lm}: with the question "
                f"and queries the aggregator would read {longest} positions, the LM takes {limit}; "
                f"use at most {limit - (longest - n)} candidates")

    @torch.no_grad()
    def score_frames(self, frame_embeddings, question: str, options: Sequence[str] | None = None) -> torch.Tensor:
        """Inference: one video's frame embeddings [N, D] -> scores [N] (no noise, no grad).

        Any N >= 1 works whatever N the student was trained with: no part is sized by N (the
        frames are N input positions of the aggregator LM, the scorer is per frame). The cost
        grows with N (attention over N + question tokens), and N plus the question must fit the
        base LM's ``max_position_embeddings`` (32,768 for Qwen2.5), else an ``InputError`` says
        how many candidates fit.
        """
        was_training = self.training
        self.eval()
        try:
            emb = torch.as_tensor(frame_embeddings, dtype=torch.float32, device=self.q_agg.device)
            if emb.dim() != 2 or emb.shape[-1] != self.config.frame_dim:
                raise InputError(f"frame embeddings must be [N, {self.config.frame_dim}], got {tuple(emb.shape)}")
            emb = emb.unsqueeze(0)  # [1, N, D]
            queries, q_ids = self.task_queries([question], [list(options) if options else None])
            self._check_length(emb.shape[1], q_ids)
            frames = self.projector(emb)
            fused = self.fuse(frames, q_ids, queries).to(frames.dtype)
            return self.scorer(frames, fused)[0]
        finally:
            self.train(was_training)

    # -- parameters and checkpoints ----------------------------------------------------
    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """The trainable parts only: both adapters, projector, q_agg, MLP_s."""
        from peft import get_peft_model_state_dict

        state: dict[str, torch.Tensor] = {}
        for name in ADAPTERS:
            for key, value in get_peft_model_state_dict(self.lm, adapter_name=name).items():
                state[f"adapters.{name}.{key}"] = value
        for prefix, module in (("projector", self.projector), ("scorer", self.scorer)):
            for key, value in module.state_dict().items():
                state[f"{prefix}.{key}"] = value
        state["q_agg"] = self.q_agg.data
        return {k: v.detach().contiguous().cpu() for k, v in state.items()}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Inverse of ``trainable_state_dict``."""
        from peft import set_peft_model_state_dict

        for name in ADAPTERS:
            prefix = f"adapters.{name}."
            adapter = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            set_peft_model_state_dict(self.lm, adapter, adapter_name=name)
        self.projector.load_state_dict({k[10:]: v for k, v in state.items() if k.startswith("projector.")})
        self.scorer.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("scorer.")})
        self.q_agg.data.copy_(state["q_agg"])

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write hfs_student.json + hfs_student.safetensors (trainable parts only), atomically."""
        from safetensors.torch import save_file

        directory = Path(directory)
        meta = {"format": "hfs-student", "version": 1, "config": self.config.to_dict()}
        with atomic_file(directory / WEIGHTS_FILE) as tmp:
            save_file(self.trainable_state_dict(), str(tmp), metadata={"format": "pt"})
        write_text_atomic(directory / CONFIG_FILE, json.dumps(meta, indent=2))
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, base_lm: str | None = None, local_files_only: bool = True,
                        lm: nn.Module | None = None, tokenizer=None) -> HFSSelector:
        """Rebuild the student from ``save_pretrained`` output (``base_lm`` overrides the path)."""
        from safetensors.torch import load_file

        directory = Path(directory)
        cfg_file, weights = directory / CONFIG_FILE, directory / WEIGHTS_FILE
        if not cfg_file.is_file() or not weights.is_file():
            raise HfsError(f"{directory}: not an hfs student checkpoint ({CONFIG_FILE} and {WEIGHTS_FILE} needed)")
        meta = json.loads(cfg_file.read_text())
        config = StudentConfig.from_dict(meta["config"])
        if config.prompt_version != PROMPT_VERSION:
            raise HfsError(f"{directory}: trained with prompt {config.prompt_version}, this hfs has {PROMPT_VERSION}")
        if base_lm:
            config.base_lm = base_lm
        check_safetensors(weights)
        model = cls(config, lm=lm, tokenizer=tokenizer, local_files_only=local_files_only)
        model.load_trainable_state_dict(load_file(str(weights)))
        return model.eval()
