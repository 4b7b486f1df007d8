"""A multimodal LLM that answers multiple-choice questions from a few frames.

It is both the evaluation answerer (``hfs answer``, ``hfs eval``) and the training teacher
M_t: one forward gives the logits of the option letters at the answer position (the answer
is their argmax; no free text is parsed), and, on request, the last-layer hidden states
mean-pooled over each frame's visual tokens (H_t_i) and at the last prompt token (h_con).

Supported: the Qwen2-VL and Qwen2.5-VL families (each frame one image, its timestamp written
before it in the prompt), loaded with transformers' auto classes from a folder or the hub.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hfs.errors import EncoderNotAvailableError, InputError
from hfs.query.prompt import LETTERS, question_block
from hfs.report.timefmt import format_time

SUPPORTED = ("qwen2_vl", "qwen2_5_vl")
SYSTEM = "You are a helpful assistant."
INSTRUCTION = "Answer with the option's letter from the given choices directly."


@dataclass
class AnswerOutput:
    letter_logits: torch.Tensor  # [C] logits of the option letters A, B, ...
    probs: torch.Tensor  # [C] softmax over the letters
    answer: int  # argmax, an option index
    frame_hidden: torch.Tensor | None = None  # [k, H] pooled over each frame's visual tokens
    context_hidden: torch.Tensor | None = None  # [H] at the last prompt token

    @property
    def letter(self) -> str:
        return LETTERS[self.answer]


class MultimodalAnswerer(nn.Module):
    """Qwen2-VL / Qwen2.5-VL answering from frames; optional LoRA for training as the teacher."""

    def __init__(self, name_or_path: str, local_files_only: bool = True, device: str | None = None,
                 lora_rank: int | None = None, max_short_side: int = 448) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoTokenizer, Qwen2VLImageProcessor

        kwargs = {"local_files_only": local_files_only}
        try:
            config = AutoConfig.from_pretrained(name_or_path, **kwargs)
            if config.model_type not in SUPPORTED:
                raise InputError(f"{name_or_path}: model type {config.model_type!r} is not supported "
                                 f"(supported: {', '.join(SUPPORTED)})")
            model = AutoModelForImageTextToText.from_pretrained(name_or_path, **kwargs)
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, **kwargs)
            self.image_processor = Qwen2VLImageProcessor.from_pretrained(name_or_path, **kwargs)
        except OSError as exc:
            raise EncoderNotAvailableError(
                f"multimodal model {name_or_path!r} cannot be loaded: pass a local folder, or a hub name with network "
                f"access ({exc.__class__.__name__})") from exc
        self.name = name_or_path
        self.device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model.to(self.device_)
        for p in model.parameters():
            p.requires_grad_(False)
        self.image_token_id = config.image_token_id
        self.hidden_size = config.get_text_config().hidden_size
        self.merge = self.image_processor.merge_size
        size = getattr(self.image_processor, "size", None) or {}
        max_pixels = getattr(self.image_processor, "max_pixels", None) or size.get("longest_edge") or max_short_side**2
        self.short_side = min(max_short_side, int(math.sqrt(max_pixels)))
        self.letter_ids = [self._single_token(letter) for letter in LETTERS]
        self._frame_scale: torch.Tensor | None = None  # [visual tokens], set per forward
        self._visual(model).register_forward_hook(self._scale_visual_tokens)
        if lora_rank:
            from peft import LoraConfig, get_peft_model

            # LoRA r3 on the language model's attention only; the vision tower stays frozen.
            targets = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj)"
            model = get_peft_model(model, LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, target_modules=targets))
        self.model = model.eval()
        self._accepts = set(inspect.signature(self._base().forward).parameters)

    # -- plumbing ----------------------------------------------------------------------
    def _base(self) -> nn.Module:
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    @staticmethod
    def _visual(model: nn.Module) -> nn.Module:
        inner = getattr(model, "model", model)
        return getattr(inner, "visual", None) or model.visual

    def _single_token(self, letter: str) -> int:
        ids = self.tokenizer.encode(letter, add_special_tokens=False)
        if len(ids) != 1:
            raise InputError(f"{self.name}: option letter {letter!r} is not a single token")
        return ids[0]

    def _scale_visual_tokens(self, module, inputs, output):
        # Each selected frame's visual tokens are multiplied by its mask value m_i: exactly 1 in
        # the forward pass, but the straight-through gradient of L_CE reaches the selector.
        if self._frame_scale is None:
            return output
        scale = self._frame_scale.unsqueeze(-1)
        if isinstance(output, torch.Tensor):
            return output * scale.to(output.dtype)
        output.pooler_output = output.pooler_output * scale.to(output.pooler_output.dtype)
        return output

    # -- prompt ------------------------------------------------------------------------
    def build_inputs(self, frames: Sequence[np.ndarray], times: Sequence[float], question: str,
                     options: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids and pixel values for the chat prompt, plus each frame's token count."""
        if not frames:
            raise InputError("the answerer needs at least one frame")
        if not 2 <= len(options) <= len(LETTERS):
            raise InputError(f"a multiple-choice question needs 2 to {len(LETTERS)} options, got {len(options)}")
        images = self.image_processor(images=[np.asarray(f) for f in frames], return_tensors="pt")
        grid = images["image_grid_thw"]  # [k, 3]
        per_frame = (grid.prod(-1) // self.merge**2).tolist()
        vs, ve, pad = "<|vision_start|>", "<|vision_end|>", "<|image_pad|>"
        parts = [f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"]
        for i, (t, n) in enumerate(zip(times, per_frame)):
            parts.append(f"Frame {i + 1} at {format_time(t)}: {vs}{pad * n}{ve}\n")
        parts.append(question_block(question, options) + INSTRUCTION + "<|im_end|>\n<|im_start|>assistant\n")
        ids = self.tokenizer("".join(parts), add_special_tokens=False, return_tensors="pt")["input_ids"]
        if int((ids == self.image_token_id).sum()) != sum(per_frame):
            raise InputError(f"{self.name}: the tokenizer split the image placeholder tokens")
        return {"input_ids": ids, "pixel_values": images["pixel_values"], "image_grid_thw": grid,
                "tokens_per_frame": torch.tensor(per_frame)}

    # -- forward -----------------------------------------------------------------------
    def forward(self, frames: Sequence[np.ndarray], times: Sequence[float], question: str, options: Sequence[str],
                frame_weights: torch.Tensor | None = None, return_hidden: bool = False) -> AnswerOutput:
        """Answer one question from ``frames`` (RGB uint8, in time order) at ``times`` (s)."""
        inputs = self.build_inputs(frames, times, question, options)
        ids = inputs["input_ids"].to(self.device_)
        kwargs = {
            "input_ids": ids, "attention_mask": torch.ones_like(ids),
            "pixel_values": inputs["pixel_values"].to(self.device_), "image_grid_thw": inputs["image_grid_thw"].to(self.device_),
            "output_hidden_states": return_hidden,
        }
        if "mm_token_type_ids" in self._accepts:  # transformers >= 5 computes M-RoPE from it
            kwargs["mm_token_type_ids"] = (ids == self.image_token_id).long()
        if "logits_to_keep" in self._accepts:
            kwargs["logits_to_keep"] = 1
        if frame_weights is not None:
            self._frame_scale = torch.repeat_interleave(frame_weights.to(self.device_),
                                                        inputs["tokens_per_frame"].to(self.device_))
        try:
            out = self.model(**kwargs)
        finally:
            self._frame_scale = None
        letter_logits = out.logits[0, -1, self.letter_ids[: len(options)]].float()
        result = AnswerOutput(letter_logits=letter_logits, probs=torch.softmax(letter_logits, -1),
                              answer=int(letter_logits.argmax()))
        if return_hidden:
            hidden = out.hidden_states[-1][0]  # [T, H]
            image_pos = (ids[0] == self.image_token_id).nonzero().squeeze(-1)
            chunks = torch.split(hidden[image_pos], inputs["tokens_per_frame"].tolist())
            result.frame_hidden = torch.stack([c.mean(0) for c in chunks])
            result.context_hidden = hidden[-1]
        return result

    @torch.no_grad()
    def answer(self, frames, times, question: str, options: Sequence[str]) -> AnswerOutput:
        """Inference: no gradients."""
        return self.forward(frames, times, question, options)
