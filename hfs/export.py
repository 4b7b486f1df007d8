"""The chosen frames as request content for serving stacks: OpenAI-style chat APIs and vLLM.

``openai_content`` gives a chat message's content list: for each chosen frame a text part with
its time and an ``image_url`` part holding the frame as a base64 JPEG data URL, then the question
(with its lettered options). Any OpenAI-compatible server that takes images (OpenAI, vLLM,
SGLang, TGI, llama.cpp's server) accepts it.

``vllm_request`` gives a chat request body for vLLM's video path instead, as vLLM reads it (read at
vllm-project/vllm commit 055e47c28003156421365af985d676fc921cb075,
``vllm/frontend/processing/multimodal/media/video.py``, ``VideoMediaIO.load_base64``): the frames
as one ``video_url`` part in vLLM's JPEG-sequence form (``data:video/jpeg;base64,<frame>,...``),
and the request's top-level ``media_io_kwargs.video``, which vLLM passes to that loader.

Which vLLM builds take it: the request-level ``media_io_kwargs`` came with vLLM pull request 34778
(merged February 2026), metadata for JPEG sequences with 37301 (March 2026: ``fps`` only, frames
counted from 0), and ``frames_indices``, ``total_num_frames`` and ``duration`` with 40133 (April
2026). Builds with all three read everything below. Builds without 40133 take the k frames as k
consecutive source frames at ``fps``, so neither the frames' times nor their rate is right there,
and builds without 34778 ignore ``media_io_kwargs`` (and keep only the first 32 frames): with
those, use ``openai_content`` (image parts with their times), which every build takes.

- ``num_frames: -1``: keep every part; the loader keeps only the first ``num_frames`` (32 by
  default) otherwise;
- ``fps``: the source video's frame rate, and ``frames_indices``: each frame's index in the source,
  so that ``frames_indices / fps`` are the frames' times (Qwen3-VL writes them into the prompt);
- ``total_num_frames`` and ``duration`` of the source (Qwen2.5-VL's processor derives the rate
  it places frames at, ``len(frames_indices) / total_num_frames * fps``, from them);
- ``do_sample_frames: false``: vLLM hands it to the model's processor with that metadata, so the
  processor does not sample the frames again.

The frames' times also go in as text, for models that take no per-frame times.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hfs.errors import InputError
from hfs.query.prompt import question_block
from hfs.report.timefmt import format_time
from hfs.selection.base import source_frame_numbers

if TYPE_CHECKING:
    import numpy as np

    from hfs.selection import Selection

FORMATS = ("openai", "vllm")
DEFAULT_SHORT_SIDE = 448  # px; about what the common VLM processors resize a frame to anyway


def jpeg_base64(image: np.ndarray, quality: int = 85) -> str:
    """``image`` (RGB uint8) as a base64 JPEG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _frames(selection: Selection, short_side: int, image_fps: float) -> list[np.ndarray]:
    from hfs.report.writer import selected_frames  # decoding (PyAV, numpy) loads on first export, not on import

    return selected_frames(selection, short_side, image_fps)


def _prompt(selection: Selection) -> str:
    return question_block(selection.question or "", selection.options).rstrip("\n")


def frame_jpegs(selection: Selection, *, short_side: int = DEFAULT_SHORT_SIDE, quality: int = 85,
                image_fps: float = 1.0) -> list[str]:
    """The chosen frames, decoded from the video, as base64 JPEGs (short side ``short_side``)."""
    return [jpeg_base64(image, quality) for image in _frames(selection, short_side, image_fps)]


def image_parts(jpegs: Sequence[str], times: Sequence[float]) -> list[dict[str, Any]]:
    """"Frame i at mm:ss.s" + the frame as a JPEG ``image_url`` part, per frame."""
    parts: list[dict[str, Any]] = []
    for i, (jpeg, t) in enumerate(zip(jpegs, times)):
        parts.append({"type": "text", "text": f"Frame {i + 1} at {format_time(t)}:"})
        parts.append({"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{jpeg}"}})
    return parts


