"""Shot scan: one forward pass over a video's reference frames that finds where its content
changes and keeps a candidate frame at the start of every shot and along long shots.

Decoding: the decoder skips bidirectional frames (``skip_frame = "BIDIR"``), which nothing else
refers to in most streams, so only I and P frames are decoded (a stream without B-frames simply
decodes every frame). Nothing seeks; every frame keeps its own presentation time.

Signature: each decoded frame is summarised by ``SAMPLES`` x ``SAMPLES`` pixels sampled on an
even grid of each of its Y, U and V planes, read straight from the decoded planes (honouring
their line size), so no colour conversion runs per frame. Pixel formats other than the 8-bit
planar YUV ones, and frames under 64 pixels a side, are first converted to a 64 x 64 yuv420p picture.

Cut detector (in the spirit of PySceneDetect's adaptive content detector, written anew): the
distance between two consecutive decoded frames is the mean absolute difference of their
signatures (0-255). A decoded frame starts a new shot when its distance to the one before is at
least ``MIN_CHANGE`` and at least ``CHANGE_RATIO`` times the video's typical distance, the
mean over the ``TYPICAL_WINDOW`` decoded frames before it, or those there are (so steady camera
motion or noise, which raise every distance alike, do not read as cuts; a still video's typical
distance is 0, and the second decoded frame is judged on ``MIN_CHANGE`` alone).

Kept frames: the first decoded frame of every shot, and a fill frame (the first decoded one) once
the last kept frame lies ``fill_seconds`` back, or less where the kept frames would otherwise fall
short of ``min_frames``: after a frame kept at time t with K kept so far, the next fill frame comes
``min(fill_seconds, (duration - t) / (min_frames - K + 1))`` later. So no long shot goes without
candidates, and a video gets about ``min_frames`` however few shots it has. They are
converted to RGB at the requested short side in the same pass (``FileVideo.to_array``). At most
``max_frames`` are kept, spread over the video: by time t no more than
``max_frames * (t + fill_seconds) / duration`` (a strobe of cuts cannot use up the budget early).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import av
import numpy as np

from hfs.video.frames import Frame

if TYPE_CHECKING:
    from hfs.video.decode import FileVideo

SCAN_VERSION = 1  # bump when the same settings would keep other frames (saved scans are then not reused)
SAMPLES = 16  # signature grid per plane (SAMPLES x SAMPLES pixels of each of Y, U, V)
MIN_CHANGE = 12.0  # mean absolute difference (0-255) below which no change is a cut
CHANGE_RATIO = 3.0  # a cut's distance is at least this many times the typical distance
TYPICAL_WINDOW = 15  # decoded frames whose mean distance is the typical one
# planar 8-bit formats whose first three planes (Y, U, V) are read directly
_DIRECT_FORMATS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p", "yuvj440p",
                   "yuv411p", "yuv410p"}
_BATCH_BYTES = 32 << 20  # decoded frames held back and tested for cuts together: this many bytes of them
_BATCH_FRAMES = (4, 64)  # ... and no fewer or more frames than these
# Frames read directly are at least this many pixels a side (so every chroma plane, a quarter
# of the width at most, has SAMPLES pixels a side); others are converted to a yuv420p picture this size.
_TINY = 4 * SAMPLES


class Signatures:
    """Writes frames' signatures (rule: module docstring), remembering per picture size where each
    plane's samples lie (or that it goes through a tiny yuv420p copy)."""

    def __init__(self) -> None:
        self._reformatter = av.video.reformatter.VideoReformatter()
        self._size: tuple[int, int] | None = None
        self._direct = True
        self._where: list[np.ndarray] = []  # per plane: [SAMPLES * SAMPLES] offsets into its buffer

    def _layout(self, frame: av.VideoFrame) -> None:
        self._size = (frame.width, frame.height)
        self._direct = frame.format.name in _DIRECT_FORMATS and min(frame.width, frame.height) >= _TINY
        self._where = []
        for plane in self._planes(frame)[:3]:
            height, width = plane.height, plane.width
            rows = (np.arange(SAMPLES) * height + height // 2) // SAMPLES  # the blocks' centres
            cols = (np.arange(SAMPLES) * width + width // 2) // SAMPLES
            self._where.append((rows[:, None] * plane.line_size + cols[None, :]).ravel())

    def _planes(self, frame: av.VideoFrame) -> tuple:
        if self._direct:
            return frame.planes
        return self._reformatter.reformat(frame, width=_TINY, height=_TINY, format="yuv420p").planes

    def __call__(self, frame: av.VideoFrame, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` [3, SAMPLES * SAMPLES] uint8 with ``frame``'s signature and return it."""
        if self._size != (frame.width, frame.height):
            self._layout(frame)
        planes = frame.planes if self._direct else self._planes(frame)
        where = self._where
        out[0] = np.frombuffer(planes[0], np.uint8)[where[0]]
        out[1] = np.frombuffer(planes[1], np.uint8)[where[1]]
        out[2] = np.frombuffer(planes[2], np.uint8)[where[2]]
        return out


@dataclass
class CutDetector:
    """Finds where shots start, a batch of consecutive frames at a time (rule: module docstring)."""

    min_change: float = MIN_CHANGE
    ratio: float = CHANGE_RATIO
    window: int = TYPICAL_WINDOW
    _previous: np.ndarray | None = None  # [L] the last signature seen
    _recent: np.ndarray = field(default_factory=lambda: np.zeros(0))  # up to ``window`` last distances

    def update(self, signatures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the next frames' ``signatures`` [n, L] (uint8): whether each starts a shot [n] and
        its distance to the frame before [n]. The first frame of the video starts the first
        shot (distance inf)."""
        sigs = signatures.astype(np.int16)  # [n, L]
        first = self._previous is None or self._previous.shape[0] != sigs.shape[1]
        before = sigs[:1] if first else self._previous[None]
        distance = np.abs(np.diff(sigs, axis=0, prepend=before)).sum(axis=1) / sigs.shape[1]  # [n]
        self._previous = sigs[-1]
        # typical[i]: mean of the (up to ``window``) distances before frame i; 0 with none yet
        own = len(self._recent) - (1 if first else 0)  # frame i's distance is prior[own + i]
        prior = np.concatenate([self._recent, distance[1:] if first else distance])
        sums = np.concatenate([[0.0], np.cumsum(prior)])  # sums[j] = sum of prior[:j]
        end = np.maximum(own + np.arange(len(distance)), 0)
        start = np.maximum(end - self.window, 0)
        typical = (sums[end] - sums[start]) / np.maximum(end - start, 1)
        if first:
            distance[0] = np.inf
        cut = (distance >= self.min_change) & (distance >= self.ratio * typical)
        self._recent = prior[-self.window:]
        return cut, distance


@dataclass
class ShotScan:
    """What one scan found: every decoded frame's time, the shots' start times, the kept frames' times."""

    decoded: list[float] = field(default_factory=list)  # true times (video seconds) of every decoded frame
    cuts: list[float] = field(default_factory=list)  # start time of each shot (its first decoded frame)
    kept: list[float] = field(default_factory=list)  # times of the frames yielded as candidates
    frames_total: int = 0  # frames in the video (from its metadata), decoded or skipped


def scan_shots(video: FileVideo, short_side: int | None, fill_seconds: float, max_frames: int, min_frames: int = 0,
               found: ShotScan | None = None, detector: CutDetector | None = None) -> Iterator[Frame]:
    """Yield the kept frames of one forward pass over ``video``, ascending and unique in time,
    converted to RGB at ``short_side`` (``Frame.index`` counts them); ``found`` (when given) is
    filled as it goes. The rule for which frames are kept: module docstring.

    Raises ``VideoError`` if decoding fails or the frames end well before the video's stated end.
    """
    found = found if found is not None else ShotScan()
    detector = detector or CutDetector()
    duration = max(video.info.duration, 1e-9)
    found.frames_total = int(video.info.num_frames or 0)
    signature = Signatures()
    next_fill = 0.0  # a decoded frame from this time on is kept as a fill frame
    pending: list[tuple[av.VideoFrame, float]] = []
    frame_bytes = max(1, video.info.width * video.info.height * 3 // 2)  # a yuv420p picture
    batch = int(np.clip(_BATCH_BYTES // frame_bytes, *_BATCH_FRAMES))
    sigs = np.empty((batch, 3, SAMPLES * SAMPLES), np.uint8)  # [B, 3, S * S] the pending frames' signatures
    for frame, t in itertools.chain(video.decoded_frames(skip="BIDIR"), [(None, math.inf)]):
        if frame is not None:
            if (pending and t <= pending[-1][1]) or (found.decoded and t <= found.decoded[-1]):
                continue  # a repeated timestamp: the frame before already stands for it
            signature(frame, sigs[len(pending)])
            pending.append((frame, t))
            if len(pending) < batch:
                continue
        if not pending:
            break
        cuts, _ = detector.update(sigs[:len(pending)].reshape(len(pending), -1))
        for (held, t_held), cut in zip(pending, cuts):
            found.decoded.append(t_held)
            if cut:
                found.cuts.append(t_held)
            allowed = max(1.0, max_frames * min(1.0, (t_held + fill_seconds) / duration))
            if (cut or t_held >= next_fill) and len(found.kept) < allowed:
                found.kept.append(t_held)
                short = min_frames - len(found.kept)
                next_fill = t_held + (min(fill_seconds, (duration - t_held) / (short + 1)) if short > 0 else fill_seconds)
                yield Frame(len(found.kept) - 1, t_held, video.to_array(held, short_side))
        pending = []
    if found.decoded:
        video.check_end(found.decoded[-1])  # a file cut short fails here as in every other pass
