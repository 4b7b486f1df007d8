"""How each multimodal LLM family takes k frames: its pixel inputs, prompt and visual tokens.

- Qwen2-VL / Qwen2.5-VL: each frame is one image, written "Frame i at mm:ss: <image tokens>";
  the vision tower's output has one row per visual token.
- LLaVA-OneVision / LLaVA-Video (transformers' ``llava_onevision``): the frames are one video
  (the model's video path: each frame resized to the tower's square input, 2x2-pooled tokens,
  one newline embedding after the last frame), preceded by a line giving the frames' times;
  the projector's output is [frames, tokens per frame, hidden].
Each format also says which module's output carries the visual tokens and how to scale them
per frame (the straight-through mask of training). Subtitles (``Subtitles``, evaluation with a
benchmark's with-subtitle protocol) enter the answering prompt only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from hfs.errors import InputError
from hfs.query.prompt import question_block
from hfs.report.timefmt import format_time

SYSTEM = "You are a helpful assistant."
INSTRUCTION = "Answer with the option's letter from the given choices directly."
SUBTITLES_HEADER = "This video's subtitles are listed below:"
NO_SUBTITLES = "No subtitles available"


@dataclass(frozen=True)
class Subtitles:
    """Subtitle lines for the answering prompt (never for the image-text query).

    ``lines`` are (seconds, text) in time order. ``interleaved`` (LongVideoBench's protocol) puts
    each line after the frames shown at or before its time; otherwise (Video-MME's) they are one
    block after the frames, before the question. ``available`` False: the video has no subtitle
    file, said as Video-MME's protocol says it.
    """

    lines: tuple[tuple[float, str], ...] = ()
    interleaved: bool = False
    available: bool = True

    def block(self, timed: bool = False) -> str:
        """The lines as one block: header and one line each (``timed``: each with its mm:ss)."""
        if not self.available:
            return f"{SUBTITLES_HEADER}\n{NO_SUBTITLES}\n"
        body = "".join((f"[{format_time(t)}] {text}\n" if timed else f"{text}\n") for t, text in self.lines)
        return f"{SUBTITLES_HEADER}\n{body}"


# Qwen2-VL's image processor refuses pictures more than 200 times wider than tall (or the
# reverse); a frame beyond that is padded with black on its short side, centred, to exactly that
# ratio, so nothing is cropped or squashed and ``hfs answer`` takes every video ``hfs select`` does.
QWEN_MAX_ASPECT = 200


def pad_to_aspect(image: np.ndarray, max_ratio: float) -> np.ndarray:
    """``image`` [H, W, C] padded with black on its shorter side, centred, so that
    max(H, W) / min(H, W) <= ``max_ratio``; returned unchanged when it already is."""
    h, w = image.shape[:2]
    need = math.ceil(max(h, w) / max_ratio)
    if min(h, w) >= need:
        return image
    pad = need - min(h, w)
    before = pad // 2
    widths = [(before, pad - before), (0, 0)] if h < w else [(0, 0), (before, pad - before)]
    return np.pad(image, widths + [(0, 0)] * (image.ndim - 2))


def collate_rows(inputs: Sequence[dict[str, torch.Tensor]], pad_id: int) -> dict[str, torch.Tensor]:
    """Several questions' ``build`` outputs (each one row) as one batch: the token ids padded on
    the left, so the last position is every row's answer position, with their attention mask;
    every pixel input concatenated in row order along its first dimension."""
    rows = [i["input_ids"][0] for i in inputs]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=rows[0].dtype)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, row in enumerate(rows):
        ids[j, width - len(row):], mask[j, width - len(row):] = row, 1
    pixels = {name: torch.cat([i[name] for i in inputs]) for name in inputs[0] if name != "input_ids"}
    return {"input_ids": ids, "attention_mask": mask, **pixels}


def place_subtitles(blocks: list[tuple[float, str]], subtitles: Subtitles | None) -> str:
    """The frames' prompt blocks (time, text) with the subtitles: each line after the frames at or
    before its time when interleaved, else one block after every frame."""
    if subtitles is None:
        return "".join(text for _, text in blocks)
    if not subtitles.interleaved or not subtitles.available:
        return "".join(text for _, text in blocks) + subtitles.block()
    # a frame goes before a line at the same time, as in LongVideoBench's interleaving
    merged = sorted([(t, 0, i, text) for i, (t, text) in enumerate(blocks)]
                    + [(t, 1, i, f"{text}\n") for i, (t, text) in enumerate(subtitles.lines)])
    return "".join(text for *_, text in merged)


def _chat(user: str) -> str:
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}"
            f"<|im_end|>\n<|im_start|>assistant\n")


class QwenVLFormat:
    """Qwen2-VL / Qwen2.5-VL: one image per frame."""

    families = ("qwen2_vl", "qwen2_5_vl")

    def __init__(self, name_or_path: str, config, max_short_side: int, **kwargs) -> None:
        from transformers import Qwen2VLImageProcessor

        self.processor = Qwen2VLImageProcessor.from_pretrained(name_or_path, **kwargs)
        self.token_id = config.image_token_id
        self.merge = self.processor.merge_size
        size = getattr(self.processor, "size", None) or {}
        max_pixels = getattr(self.processor, "max_pixels", None) or size.get("longest_edge") or max_short_side**2
        self.short_side = min(max_short_side, int(math.sqrt(max_pixels)))

    def build(self, tokenizer, frames: Sequence[np.ndarray], times: Sequence[float], question: str,
              options: Sequence[str], subtitles: Subtitles | None = None) -> tuple[dict[str, torch.Tensor], list[int]]:
        images = self.processor(images=[pad_to_aspect(np.asarray(f), QWEN_MAX_ASPECT) for f in frames],
                                return_tensors="pt")
        grid = images["image_grid_thw"]  # [k, 3]
        per_frame = (grid.prod(-1) // self.merge**2).tolist()
        blocks = [(float(t), f"Frame {i + 1} at {format_time(t)}: <|vision_start|>{'<|image_pad|>' * n}"
                             f"<|vision_end|>\n") for i, (t, n) in enumerate(zip(times, per_frame))]
        text = place_subtitles(blocks, subtitles)
        ids = tokenizer(_chat(text + question_block(question, options) + INSTRUCTION), add_special_tokens=False,
                        return_tensors="pt")["input_ids"]
        inputs = {"input_ids": ids, "pixel_values": images["pixel_values"], "image_grid_thw": grid}
        return inputs, per_frame

    collate = staticmethod(collate_rows)  # the images of every row, in order

    def visual_positions(self, ids: torch.Tensor) -> torch.Tensor:
        return (ids == self.token_id).nonzero().squeeze(-1)

    def extra_inputs(self, ids: torch.Tensor, accepts: set[str]) -> dict[str, torch.Tensor]:
        # transformers >= 5 computes the multimodal RoPE positions from it
        return {"mm_token_type_ids": (ids == self.token_id).long()} if "mm_token_type_ids" in accepts else {}

    @staticmethod
    def hooked_module(model: nn.Module) -> nn.Module:
        inner = getattr(model, "model", model)
        return getattr(inner, "visual", None) or model.visual

    @staticmethod
    def scale(output, frame_scale: torch.Tensor, per_frame: list[int]):
        scale = torch.repeat_interleave(frame_scale, torch.tensor(per_frame, device=frame_scale.device)).unsqueeze(-1)
        if isinstance(output, torch.Tensor):
            return output * scale.to(output.dtype)
        output.pooler_output = output.pooler_output * scale.to(output.pooler_output.dtype)
        return output


class LlavaOneVisionFormat:
    """LLaVA-OneVision / LLaVA-Video: the frames as one video."""

    families = ("llava_onevision",)

    def __init__(self, name_or_path: str, config, max_short_side: int, **kwargs) -> None:
        from transformers import AutoImageProcessor

        try:
            processor = AutoImageProcessor.from_pretrained(name_or_path, **kwargs)
            self.mean, self.std = np.asarray(processor.image_mean), np.asarray(processor.image_std)
        except (OSError, ValueError, ImportError):
            self.mean = self.std = np.full(3, 0.5)  # SigLIP's normalisation
        vision = config.vision_config
        self.side = vision.image_size
        grid = vision.image_size // vision.patch_size
        self.tokens = math.ceil(grid / 2) ** 2  # per frame, after the 2x2 bilinear pooling
        self.token_id = config.video_token_id
        self.short_side = self.side

    def build(self, tokenizer, frames, times, question, options, subtitles: Subtitles | None = None):
        pixels = []
        for f in frames:
            img = Image.fromarray(np.asarray(f, dtype=np.uint8)).convert("RGB").resize((self.side, self.side),
                                                                                        Image.BICUBIC)
            pixels.append((np.asarray(img, np.float32) / 255.0 - self.mean) / self.std)
        video = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).unsqueeze(0).float()  # [1, k, 3, S, S]
        when = ", ".join(format_time(t) for t in times)
        # one video: subtitles cannot sit between its frames, so they follow it as a block, timed
        # when the protocol interleaves them
        said = subtitles.block(timed=subtitles.interleaved) if subtitles is not None else ""
        user = (f"{len(frames)} frames of the video are shown, taken at {when}.\n"
                f"{'<video>' * (len(frames) * self.tokens + 1)}\n" + said + question_block(question, options)
                + INSTRUCTION)
        ids = tokenizer(_chat(user), add_special_tokens=False, return_tensors="pt")["input_ids"]
        return {"input_ids": ids, "pixel_values_videos": video}, [self.tokens] * len(frames)

    @staticmethod
    def collate(inputs: Sequence[dict[str, torch.Tensor]], pad_id: int) -> dict[str, torch.Tensor]:
        """Several questions' ``build`` outputs as one batch; the model takes one video tensor, so
        every row must show the same number of frames."""
        counts = {int(i["pixel_values_videos"].shape[1]) for i in inputs}
        if len(counts) > 1:
            raise InputError(f"a LLaVA-OneVision batch needs the same frame count in every row, got {sorted(counts)}")
        return collate_rows(inputs, pad_id)

    def visual_positions(self, ids: torch.Tensor) -> torch.Tensor:
        return (ids == self.token_id).nonzero().squeeze(-1)[:-1]  # the last one is the newline embedding

    @staticmethod
    def extra_inputs(ids, accepts):
        return {}

    @staticmethod
    def hooked_module(model: nn.Module) -> nn.Module:
        inner = getattr(model, "model", model)
        return inner.multi_modal_projector

    @staticmethod
    def scale(output, frame_scale, per_frame):
        return output * frame_scale.to(output.dtype).view(-1, 1, 1)  # output: [k, tokens, hidden]


FORMATS = {family: fmt for fmt in (QwenVLFormat, LlavaOneVisionFormat) for family in fmt.families}


def format_for(model_type: str, name: str):
    if model_type not in FORMATS:
        raise InputError(f"{name}: model type {model_type!r} is not supported (supported: {', '.join(FORMATS)})")
    return FORMATS[model_type]
