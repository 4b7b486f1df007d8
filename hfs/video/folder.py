"""A folder of images used as a video: one image per frame at a fixed frame rate."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from hfs.errors import InputError, VideoError
from hfs.video.frames import Frame, scaled_size
from hfs.video.info import VideoInfo
from hfs.video.modes import DECODE_MODES
from hfs.video.sampling import nearest_indices

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def _natural_key(path: Path) -> list[object]:
    """Sort frame_2 before frame_10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class FrameFolder:
    """Images in a folder, sorted by name with numbers compared as numbers, shown at ``fps``."""

    def __init__(self, path: str | Path, fps: float = 1.0) -> None:
        self.path = Path(path)
        if fps <= 0:
            raise VideoError(self.path, f"frame rate of an image folder must be positive, got {fps}")
        self.files = sorted(
            (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=_natural_key,
        )
        if not self.files:
            raise VideoError(self.path, "folder contains no images (.jpg, .png, ...)")
        width, height = self._open(self.files[0]).size
        self.info = VideoInfo(
            path=str(self.path), duration=len(self.files) / fps, fps=fps, width=width, height=height,
            rotation=0, num_frames=len(self.files), codec="images", kind="folder",
        )
        self._times = np.arange(len(self.files), dtype=np.float64) / fps
        self.last_mode: str | None = None  # the mode the latest frames_at call used ("seek" for auto)

    def _open(self, file: Path) -> Image.Image:
        try:
            image = Image.open(file)
            image.load()
        except (OSError, UnidentifiedImageError) as exc:
            raise VideoError(file, f"not a readable image ({exc})") from exc
        return image.convert("RGB")

    def stand_ins(self, times: Sequence[float], mode: str = "auto",
                  tolerance: float | None = None) -> tuple[np.ndarray, str]:
        """As ``FileVideo.stand_ins``: no image stands in for another (all NaN)."""
        del tolerance
        return np.full(len(np.asarray(times)), np.nan), "seek" if mode == "auto" else mode

    def frames_at(
        self, times: Sequence[float], short_side: int | None = None, mode: str = "auto", unique: bool = True,
        tolerance: float | None = None,
    ) -> Iterator[Frame]:
        """Yield the image nearest each time; same contract as ``FileVideo.frames_at``.

        Every image is a keyframe, so each mode, "keyframe" included, gives the exact frames.
        """
        if mode not in DECODE_MODES:
            raise InputError(f"decode mode must be one of {', '.join(DECODE_MODES)}, got {mode!r}")
        del tolerance  # every image is directly addressable
        self.last_mode = "seek" if mode == "auto" else mode
        targets = np.asarray(times, dtype=np.float64)
        last = None
        for i, idx in enumerate(nearest_indices(self._times, targets)):
            if unique and idx == last:
                continue
            last = idx
            image = self._open(self.files[idx])
            size = scaled_size(image.width, image.height, short_side)
            if size != image.size:
                image = image.resize(size, Image.BILINEAR)
            yield Frame(i, float(self._times[idx]), np.asarray(image, dtype=np.uint8))
