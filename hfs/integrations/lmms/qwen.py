"""What ``hfs_qwen2_5_vl`` and ``hfs_qwen3_vl`` share: the chosen frames handed to lmms-eval's
Qwen chat classes at the size their uniform path gives, with their real metadata.

lmms-eval's Qwen chat classes give qwen_vl_utils a video file, which it decodes and resizes
(``fetch_video``, qwen-vl-utils 0.0.14). Handed a list of frames instead, qwen_vl_utils resizes
each frame as an image on a grid twice as coarse (its ``fetch_image`` gets the merged patch
size as the patch size), so the frames would reach the model smaller than uniform's (-12%
tokens per frame on a 640x360 video) and with made-up metadata (frames 0..k-1 at 2 fps). So
the model's processor is wrapped: when called with videos it gets hfs's frames resized by
qwen_vl_utils' rule for a decoded video (``resize_like_qwen_vl_utils``) and their metadata from
the source (frame indices, fps, frame count, duration). hfs and uniform then differ only in
which frames are shown.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from PIL import Image

from hfs.integrations.lmms.selection import ChosenFrames, HfsFrameSelection


class _Frames(list):
    """A video given to qwen_vl_utils as the chosen frames (PIL images); what it makes of them is
    replaced in the processor call by ``_RealFrames``."""


def qwen_metadata(chosen: ChosenFrames) -> dict[str, Any]:
    """What transformers' Qwen video processors read: the source fps and the frames' indices in
    the source (Qwen3-VL writes each frame pair's time, index / fps, into the prompt; Qwen2.5-VL
    uses their average rate), the source's frame count and duration."""
    c = chosen.choice
    fps = c.fps if c.fps > 0 else len(c.times) / max(c.duration, 1e-6)
    return {"fps": fps, "frames_indices": list(c.frame_indices), "total_num_frames": max(c.total_num_frames, 1),
            "duration": c.duration, "video_backend": "hfs"}


def resize_like_qwen_vl_utils(images: list[np.ndarray], patch_size: int, min_pixels: int | None = None,
                              max_pixels: int | None = None, total_pixels: int | None = None) -> torch.Tensor:
    """[T, 3, H', W'] float frames, sized as qwen_vl_utils sizes a decoded video of T frames
    for a video element carrying these pixel args (qwen-vl-utils 0.0.14,
    ``vision_process.fetch_video``: per-frame pixels between min_pixels and the smaller of
    max_pixels, the per-frame token cap and the total budget split over the frames; bicubic,
    antialiased), so they match lmms-eval's uniform path exactly."""
    from qwen_vl_utils import vision_process as qv
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as tf

    video = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    frames, _, height, width = video.shape
    factor = patch_size * qv.SPATIAL_MERGE_SIZE
    low = min_pixels if min_pixels is not None else qv.VIDEO_MIN_TOKEN_NUM * factor * factor
    total = total_pixels if total_pixels is not None else qv.MODEL_SEQ_LEN * factor * factor * 0.9
    high = max(min(qv.VIDEO_MAX_TOKEN_NUM * factor * factor, total / frames * qv.FRAME_FACTOR), int(low * 1.05))
    if max_pixels is not None:
        high = min(max_pixels, high)
    h, w = qv.smart_resize(height, width, factor=factor, min_pixels=low, max_pixels=math.floor(high))
    return tf.resize(video, [h, w], interpolation=InterpolationMode.BICUBIC, antialias=True).float()


class _RealFrames:
    """The model's processor, handed hfs's frames (``resize_like_qwen_vl_utils``) and their real
    metadata instead of what qwen_vl_utils made of a list of frames."""

    def __init__(self, processor: Any, model: HfsQwenVL) -> None:
        self.inner, self._model = processor, model  # inner: the Hugging Face processor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __call__(self, *args: Any, videos: Any = None, video_metadata: Any = None, **kwargs: Any) -> Any:
        shown = self._model.hfs_last
        if videos is not None and shown:
            videos = [self._model.hfs_pixels(chosen) for chosen in shown]
            video_metadata = [qwen_metadata(chosen) for chosen in shown]
        return self.inner(*args, videos=videos, video_metadata=video_metadata, **kwargs)


class HfsQwenVL(HfsFrameSelection):
    """Mixin for lmms-eval's Qwen-VL chat classes (put before the class)."""

    is_simple = False
    hfs_even_frames = True  # Qwen's temporal patches take frames in pairs
    hfs_patch_size = 14  # the vision tower's patch (qwen_vl_utils' ``image_patch_size``)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self._hfs_setup(kwargs))
        self.processor = _RealFrames(self.processor, self)

    def hfs_pixels(self, chosen: ChosenFrames) -> torch.Tensor:
        """The chosen frames as the uniform path would size them with this model's args."""
        return resize_like_qwen_vl_utils(chosen.images, self.hfs_patch_size, self.min_pixels, self.max_pixels,
                                         getattr(self, "total_pixels", None))

    def _hfs_messages(self, request, doc: Any) -> list[dict]:
        doc_to_messages = request.args[1]
        return doc_to_messages(doc)

    def _hfs_prompt(self, request, doc: Any) -> str:
        texts = [part.get("text", "") for message in self._hfs_messages(request, doc) if message.get("role") == "user"
                 for part in message.get("content", []) if isinstance(part, dict) and part.get("type") == "text"]
        return "\n".join(t for t in texts if t).strip()

    def _hfs_prepare(self, request):
        _, _, gen_kwargs, doc_id, task, split = request.args
        doc = self.task_dict[task][split][doc_id]
        messages = self._hfs_messages(request, doc)
        parts = [part for message in messages for part in message.get("content", []) if isinstance(part, dict)]
        for part in parts:
            if part.get("type") == "video":
                chosen = self.hfs_choose(part["url"])
                part["url"] = _Frames(Image.fromarray(image) for image in chosen.images)
        for part in parts:  # once every video's frames are chosen: the subtitles at them
            if part.get("type") == "text":
                part["text"] = self.hfs_subtitled(part.get("text", ""), doc)
        return type(request)(request_type=request.request_type, idx=request.idx, metadata=request.metadata,
                             arguments=(request.args[0], lambda doc: messages, gen_kwargs, doc_id, task, split))
