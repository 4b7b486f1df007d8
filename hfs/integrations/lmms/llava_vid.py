"""``hfs_llava_vid``: lmms-eval's LLaVA-Video shown the frames hfs chooses, with their times.

lmms-eval's class needs the LLaVA-NeXT package (``llava``) and decord, as lmms-eval's own
``llava_vid`` does; hfs decodes the chosen frames itself (PyAV).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lmms_eval.models.simple.llava_vid import LlavaVid

from hfs.integrations.lmms.selection import HfsFrameSelection


class HfsLlavaVid(HfsFrameSelection, LlavaVid):
    """lmms-eval's ``llava_vid`` with each question's frames chosen by hfs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self._hfs_setup(kwargs))
        self.video_decode_backend = "decord"  # the backend whose path calls load_video, the method replaced here

    def load_video(self, video_path: Any, max_frames_num: int, fps: int, force_sample: bool = False
                   ) -> tuple[np.ndarray, str, float]:
        """(the chosen frames [k, H, W, 3] uint8, their times as LLaVA-Video's prompt lists them,
        the video's length in seconds); the sampling arguments are hfs's now."""
        chosen = self.hfs_choose(video_path)
        times = ",".join(f"{t:.2f}s" for t in chosen.choice.times)
        return np.stack(chosen.images), times, chosen.choice.duration
