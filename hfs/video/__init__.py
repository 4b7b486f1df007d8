"""Video decoding: open a file or an image folder, find the candidate frames, decode them.

Names load on first use (``hfs.lazy``), so ``hfs.video.modes`` and the other light modules are
read without importing PyAV.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

from hfs.lazy import lazy_exports
from hfs.video.modes import DECODE_MODES

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "FileVideo": ".decode", "FrameFolder": ".folder", "Frame": ".frames", "VideoInfo": ".info",
    "candidate_times": ".sampling", "nearest_indices": ".sampling",
})

if TYPE_CHECKING:
    from hfs.video.decode import FileVideo
    from hfs.video.folder import FrameFolder
    from hfs.video.frames import Frame
    from hfs.video.info import VideoInfo
    from hfs.video.sampling import candidate_times, nearest_indices

VideoSource = Union["FileVideo", "FrameFolder"]


def open_video(path: str | Path, image_fps: float = 1.0) -> VideoSource:
    """Open a video file, or a folder of images shown at ``image_fps`` frames per second."""
    path = Path(path)
    if path.is_dir():
        from hfs.video.folder import FrameFolder

        return FrameFolder(path, fps=image_fps)
    from hfs.video.decode import FileVideo

    return FileVideo(path)


__all__ = [
    "DECODE_MODES", "FileVideo", "Frame", "FrameFolder", "VideoInfo", "VideoSource",
    "candidate_times", "nearest_indices", "open_video",
]
