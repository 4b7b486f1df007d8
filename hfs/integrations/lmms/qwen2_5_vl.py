"""``hfs_qwen2_5_vl``: lmms-eval's Qwen2.5-VL chat model shown the frames hfs chooses."""

from __future__ import annotations

from typing import Any

from lmms_eval.models.chat.qwen2_5_vl import Qwen2_5_VL

from hfs.integrations.lmms.qwen import HfsQwenVL


class HfsQwen2_5_VL(HfsQwenVL, Qwen2_5_VL):
    """lmms-eval's ``qwen2_5_vl`` (chat) with each question's frames chosen by hfs.

    Qwen2.5-VL places the frames in time by their average rate (the metadata's frame indices
    over the source fps), not frame by frame."""

    hfs_patch_size = 14

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # not None: lmms-eval then skips probing the file for a uniform frame count, moot here
        # (the frames and their metadata are replaced in the processor call)
        self.fps = 1.0