def openai_content(selection: Selection, *, short_side: int = DEFAULT_SHORT_SIDE, quality: int = 85,
                   image_fps: float = 1.0, include_question: bool = True,
                   jpegs: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """A chat message's ``content``: "Frame i at mm:ss.s" + the frame as an image, per frame.

    ``jpegs``: the chosen frames already encoded (as ``frame_jpegs`` gives them), else decoded here.
    """
    if jpegs is None:
        jpegs = frame_jpegs(selection, short_side=short_side, quality=quality, image_fps=image_fps)
    parts = image_parts(jpegs, selection.times.tolist())
    if include_question and selection.question:
        parts.append({"type": "text", "text": _prompt(selection)})
    return parts


def video_metadata(selection: Selection) -> dict[str, Any]:
    """Times, source frame indices, fps, frame count and duration of the chosen frames."""
    info = selection.info or {}
    fps = float(info.get("fps") or 0.0)
    duration = float(info.get("duration") or 0.0)
    times = [round(float(t), 4) for t in selection.times.tolist()]
    total = int(info.get("num_frames") or round(duration * fps))
    indices = source_frame_numbers(selection.times.tolist(), fps, total) if fps > 0 else list(range(len(times)))
    return {"times": times, "frame_indices": indices, "fps": fps, "total_num_frames": total, "duration": duration}


def vllm_video(selection: Selection, *, short_side: int = DEFAULT_SHORT_SIDE, quality: int = 85,
               image_fps: float = 1.0, jpegs: Sequence[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chosen frames as vLLM's JPEG-sequence ``video_url`` part, and the request's
    ``media_io_kwargs`` that tell vLLM what they are (see the module docstring); ``jpegs`` as
    for ``openai_content``."""
    if jpegs is None:
        jpegs = frame_jpegs(selection, short_side=short_side, quality=quality, image_fps=image_fps)
    video = ",".join(jpegs)
    meta = video_metadata(selection)
    part = {"type": "video_url", "video_url": {"url": f"data:video/jpeg;base64,{video}"}}
    kwargs = {"video": {
        "num_frames": -1,  # vLLM's loader keeps only the first 32 parts otherwise
        "fps": meta["fps"] if meta["fps"] > 0 else float(image_fps),
        "frames_indices": meta["frame_indices"],
        # vLLM refuses a total below the number of frames sent
        "total_num_frames": max(meta["total_num_frames"], len(jpegs), max(meta["frame_indices"], default=0) + 1),
        "duration": meta["duration"],
        "do_sample_frames": False,
    }}
    return part, kwargs


def vllm_request(selection: Selection, *, short_side: int = DEFAULT_SHORT_SIDE, quality: int = 85,
                 image_fps: float = 1.0) -> dict[str, Any]:
    """A vLLM chat-completions body: the frames as one JPEG-sequence video, its ``media_io_kwargs``
    metadata, the frames' times as text, and the question."""
    part, media_io_kwargs = vllm_video(selection, short_side=short_side, quality=quality, image_fps=image_fps)
    content: list[dict[str, Any]] = [part, {"type": "text", "text": frame_times_text(selection)}]
    if selection.question:
        content.append({"type": "text", "text": _prompt(selection)})
    return {"messages": [{"role": "user", "content": content}], "media_io_kwargs": media_io_kwargs}


def frame_times_text(selection: Selection) -> str:
    """"The video's k frames are taken at mm:ss.s, ...": their times, for models that place frames
    by an average rate (Qwen2.5-VL) rather than by each frame's own time."""
    times = ", ".join(format_time(t) for t in selection.times.tolist())
    return f"The video's {len(selection.times)} frames are taken at {times}."


def export(selection: Selection, fmt: str, **kwargs: Any) -> Any:
    """``openai``: the content list; ``vllm``: the request body. Keyword arguments as above."""
    if fmt == "openai":
        return openai_content(selection, **kwargs)
    if fmt == "vllm":
        return vllm_request(selection, **kwargs)
    raise InputError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
