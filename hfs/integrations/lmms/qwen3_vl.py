"""``hfs_qwen3_vl``: lmms-eval's Qwen3-VL chat model shown the frames hfs chooses.

Qwen3-VL writes each frame pair's time into its prompt (``<12.3 seconds>``), computed by its
processor from the frames' source indices and the source fps; those come from the video, so
the times it reads are the chosen frames' real ones.
"""

from __future__ import annotations

from lmms_eval.models.chat.qwen3_vl import Qwen3_VL

from hfs.integrations.lmms.qwen import HfsQwenVL


class HfsQwen3_VL(HfsQwenVL, Qwen3_VL):
    """lmms-eval's ``qwen3_vl`` (chat) with each question's frames chosen by hfs."""

    hfs_patch_size = 16
