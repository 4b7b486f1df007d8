"""``hfs_llava_vid``: lmms-eval's LLaVA-Video shown the frames hfs chooses, with their times in
its prompt. Needs what lmms-eval's own ``llava_vid`` needs (the LLaVA-NeXT package)."""

from __future__ import annotations

from typing import Any

import numpy as np
from lmms_eval.models.simple.llava_vid import LlavaVid

from hfs.integrations.lmms.selection import HfsVideoLoader


class HfsLlavaVid(HfsVideoLoader, LlavaVid):
    """lmms-eval's ``llava_vid`` with each question's frames chosen by hfs."""

    def load_video(self, video_path: Any, max_frames_num: int, fps: int, force_sample: bool = False
                   ) -> tuple[np.ndarray, str, float]:
        """(the chosen frames [k, H, W, 3] uint8, their times as LLaVA-Video's prompt lists them,
        the video's length in seconds); hfs's args replace the sampling ones."""
        chosen = self.hfs_choose(video_path)
        times = ",".join(f"{t:.2f}s" for t in chosen.choice.times)
        return np.stack(chosen.images), times, chosen.choice.duration
