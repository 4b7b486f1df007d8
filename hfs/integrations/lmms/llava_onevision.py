"""``hfs_llava_onevision``: lmms-eval's LLaVA-OneVision shown the frames hfs chooses.

lmms-eval's class needs the LLaVA-NeXT package (``llava``) and decord, as lmms-eval's own
``llava_onevision`` does; hfs decodes the chosen frames itself (PyAV).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lmms_eval.models.simple.llava_onevision import Llava_OneVision

from hfs.integrations.lmms.selection import HfsFrameSelection


class HfsLlavaOneVision(HfsFrameSelection, Llava_OneVision):
    """lmms-eval's ``llava_onevision`` with each question's frames chosen by hfs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self._hfs_setup(kwargs))
        self.video_decode_backend = "decord"  # the backend whose path calls load_video, the method replaced here

    def load_video(self, video_path: Any, max_frames_num: int) -> np.ndarray:
        """The chosen frames of ``video_path``: [k, H, W, 3] uint8 (``max_frames_num`` is hfs_k's now)."""
        return np.stack(self.hfs_choose(video_path).images)
