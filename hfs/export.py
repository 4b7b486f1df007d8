"""The chosen frames as request content for serving stacks: OpenAI-style chat APIs and vLLM.

``openai_content`` gives a chat message's content list: for each chosen frame a text part with
its time and an ``image_url`` part holding the frame as a base64 JPEG data URL, then the question
(with its lettered options). Any OpenAI-compatible server that takes images (OpenAI, vLLM,
SGLang, TGI, llama.cpp's server) accepts it.

``vllm_request`` gives a chat request body for vLLM's video path instead: the frames as one
``video_url`` part in vLLM's JPEG-sequence form (``data:video/jpeg;base64,<frame>,<frame>,...``),
``mm_processor_kwargs`` that stop the processor from sampling frames again, and under ``hfs`` the
metadata a video processor would otherwise guess: the frames' times, their indices in the
source video, its fps, frame count and duration.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

from hfs.errors import InputError
from hfs.query.prompt import question_block
from hfs.report.timefmt import format_time

if TYPE_CHECKING:
    import numpy as np

    from hfs.selection import Selection

FORMATS = ("openai", "vllm")
DEFAULT_SHORT_SIDE = 448  # px; about what the common VLM processors resize a frame to anyway


def _jpeg_base64(image: np.ndarray, quality: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _frames(selection: Selection, short_side: int, image_fps: float) -> list[np.ndarray]:
    from hfs.report.writer import selected_frames  # decoding (PyAV, numpy) loads on first export, not on import

    return selected_frames(selection, short_side, image_fps)


def _prompt(selection: Selection) -> str:
    return question_block(selection.question or "", selection.options).rstrip("\n")


def openai_content(selection: Selection, *, short_side: int = DEFAULT_SHORT_SIDE, quality: int = 85,
                   image_fps: float = 1.0, include_question: bool = True) -> list[dict[str, Any]]:
    """A chat message's ``content``: "Frame i at mm:ss.s" + the frame as an image, per frame."""
    parts: list[dict[str, Any]] = []
    images = _frames(selection, short_side, image_fps)
    for i, (image, t) in enumerate(zip(images, selection.times.tolist())):
        parts.append({"type": "text", "text": f"Frame {i + 1} at {format_time(t)}:"})
        parts.append({"type": "image_url",
                      "image_url": {"url": f"data:image/jpeg;base64,{_jpeg_base64(image, quality)}"}})
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
    indices = [min(int(round(t * fps)), max(total - 1, 0)) for t in times] if fps > 0 else list(range(len(times)))
    return {"times": times, "frame_indices": indices, "fps": fps, "total_num_frames": total, "duration": duration}


def vllm_request(selection: Selection, *, short_side: int = DEFAULT_SHORT_SIDE, quality: int = 85,
                 image_fps: float = 1.0) -> dict[str, Any]:
    """A vLLM chat-completions body: the frames as one JPEG-sequence video plus their metadata."""
    images = _frames(selection, short_side, image_fps)
    video = ",".join(_jpeg_base64(image, quality) for image in images)
    meta = video_metadata(selection)
    # the rate at which the k frames were, on average, taken: what Qwen-style processors use
    # to place them in time (their temporal position ids)
    sampled_fps = len(images) / meta["duration"] if meta["duration"] > 0 else 1.0
    times = ", ".join(format_time(t) for t in meta["times"])
    content: list[dict[str, Any]] = [
        {"type": "video_url", "video_url": {"url": f"data:video/jpeg;base64,{video}"}},
        {"type": "text", "text": f"The video's {len(images)} frames are taken at {times}."},
    ]
    if selection.question:
        content.append({"type": "text", "text": _prompt(selection)})
    return {
        "messages": [{"role": "user", "content": content}],
        "mm_processor_kwargs": {"fps": round(sampled_fps, 6), "do_sample_frames": False},
        "hfs": meta,
    }


def export(selection: Selection, fmt: str, **kwargs: Any) -> Any:
    """``openai``: the content list; ``vllm``: the request body. Keyword arguments as above."""
    if fmt == "openai":
        return openai_content(selection, **kwargs)
    if fmt == "vllm":
        return vllm_request(selection, **kwargs)
    raise InputError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
