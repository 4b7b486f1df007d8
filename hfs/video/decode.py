"""Decoding video files with PyAV: the frame nearest each requested time.

Three ways to reach the frames, chosen per call:
- seek: jump to the keyframe before a target and decode forward to it (cheap for a few
  frames of a long video);
- sequential: one pass over the whole stream (cheap when targets are dense, e.g. 128
  candidates of a short clip);
- keyframe: a keyframe near enough a target stands in for it, and only keyframes are decoded
  for those; the other targets are decoded exactly as in seek (hfs.video.keyframes says which
  keyframe may stand in, and how ``auto`` chooses among the three).
Inside a seek pass a target that lies less than one keyframe interval ahead is reached by
decoding forward, since seeking back to its keyframe would decode the same frames again. On the
way to an exact target (after a seek, or walking forward) the decoder skips the frames nothing
refers to (B-frames, ``skip_frame = NONREF``) until the packets reach ``REF_ONLY_MARGIN_FRAMES``
frames before the target: no frame near the target is skipped, so the frame found is the same,
for 25-30% less decoding on streams with B-frames (benchmarks/bench_decode.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import av
from av.video.reformatter import VideoReformatter
import numpy as np

from hfs.errors import InputError, VideoError
from hfs.video.frames import Frame, rotate_to_display, scaled_size
from hfs.video.info import VideoInfo
from hfs.video.keyframes import (
    KeyframeIndex, choose_mode, container_keyframes, default_tolerance, plan_keyframes, read_keyframe_index,
)
from hfs.video.modes import DECODE_MODES
from hfs.video.sampling import candidate_times
from hfs.video.streams import choose_video_stream, measure_stream_duration, moving_video_streams, stream_duration

# x264's default keyframe interval; used when the container does not index its keyframes.
_DEFAULT_GOP_FRAMES = 250
# Seconds within which two presentation times are the same frame's.
_TIME_SLACK = 1e-4
# After a seek to an exact target, frames no other frame refers to are skipped until the packets
# reach this many frame intervals before it: every frame from there on is decoded, so the nearest
# frame and the one before it always are (a skipped B-frame's packet follows a later reference frame's).
REF_ONLY_MARGIN_FRAMES = 4


def _frame_time(frame: av.VideoFrame, time_base: float, fallback: float) -> float:
    return frame.pts * time_base if frame.pts is not None else fallback


class FileVideo:
    """A video file opened for random access to its frames."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._check_file()
        self._keyframes: KeyframeIndex | None = None
        self._stated = 0.0  # seconds the header states (duration or frame count), 0 if it states none
        self.last_mode: str | None = None  # the mode the latest frames_at call decoded with
        # One reformatter for the whole video: it keeps its scaler between frames, where each
        # frame's own would build a new one (about 1 ms a frame, more than decoding a small one).
        self._reformatter = VideoReformatter()
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
            self._first_time = first_time
            num_frames = int(stream.frames or 0)
            codec = stream.codec_context.name
            # the decoder's reorder delay: 0 for streams without B-frames (the shot scan's cost)
            self.has_b_frames = bool(stream.codec_context.has_b_frames)
            indexed = container_keyframes(stream, first_time)
        if duration is None:
            try:
                duration = measure_stream_duration(self._open, self._index, fps)
            except av.FFmpegError as exc:
                raise VideoError(self.path, f"corrupt video data ({_reason(exc)})") from exc
        else:  # the header's word: a cut file still states its full length (or frame count)
            self._stated = max(duration, num_frames / fps if fps else 0.0)
            self._check_complete(fps)
        if not duration or duration <= 0:
            raise VideoError(self.path, "video stream has zero duration")
        if not num_frames and fps:
            num_frames = int(round(duration * fps))
        keyframes = len(indexed) if indexed is not None else 0
        gop = duration / keyframes if keyframes > 1 else (_DEFAULT_GOP_FRAMES / fps if fps else 10.0)
        if indexed is not None:  # the container's index, read already: ``keyframes`` need not open the file again
            self._keyframes = KeyframeIndex(indexed, "index")
        info = VideoInfo(
            path=str(self.path), duration=duration, fps=fps, width=width, height=height,
            rotation=rotation, num_frames=num_frames, codec=codec, kind="file",
            stream_index=self._index, video_streams=video_streams,
        )
        return info, start, gop

    def _check_complete(self, fps: float) -> None:
        """Refuse a file whose packets end well before the ``duration`` its header states (cut
        short by a failed copy or download): every pass and decode mode then fails the same way,
        at open, before anything is decoded. Costs one seek and a demux of the last keyframe
        interval (the whole file only when it is cut)."""
        try:
            end = measure_stream_duration(self._open, self._index, fps)
        except av.FFmpegError as exc:
            raise VideoError(self.path, f"corrupt video data ({_reason(exc)})") from exc
        if end is not None and self._stated - end > end_slack(fps):
            raise truncated(self.path, end, self._stated)

    def check_end(self, last: float) -> None:
        """Raise the error of a cut file when decoding ended at the frame at ``last`` (video
        seconds) well before the stated end: the rule applied at open, to the frames decoded
        (packets that demux but do not decode)."""
        end = last + (1.0 / self.info.fps if self.info.fps else 0.04)
        if self._stated - end > end_slack(self.info.fps):
            raise truncated(self.path, end, self._stated)

    def _first_frame(self, container: av.container.InputContainer, stream: av.VideoStream) -> av.VideoFrame:
        try:
            for frame in container.decode(stream):
                return frame
        except av.FFmpegError as exc:
            raise VideoError(self.path, f"corrupt video data ({_reason(exc)})") from exc
        raise VideoError(self.path, "no decodable video frames (corrupt or truncated file)")

    # -- decoding ------------------------------------------------------------------------
    @property
    def gop_seconds(self) -> float:
        """Seconds between keyframes: the container index's mean when it has one, else x264's
        default 250 frames (no keyframe index read)."""
        return self._gop

    @property
    def start(self) -> float:
        """Stream-clock seconds of the video's time 0 (its first frame's time or earlier)."""
        return self._start

    @property
    def keyframes(self) -> KeyframeIndex:
        """The stream's keyframe times (container index or a demux-only scan), found once."""
        if self._keyframes is None:
            try:
                self._keyframes = read_keyframe_index(self._open, self._index, self._first_time, self.info.fps)
            except av.FFmpegError as exc:
                raise VideoError(self.path, f"corrupt video data ({_reason(exc)})") from exc
        return self._keyframes

    def adopt_keyframes(self, times: np.ndarray) -> None:
        """Take the keyframe times a demux scan of this same file found before (saved with its
        frames, ``hfs.frame_cache``), so a cached run does not read the whole file again; an index
        read at open is kept."""
        if self._keyframes is None:
            self._keyframes = KeyframeIndex(np.asarray(times, np.float64), "scan")

    @property
    def scanned_keyframes(self) -> np.ndarray | None:
        """The keyframe times [K] (stream clock) of a demux scan, when one ran: worth saving, since
        the scan reads the whole file, where the container's index costs nothing."""
        found = self._keyframes
        return found.times if found is not None and found.source == "scan" else None

    def choose_mode(self, num_targets: int | Sequence[float], tolerance: float | None = None) -> str:
        """The decode mode ``auto`` uses for these targets (a count means uniform candidates)."""
        targets = self._targets(num_targets)
        if tolerance is None:
            tolerance = default_tolerance(targets)
        if tolerance == 0:  # exact frames only: no keyframe index needed
            return choose_mode(targets, None, self._gop, self.info.duration, self.info.fps, tolerance)
        index = self.keyframes
        return choose_mode(targets, index.times, index.interval(self.info.duration), self.info.duration,
                           self.info.fps, tolerance)

    def _targets(self, times: int | Sequence[float]) -> np.ndarray:
        """Stream-clock seconds of the targets (``times`` in video seconds, or a candidate count)."""
        if isinstance(times, (int, np.integer)):
            times = candidate_times(self.info.duration, int(times))
        return np.asarray(times, dtype=np.float64) + self._start

    def frames_at(
        self,
        times: Sequence[float],
        short_side: int | None = None,
        mode: str = "auto",
        unique: bool = True,
        tolerance: float | None = None,
    ) -> Iterator[Frame]:
        """Yield the frame nearest each time in ``times`` (seconds, ascending), in order.

        In "keyframe" mode (and in "auto" when it picks it) a keyframe within ``tolerance``
        seconds of a target stands in for the nearest frame (default: ``KEYFRAME_TOLERANCE``
        of the targets' median spacing, 0 for one target); ``tolerance=0`` asks for exact
        frames in every mode.
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
        if tolerance is not None and not tolerance >= 0:
            raise InputError(f"keyframe tolerance must be >= 0 seconds, got {tolerance}")
        stream_targets = targets + self._start
        if tolerance is None:
            tolerance = default_tolerance(stream_targets)
        plan, mode = self.stand_ins(targets, mode, tolerance)
        plan = plan + self._start  # stream clock
        self.last_mode = mode
        if mode == "sequential":
            seek_gap = math.inf
        else:  # the keyframe index is there already in keyframe mode
            seek_gap = self.keyframes.interval(self.info.duration) if mode == "keyframe" else self._gop
        with self._open() as container:
            stream = container.streams[self._index]
            # Frame threads pay off decoding runs of frames; for single keyframes they only add
            # latency after each seek (about 40% more CPU time in benchmarks/bench_decode.py).
            mostly_keys = mode == "keyframe" and np.count_nonzero(~np.isnan(plan)) * 2 >= len(plan)
            stream.thread_type = "SLICE" if mostly_keys else "AUTO"
            cursor = _Cursor(self, container, stream)
            last_t: float | None = None
            for i, (target, key) in enumerate(zip(stream_targets, plan)):
                found = cursor.keyframe(key) if not np.isnan(key) else None
                if found is None or abs(found[1] - target) > tolerance + _TIME_SLACK or (
                        last_t is not None and found[1] < last_t):
                    found = cursor.exact(target, seek_gap)
                best, best_t = found
                if unique and last_t is not None and best_t == last_t:
                    continue
                last_t = best_t
                yield Frame(i, best_t - self._start, self.to_array(best, short_side))

    def stand_ins(self, times: Sequence[float], mode: str = "auto",
                  tolerance: float | None = None) -> tuple[np.ndarray, str]:
        """Which keyframe ``frames_at(times, mode=mode, tolerance=tolerance)`` lets stand in for each
        time [T] (video seconds; NaN: the nearest frame is decoded), and the mode it decodes with.

        Decided on all of ``times`` at once, from the keyframe index alone, so a cache can tell
        which frame each time gets without decoding anything.
        """
        targets = np.asarray(times, dtype=np.float64)
        if tolerance is None:
            tolerance = default_tolerance(targets)
        if mode == "auto":
            mode = self.choose_mode(targets, tolerance)
        if mode != "keyframe" or tolerance == 0 or targets.size == 0:
            return np.full(len(targets), np.nan), mode
        return plan_keyframes(targets + self._start, self.keyframes.times, tolerance) - self._start, mode

    def decoded_frames(self, skip: str = "DEFAULT") -> Iterator[tuple[av.VideoFrame, float]]:
        """One forward pass from the start: (frame, true time in video seconds) for each frame the
        decoder returns with ``skip_frame = skip`` (e.g. "BIDIR": B-frames skipped); no seeks."""
        with self._open() as container:
            stream = container.streams[self._index]
            stream.codec_context.skip_frame = skip
            tb = float(stream.time_base)
            step = 1.0 / self.info.fps if self.info.fps else 0.04
            last = self._start - step
            for frame in decode_stream(container, stream, self.path):
                last = _frame_time(frame, tb, last + step)
                yield frame, last - self._start

    def to_array(self, frame: av.VideoFrame, short_side: int | None) -> np.ndarray:
        """A decoded frame as [H, W, 3] uint8 RGB in display orientation, short side scaled."""
        rot = self.info.rotation
        # The stored picture is the displayed one turned back; scale its short side.
        w, h = scaled_size(frame.width, frame.height, short_side)
        image = self._reformatter.reformat(frame, width=w, height=h, format="rgb24").to_ndarray()
        return rotate_to_display(image, rot)


class _Cursor:
    """A decoding position in one open container: seek, walk forward to a target, grab keyframes.

    Holds the last frame before the current target (``prev``) and the first at or after it
    (``ahead``). In keyframe grabs the decoder skips every non-key frame; going back to exact
    decoding always seeks, since the skipped frames are missing from the decoder's references.
    """

    def __init__(self, video: FileVideo, container: av.container.InputContainer, stream: av.VideoStream) -> None:
        self.video, self.container, self.stream = video, container, stream
        self.tb = float(stream.time_base)
        self.interval = 1.0 / video.info.fps if video.info.fps else 0.04
        self.keys_only = False
        self.full_from = -math.inf  # stream seconds: packets from here on are decoded whole (see _seek)
        self._reset(self._decoded())

    def _decoded(self) -> Iterator[av.VideoFrame]:
        return decode_stream(self.container, self.stream, self.video.path, self._before_packet)

    def _before_packet(self, packet: av.Packet) -> None:
        """From the first packet at or after ``full_from`` on, every frame is decoded (``_references_until``)."""
        if self.full_from > -math.inf:
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is None or stamp * self.tb >= self.full_from:
                self.stream.codec_context.skip_frame = "DEFAULT"
                self.full_from = -math.inf

    def _reset(self, frames: Iterator[av.VideoFrame]) -> None:
        self.frames = frames
        self.prev = self.ahead = None
        self.prev_t = self.ahead_t = -math.inf

    def _seek(self, t: float, keys_only: bool) -> None:
        """Decode from the keyframe at or before ``t``; ``ahead`` holds the first frame after.

        Some demuxers (MPEG-TS) land past ``t`` (or at the end); then the seek goes back
        further, doubling, down to the start of the stream. Exact: frames nothing refers to are
        skipped until ``REF_ONLY_MARGIN_FRAMES`` before ``t``.
        """
        self.keys_only = keys_only
        back = 0.0
        while True:
            if keys_only:
                self.stream.codec_context.skip_frame = "NONKEY"
                self.full_from = -math.inf
            else:
                self._references_until(t)
            self.container.seek(max(int((t - back) / self.tb), 0), stream=self.stream, backward=True,
                                any_frame=False)
            self._reset(self._decoded())
            landed = self._pull()
            if (landed and self.ahead_t <= t + _TIME_SLACK) or t - back <= 0:
                return
            back = max(2 * back, self.video.gop_seconds)

    def _references_until(self, t: float) -> None:
        """Skip the frames nothing refers to until the packets reach ``REF_ONLY_MARGIN_FRAMES``
        before ``t`` (stream seconds); from there on ``_decoded`` decodes every frame."""
        self.stream.codec_context.skip_frame = "NONREF"
        self.full_from = t - REF_ONLY_MARGIN_FRAMES * self.interval

    def _pull(self) -> bool:
        """Decode the next frame into ``ahead``; False at the end of the stream."""
        self.ahead = next(self.frames, None)
        if self.ahead is None:
            return False
        self.ahead_t = _frame_time(self.ahead, self.tb, self.prev_t + self.interval)
        return True

    def _position(self) -> float:
        return self.ahead_t if self.ahead is not None else self.prev_t

    def keyframe(self, key: float) -> tuple[av.VideoFrame, float] | None:
        """The keyframe at ``key`` seconds (stream clock), or None if decoding does not find it."""
        position = self._position()
        nearby = self.keys_only and position < key and self.video.keyframes.next_after(position) >= key - _TIME_SLACK
        if not (self.keys_only and self.ahead is not None and abs(self.ahead_t - key) <= _TIME_SLACK) and not nearby:
            self._seek(key, keys_only=True)
        while self.ahead is None or self.ahead_t < key - _TIME_SLACK:
            if self.ahead is not None:
                self.prev, self.prev_t = self.ahead, self.ahead_t
            if not self._pull():
                return None
        return self.ahead, self.ahead_t

    def exact(self, target: float, seek_gap: float) -> tuple[av.VideoFrame, float]:
        """The frame nearest ``target``, seeking first when it lies more than ``seek_gap`` ahead."""
        if self.keys_only:
            self._seek(target, keys_only=False)
        elif seek_gap != math.inf and target - self._position() > seek_gap:
            self._seek(target, keys_only=False)
        elif target - self._position() > REF_ONLY_MARGIN_FRAMES * self.interval:
            self._references_until(target)  # walking forward: the frames on the way need not all be decoded
        while True:
            if self.ahead is None and not self._pull():
                break
            if self.ahead_t >= target:
                break
            self.prev, self.prev_t, self.ahead, self.ahead_t = self.ahead, self.ahead_t, None, -math.inf
        if self.ahead is not None and (self.prev is None or self.ahead_t - target < target - self.prev_t):
            return self.ahead, self.ahead_t
        if self.prev is not None:
            if self.ahead is None:  # the stream ended before the target
                self.video.check_end(self.prev_t - self.video.start)
            return self.prev, self.prev_t
        raise VideoError(self.video.path, f"no frame could be decoded near {target - self.video.start:.2f} s")


def decode_stream(container: av.container.InputContainer, stream: av.VideoStream, path: Path,
                  before: Callable[[av.Packet], None] | None = None) -> Iterator[av.VideoFrame]:
    """The frames of ``stream`` from the container's position on, packet by packet (``before`` sees
    each packet before it is decoded, e.g. to change what the decoder skips).

    The last packet of a file cut short is often cut too, and fails to decode: it is passed
    over, so decoding simply ends there (``FileVideo.check_end`` then tells a cut file from a
    whole one). A packet that fails anywhere else is corrupt data.
    """
    packets = container.demux(stream)
    current = _next_packet(packets)
    while current is not None:
        following = _next_packet(packets)
        if before is not None:
            before(current)
        try:
            yield from current.decode()
        except av.FFmpegError as exc:
            if following is not None and following.size:
                raise VideoError(path, f"corrupt video data while decoding ({_reason(exc)})") from exc
        current = following


def _next_packet(packets: Iterator[av.Packet]) -> av.Packet | None:
    """The next packet, or None at the end of the file (or where reading it fails: a file cut short)."""
    try:
        return next(packets, None)
    except av.FFmpegError:
        return None


def end_slack(fps: float) -> float:
    """Seconds the frames may end before a video's stated duration: more means the file is cut."""
    return max(3.0 / fps if fps else 0.12, 0.5)


def truncated(path: Path, end: float, duration: float) -> VideoError:
    """The one error every pass gives for a file cut short: where its frames stop, of how long."""
    return VideoError(path, f"video is truncated: its frames stop at {end:.2f} s of the {duration:.2f} s "
                            f"its header states (an incomplete copy or download?)")


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words, without errno numbers or the repeated file name."""
    text = getattr(exc, "strerror", None) or str(exc).strip()
    return text or type(exc).__name__
