"""Decoding video files with PyAV: the frame nearest each requested time.

Two ways to reach the frames, chosen per call:
- seek: jump to the keyframe before a target and decode forward to it (cheap for a few
  frames of a long video);
- sequential: one pass over the whole stream (cheap when targets are dense, e.g. 128
  candidates of a short clip).
Inside a seek pass a target that lies less than one keyframe interval ahead is reached by
decoding forward, since seeking back to its keyframe would decode the same frames again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np

from hfs.errors import InputError, VideoError
from hfs.video.frames import Frame, rotate_to_display, scaled_size
from hfs.video.info import VideoInfo
from hfs.video.streams import choose_video_stream, measure_stream_duration, moving_video_streams, stream_duration

DECODE_MODES = ("auto", "seek", "sequential")
# x264's default keyframe interval; used when the container does not index its keyframes.
_DEFAULT_GOP_FRAMES = 250
# A fixed cost of a seek, in decoded-frame equivalents (flushing the decoder, demuxer seek).
_SEEK_OVERHEAD_FRAMES = 8


def _frame_time(frame: av.VideoFrame, time_base: float, fallback: float) -> float:
    return frame.pts * time_base if frame.pts is not None else fallback


class FileVideo:
    """A video file opened for random access to its frames."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._check_file()
        self.info, self._start, self._gop = self._probe()

    # -- opening -------------------------------------------------------------------------
    def _check_file(self) -> None:
        if not self.path.exists():
            raise VideoError(self.path, "file not found")
        if not self.path.is_file():
            raise VideoError(self.path, "not a regular file")
        if self.path.stat().st_size == 0:
            raise VideoError(self.path, "file is empty (0 bytes)")

    def _open(self) -> av.container.InputContainer:
        try:
            return av.open(str(self.path), mode="r")
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise VideoError(self.path, f"not a readable video file ({_reason(exc)})") from exc

    def _probe(self) -> tuple[VideoInfo, float, float]:
        with self._open() as container:
            stream = choose_video_stream(container, self.path)
            self._index = stream.index
            video_streams = len(moving_video_streams(container))
            tb = float(stream.time_base) if stream.time_base else 0.0
            start = stream.start_time * tb if stream.start_time is not None else 0.0
            duration = stream_duration(container, stream)
            fps = float(stream.average_rate or stream.guessed_rate or 0.0)
            first = self._first_frame(container, stream)
            rotation = int(getattr(first, "rotation", 0) or 0) % 360
            width, height = first.width, first.height
            if rotation in (90, 270):
                width, height = height, width
            first_time = _frame_time(first, tb, start)
            start = min(start, first_time)
            num_frames = int(stream.frames or 0)
            codec = stream.codec_context.name
            keyframes = _indexed_keyframes(stream)
        if duration is None:
            try:
                duration = measure_stream_duration(self._open, self._index, fps)
            except av.FFmpegError as exc:
                raise VideoError(self.path, f"corrupt video data ({_reason(exc)})") from exc
        if not duration or duration <= 0:
            raise VideoError(self.path, "video stream has zero duration")
        if not num_frames and fps:
            num_frames = int(round(duration * fps))
        gop = duration / keyframes if keyframes > 1 else (_DEFAULT_GOP_FRAMES / fps if fps else 10.0)
        info = VideoInfo(
            path=str(self.path), duration=duration, fps=fps, width=width, height=height,
            rotation=rotation, num_frames=num_frames, codec=codec, kind="file",
            stream_index=self._index, video_streams=video_streams,
        )
        return info, start, gop

    def _first_frame(self, container: av.container.InputContainer, stream: av.VideoStream) -> av.VideoFrame:
        try:
            for frame in container.decode(stream):
                return frame
        except av.FFmpegError as exc:
            raise VideoError(self.path, f"corrupt video data ({_reason(exc)})") from exc
        raise VideoError(self.path, "no decodable video frames (corrupt or truncated file)")

    # -- decoding ------------------------------------------------------------------------
    def choose_mode(self, num_targets: int) -> str:
        """'sequential' when one pass decodes fewer frames than seeking to every target."""
        fps = self.info.fps or 25.0
        frames_total = self.info.duration * fps
        seek_cost = num_targets * (min(self._gop * fps, frames_total) / 2 + _SEEK_OVERHEAD_FRAMES)
        return "sequential" if frames_total <= seek_cost else "seek"

    def frames_at(
        self,
        times: Sequence[float],
        short_side: int | None = None,
        mode: str = "auto",
        unique: bool = True,
    ) -> Iterator[Frame]:
        """Yield the frame nearest each time in ``times`` (seconds, ascending), in order.

        With ``unique`` a frame nearest several times is yielded once, for the first of them
        (a video with fewer frames than requested times gives fewer frames).
        Raises ``VideoError`` if the file turns out corrupt or truncated while decoding.
        """
        targets = np.asarray(times, dtype=np.float64)
        if targets.size == 0:
            return
        if np.any(np.diff(targets) < 0):
            raise InputError("frame times must be in ascending order")
        if mode not in DECODE_MODES:
            raise InputError(f"decode mode must be one of {', '.join(DECODE_MODES)}, got {mode!r}")
        if mode == "auto":
            mode = self.choose_mode(len(targets))
        seek_gap = self._gop if mode == "seek" else math.inf
        with self._open() as container:
            stream = container.streams[self._index]
            stream.thread_type = "AUTO"
            yield from self._nearest(container, stream, targets + self._start, seek_gap, short_side, unique)

    def _nearest(self, container, stream, targets, seek_gap, short_side, unique) -> Iterator[Frame]:
        tb = float(stream.time_base)
        interval = 1.0 / self.info.fps if self.info.fps else 0.04
        # A target this far past the last decodable frame means the file ends early.
        tolerance = max(3 * interval, 0.5)

        def decoded() -> Iterator[av.VideoFrame]:
            try:
                yield from container.decode(stream)
            except av.FFmpegError as exc:
                raise VideoError(self.path, f"corrupt video data while decoding ({_reason(exc)})") from exc

        frames = decoded()
        prev = ahead = None  # last frame before the target, first frame at/after it
        prev_t = ahead_t = -math.inf
        last_key: float | None = None
        for i, target in enumerate(targets):
            position = ahead_t if ahead is not None else prev_t
            if seek_gap != math.inf and target - position > seek_gap:
                container.seek(max(int(target / tb), 0), stream=stream, backward=True, any_frame=False)
                frames = decoded()
                prev = ahead = None
                prev_t = ahead_t = -math.inf
            while True:
                if ahead is None:
                    ahead = next(frames, None)
                    if ahead is None:
                        break
                    ahead_t = _frame_time(ahead, tb, prev_t + interval)
                if ahead_t >= target:
                    break
                prev, prev_t, ahead, ahead_t = ahead, ahead_t, None, -math.inf
            if ahead is not None and (prev is None or ahead_t - target < target - prev_t):
                best, best_t = ahead, ahead_t
            elif prev is not None:
                best, best_t = prev, prev_t
                if ahead is None and target - prev_t > tolerance:
                    raise VideoError(
                        self.path,
                        f"video is truncated: decoding stops at {prev_t - self._start:.2f} s "
                        f"of {self.info.duration:.2f} s",
                    )
            else:
                raise VideoError(self.path, f"no frame could be decoded near {target - self._start:.2f} s")
            if unique and last_key is not None and best_t == last_key:
                continue
            last_key = best_t
            yield Frame(i, best_t - self._start, self._to_array(best, short_side))

    def _to_array(self, frame: av.VideoFrame, short_side: int | None) -> np.ndarray:
        rot = self.info.rotation
        # The stored picture is the displayed one turned back; scale its short side.
        w, h = scaled_size(frame.width, frame.height, short_side)
        image = frame.to_ndarray(format="rgb24", width=w, height=h)
        return rotate_to_display(image, rot)


def _indexed_keyframes(stream: av.VideoStream) -> int:
    """Keyframes in the container's index (0 when it has none); duration / count is the GOP."""
    try:
        entries = stream.index_entries
        return sum(1 for e in entries if e.is_keyframe) if entries is not None else 0
    except (AttributeError, av.FFmpegError):
        return 0


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words, without errno numbers or the repeated file name."""
    text = getattr(exc, "strerror", None) or str(exc).strip()
    return text or type(exc).__name__
