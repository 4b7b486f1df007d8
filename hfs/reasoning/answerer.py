"""A multimodal LLM that answers multiple-choice questions from a few frames.

It is both the evaluation answerer (``hfs answer``, ``hfs eval``) and the training teacher
M_t: one forward gives the logits of the option letters at the answer position (the answer
is their argmax; no free text is parsed), and, on request, the last-layer hidden states
mean-pooled over each frame's visual tokens (H_t_i) and at the last prompt token (h_con).

Supported, through transformers' auto classes from a folder or the hub: the Qwen2-VL and
Qwen2.5-VL families, and LLaVA-OneVision / LLaVA-Video (``hfs.reasoning.formats``).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hfs.encoders.fetch import downloads_off
from hfs.errors import EncoderNotAvailableError, InputError
from hfs.weights import check_model_folder, invalid_weights, load_errors
from hfs.query.prompt import LETTERS
from hfs.reasoning.formats import FORMATS, INSTRUCTION, SYSTEM, Subtitles, format_for

SUPPORTED = tuple(FORMATS)
# where the straight-through mask m_i meets frame i in the teacher: "vision" (the paper: the
# vision tower's output tokens are multiplied by m_i) or "layers" (each language-model layer's
# normalised input at frame i's tokens), see ``MultimodalAnswerer._scale_normed_tokens``
MASK_PLACES = ("vision", "layers")
__all__ = ["INSTRUCTION", "MASK_PLACES", "SUPPORTED", "SYSTEM", "AnswerOutput", "BatchOutput", "MultimodalAnswerer",
           "Subtitles"]

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


@dataclass
class BatchOutput:
    letter_logits: torch.Tensor  # [B, C]
    frame_hidden: list[torch.Tensor] | None = None  # per row [k_j, H]
    context_hidden: torch.Tensor | None = None  # [B, H] at each row's last prompt token


class MultimodalAnswerer(nn.Module):
    """A multimodal LLM answering from frames; optional LoRA for training as the teacher."""

    def __init__(self, name_or_path: str, local_files_only: bool = True, device: str | None = None,
                 lora_rank: int | None = None, max_short_side: int = 448, mask_at: str = "vision") -> None:
        super().__init__()
        if mask_at not in MASK_PLACES:
            raise InputError(f"mask_at must be one of {', '.join(MASK_PLACES)}, got {mask_at!r}")
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoTokenizer

        kwargs = {"local_files_only": local_files_only}
        check_model_folder(name_or_path, "multimodal model")
        try:
            config = AutoConfig.from_pretrained(name_or_path, **kwargs)
            self.format = format_for(config.model_type, name_or_path)(name_or_path, config, max_short_side, **kwargs)
            model = AutoModelForImageTextToText.from_pretrained(name_or_path, use_safetensors=True, **kwargs)
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, **kwargs)
        except load_errors() as exc:
            raise invalid_weights(name_or_path, "multimodal model", exc) from exc
        except OSError as exc:
            if local_files_only and not Path(name_or_path).expanduser().exists():
                raise EncoderNotAvailableError(
                    f"multimodal model {name_or_path!r} is neither a local folder nor in the Hugging Face cache, and "
                    "it is fetched only when asked: add --allow-download (hfs answer, hfs eval) to download it"
                    + (" (with HF_HUB_OFFLINE unset and without --offline)" if downloads_off() else "")
                    + ", or pass a local folder") from exc
            raise EncoderNotAvailableError(
                f"multimodal model {name_or_path!r} cannot be loaded: pass a local folder, or a hub name with network "
                f"access ({exc.__class__.__name__})") from exc
        self.name = name_or_path
        self.device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model.to(self.device_)
        for p in model.parameters():
            p.requires_grad_(False)
        self.hidden_size = config.get_text_config().hidden_size
        self.short_side = self.format.short_side
        self.letter_ids = [self._single_token(letter) for letter in LETTERS]
        self._frame_scale: torch.Tensor | None = None  # [k], set per forward
        self._per_frame: list[int] = []
        self._token_scale: torch.Tensor | None = None  # [T], "layers": m_i at frame i's tokens, else 1
        if mask_at == "vision":
            self.format.hooked_module(model).register_forward_hook(self._scale_visual_tokens)
        else:
            for norm in _layer_input_norms(model):
                norm.register_forward_hook(self._scale_normed_tokens)
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
        return self.format.scale(output, self._frame_scale, self._per_frame)

    def _scale_normed_tokens(self, module, inputs, output):
        # mask_at "layers": the normalised input of every language-model layer (what its attention
        # and MLP read) is multiplied by m_i at frame i's tokens, so the mask reaches the keys and
        # values of each layer and no RMSNorm can divide it out.
        scale = self._token_scale
        if scale is None or output.shape[-2] != scale.shape[0]:
            return output
        return output * scale.to(output.dtype).unsqueeze(-1)

    # -- prompt ------------------------------------------------------------------------
    def build_inputs(self, frames: Sequence[np.ndarray], times: Sequence[float], question: str,
                     options: Sequence[str], subtitles: Subtitles | None = None) -> dict[str, torch.Tensor]:
        """The model's inputs for the chat prompt (ids, pixels), plus each frame's token count;
        ``subtitles`` go into the prompt as their protocol places them."""
        if not frames:
            raise InputError("the answerer needs at least one frame")
        if len(times) != len(frames):
            raise InputError(f"{len(frames)} frames but {len(times)} times")
        if not 2 <= len(options) <= len(LETTERS):
            raise InputError(f"a multiple-choice question needs 2 to {len(LETTERS)} options, got {len(options)}")
        inputs, per_frame = self.format.build(self.tokenizer, frames, times, question, options, subtitles)
        if len(self.format.visual_positions(inputs["input_ids"][0])) != sum(per_frame):
            raise InputError(f"{self.name}: the tokenizer split the visual placeholder tokens")
        inputs["tokens_per_frame"] = torch.tensor(per_frame)
        return inputs

    # -- forward -----------------------------------------------------------------------
    def forward(self, frames: Sequence[np.ndarray], times: Sequence[float], question: str, options: Sequence[str],
                frame_weights: torch.Tensor | None = None, return_hidden: bool = False,
                subtitles: Subtitles | None = None) -> AnswerOutput:
        """Answer one question from ``frames`` (RGB uint8, in time order) at ``times`` (s);
        ``frame_weights`` [k] is the straight-through mask m_i (training); ``subtitles`` are the
        lines a benchmark's with-subtitle protocol shows beside these frames."""
        kwargs, per_frame = self._model_inputs([self.build_inputs(frames, times, question, options, subtitles)],
                                               return_hidden)
        ids = kwargs["input_ids"]
        if frame_weights is not None:
            self._frame_scale, self._per_frame = frame_weights.to(self.device_), per_frame[0]
            self._token_scale = torch.ones(ids.shape[-1], dtype=frame_weights.dtype, device=self.device_).index_put(
                (self.format.visual_positions(ids[0]),),
                torch.repeat_interleave(self._frame_scale, torch.tensor(per_frame[0], device=self.device_)))
        try:
            out = self.model(**kwargs)
        finally:
            self._frame_scale = self._token_scale = None
        row = self._read(out, ids, per_frame, len(options), return_hidden)
        letter_logits = row.letter_logits[0]
        return AnswerOutput(letter_logits=letter_logits, probs=torch.softmax(letter_logits, -1),
                            answer=int(letter_logits.argmax()),
                            frame_hidden=row.frame_hidden[0] if return_hidden else None,
                            context_hidden=row.context_hidden[0] if return_hidden else None)

    def forward_batch(self, questions: Sequence[tuple], return_hidden: bool = False) -> BatchOutput:
        """Answer several questions in one forward: each a ``(frames, times, question, options)``
        tuple, all with the same number of options. Rows are padded on the left, so the last
        position is each row's answer position; no frame mask (pre-training, evaluation)."""
        if not questions:
            raise InputError("forward_batch needs at least one question")
        choices = {len(q[3]) for q in questions}
        if len(choices) > 1:
            raise InputError(f"every question of a batch needs the same number of options, got {sorted(choices)}")
        kwargs, per_frame = self._model_inputs([self.build_inputs(*q) for q in questions], return_hidden)
        return self._read(self.model(**kwargs), kwargs["input_ids"], per_frame, choices.pop(), return_hidden)

    def _model_inputs(self, built: list[dict[str, torch.Tensor]],
                      return_hidden: bool) -> tuple[dict[str, torch.Tensor], list[list[int]]]:
        """``build_inputs`` outputs as the model's keyword arguments (one row each), and each row's
        visual tokens per frame."""
        per_frame = [b.pop("tokens_per_frame").tolist() for b in built]
        kwargs = {n: v.to(self.device_) for n, v in self.format.collate(built, self.tokenizer.pad_token_id).items()}
        ids = kwargs["input_ids"]  # [B, T]
        kwargs.update(output_hidden_states=return_hidden,
                      **{n: v.to(self.device_) for n, v in self.format.extra_inputs(ids, self._accepts).items()})
        if "logits_to_keep" in self._accepts:
            kwargs["logits_to_keep"] = 1
        return kwargs, per_frame

    def _read(self, out, ids: torch.Tensor, per_frame: list[list[int]], choices: int,
              return_hidden: bool) -> BatchOutput:
        """The option letters' logits at each row's last position; with ``return_hidden`` the
        last layer mean-pooled over each frame's visual tokens (H_t_i) and at that position (h_con)."""
        result = BatchOutput(letter_logits=out.logits[:, -1, self.letter_ids[:choices]].float())  # [B, C]
        if return_hidden:
            hidden = out.hidden_states[-1]  # [B, T, H]
            result.frame_hidden = [torch.stack([c.mean(0) for c in torch.split(
                hidden[j, self.format.visual_positions(ids[j])], counts)]) for j, counts in enumerate(per_frame)]
            result.context_hidden = hidden[:, -1]
        return result

    @torch.no_grad()
    def answer(self, frames, times, question: str, options: Sequence[str],
               subtitles: Subtitles | None = None) -> AnswerOutput:
        """Inference: no gradients."""
        return self.forward(frames, times, question, options, subtitles=subtitles)


def _layer_input_norms(model: nn.Module) -> list[nn.Module]:
    """The input norm of each decoder layer of the language model (``...layers.N.input_layernorm``)."""
    norms = [m for name, m in model.named_modules()
             if name.endswith("input_layernorm") and "visual" not in name and "vision" not in name]
    if not norms:
        raise InputError("the teacher's language model has no input_layernorm modules: use mask_at vision")
    return norms
