"""Video metadata read once when a source is opened."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class VideoInfo:
    """What hfs knows about a video before decoding it.

    ``duration`` is the video stream's own (not the container's, which an audio track may
    outlast); ``fps`` comes from the container (``fps`` is the average rate, so it is
    only a guide on variable-frame-rate videos); ``width``/``height`` are the displayed size,
    i.e. after ``rotation`` (counter-clockwise degrees from the display matrix) is applied.
    """

    path: str
    duration: float
    fps: float
    width: int
    height: int
    rotation: int = 0
    num_frames: int = 0  # from the container; 0 when it does not say
    codec: str = ""
    kind: str = "file"  # "file" or "folder" (images as video)
    stream_index: int = 0  # the container stream decoded (the default one when there are several)
    video_streams: int = 1  # video streams in the container, cover pictures not counted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
