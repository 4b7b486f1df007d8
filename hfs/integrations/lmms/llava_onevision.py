"""``hfs_llava_onevision``: lmms-eval's LLaVA-OneVision shown the frames hfs chooses.

Needs what lmms-eval's own ``llava_onevision`` needs (the LLaVA-NeXT package).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lmms_eval.models.simple.llava_onevision import Llava_OneVision

from hfs.integrations.lmms.selection import HfsVideoLoader


class HfsLlavaOneVision(HfsVideoLoader, Llava_OneVision):
    """lmms-eval's ``llava_onevision`` with each question's frames chosen by hfs."""

    def load_video(self, video_path: Any, max_frames_num: int) -> np.ndarray:
        """The chosen frames of ``video_path``: [k, H, W, 3] uint8 (hfs_k replaces ``max_frames_num``)."""
        return np.stack(self.hfs_choose(video_path).images)
