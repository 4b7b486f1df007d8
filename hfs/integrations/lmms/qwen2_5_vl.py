"""``hfs_qwen2_5_vl``: lmms-eval's Qwen2.5-VL chat model shown the frames hfs chooses."""

from __future__ import annotations

from typing import Any

from lmms_eval.models.chat.qwen2_5_vl import Qwen2_5_VL
from PIL import Image

from hfs.integrations.lmms.selection import ChosenFrames, HfsFrameSelection


class _Frames(list):
    """A video given to qwen_vl_utils as its chosen frames (PIL images), which it then resizes
    as it resizes any video."""


class _RealMetadata:
    """The model's processor, handed the chosen frames' real metadata (times as frame indices
    at the video's fps) instead of the made-up one qwen_vl_utils gives a list of frames."""

    def __init__(self, processor: Any, model: HfsQwen2_5_VL) -> None:
        self.inner, self._model = processor, model  # inner: the Hugging Face processor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __call__(self, *args: Any, videos: Any = None, video_metadata: Any = None, **kwargs: Any) -> Any:
        if videos is not None and self._model.hfs_last:
            video_metadata = [qwen_metadata(chosen) for chosen in self._model.hfs_last]
        return self.inner(*args, videos=videos, video_metadata=video_metadata, **kwargs)


def qwen_metadata(chosen: ChosenFrames) -> dict[str, Any]:
    """What transformers' Qwen video processor reads: the source fps, the frames' indices in the
    source and its frame count (their ratio gives the rate at which the frames were taken)."""
    c = chosen.choice
    fps = c.fps if c.fps > 0 else len(c.times) / max(c.duration, 1e-6)
    return {"fps": fps, "frames_indices": list(c.frame_indices), "total_num_frames": max(c.total_num_frames, 1),
            "duration": c.duration, "video_backend": "hfs"}


class HfsQwen2_5_VL(HfsFrameSelection, Qwen2_5_VL):
    """lmms-eval's ``qwen2_5_vl`` (chat) with each question's frames chosen by hfs."""

    is_simple = False
    hfs_even_frames = True  # Qwen2.5-VL's temporal patches take frames in pairs

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self._hfs_setup(kwargs))
        self.processor = _RealMetadata(self.processor, self)
        # not None: lmms-eval then skips probing the file for a uniform frame count, moot here
        # (qwen_vl_utils ignores the rate for a list of frames; the real one is in the metadata)
        self.fps = 1.0

    def _hfs_messages(self, request) -> list[dict]:
        _, doc_to_messages, _, doc_id, task, split = request.args
        return doc_to_messages(self.task_dict[task][split][doc_id])

    def _hfs_question(self, request) -> str:
        texts = [part.get("text", "") for message in self._hfs_messages(request) if message.get("role") == "user"
                 for part in message.get("content", []) if part.get("type") == "text"]
        return "\n".join(t for t in texts if t).strip()

    def _hfs_prepare(self, request):
        messages = self._hfs_messages(request)
        for message in messages:
            for part in message.get("content", []):
                if part.get("type") == "video":
                    chosen = self.hfs_choose(part["url"])
                    part["url"] = _Frames(Image.fromarray(image) for image in chosen.images)
        ctx, _, gen_kwargs, doc_id, task, split = request.args
        return type(request)(request_type=request.request_type, idx=request.idx, metadata=request.metadata,
                             arguments=(ctx, lambda doc: messages, gen_kwargs, doc_id, task, split))
