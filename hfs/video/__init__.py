"""Video decoding: open a file or an image folder, find the candidate frames, decode them."""

from __future__ import annotations

from pathlib import Path
from typing import Union

from hfs.video.decode import DECODE_MODES, FileVideo
from hfs.video.folder import FrameFolder
from hfs.video.frames import Frame
from hfs.video.info import VideoInfo
from hfs.video.sampling import candidate_times, nearest_indices

VideoSource = Union[FileVideo, FrameFolder]


def open_video(path: str | Path, image_fps: float = 1.0) -> VideoSource:
    """Open a video file, or a folder of images shown at ``image_fps`` frames per second."""
    path = Path(path)
    if path.is_dir():
        return FrameFolder(path, fps=image_fps)
    return FileVideo(path)


__all__ = [
    "DECODE_MODES", "FileVideo", "Frame", "FrameFolder", "VideoInfo", "VideoSource",
    "candidate_times", "nearest_indices", "open_video",
]
