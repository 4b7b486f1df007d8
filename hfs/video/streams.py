"""Which video stream of a container to use, and how long that stream itself lasts.

A container's duration is that of its longest stream: a WebM/Matroska file whose audio
outlasts the picture claims more seconds than there are frames, and a live recording may state
no duration at all. So the duration is the video stream's own, from (first found wins):
1. Matroska's per-track ``DURATION`` tag (written by FFmpeg and mkvmerge);
2. the stream's header duration (MP4, AVI, ...), unless it merely equals the container's while
   other streams are present (FFmpeg gives a stream whose length it cannot tell the container's
   duration, which may be another stream's);
3. the container's duration, when the video is the only stream (Matroska states it in the
   header, so a cut file still claims its full length and is reported as truncated when decoded);
4. measured: the end (pts + duration) of the stream's last packet, found by demuxing from the
   last keyframe (one seek past the end) or, without an index, from the start; nothing is decoded.
Matroska's tag and container duration are end times, so the stream's start is subtracted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import av

from hfs.errors import VideoError

log = logging.getLogger("hfs.video")

_TAG = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*$")


def moving_video_streams(container: av.container.InputContainer) -> list[av.VideoStream]:
    """The container's video streams, less still cover pictures (attached pictures)."""
    return [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]


def choose_video_stream(container: av.container.InputContainer, path: object) -> av.VideoStream:
    """The video stream to decode: the one marked default, else FFmpeg's best, never cover art.

    Logs a warning naming the stream used when there is more than one to choose from.
    """
    streams = moving_video_streams(container)
    if not streams:
        if container.streams.video:
            raise VideoError(path, "contains no video stream (only a still cover picture)")
        raise VideoError(path, "contains no video stream")
    if len(streams) == 1:
        return streams[0]
    defaults = [s for s in streams if s.disposition & av.stream.Disposition.default]
    pool = defaults or streams
    try:
        best = container.streams.best("video")
    except (av.FFmpegError, ValueError):  # pragma: no cover - best() only fails without video
        best = None
    chosen = next((s for s in pool if best is not None and s.index == best.index), pool[0])
    why = "the default one" if defaults else "the best one by FFmpeg's ranking"
    log.warning("%s: has %d video streams; using stream #%d (%s)", path, len(streams), chosen.index, why)
    return chosen


def parse_duration_tag(value: str | None) -> float | None:
    """Seconds of a Matroska ``DURATION`` tag such as ``00:01:02.500000000``; None if absent or odd."""
    match = _TAG.match(value or "")
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    total = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return total if total > 0 else None


def _start_seconds(stream: av.VideoStream) -> float:
    tb = float(stream.time_base) if stream.time_base else 0.0
    return max(stream.start_time * tb, 0.0) if stream.start_time is not None else 0.0


def stream_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """Seconds from the stream's first to past its last frame, from metadata alone.

    Reads the Matroska tag, the stream's own duration, then the container's duration when
    nothing else is in it (see the module docstring); None when none of them tells.
    """
    tagged = parse_duration_tag(stream.metadata.get("DURATION") or stream.metadata.get("duration"))
    if tagged is not None:
        return tagged - _start_seconds(stream)
    tb = float(stream.time_base) if stream.time_base else 0.0
    alone = len(container.streams) == 1
    if stream.duration and tb:
        seconds = stream.duration * tb
        # possibly the container's duration copied in by FFmpeg (module docstring, step 2)
        copied = container.duration and abs(seconds - container.duration / av.time_base) <= max(tb, 1e-6)
        if alone or not copied:
            return seconds
        return None
    if alone and container.duration:
        return container.duration / av.time_base - _start_seconds(stream)
    return None


def measure_stream_duration(open_container: Callable[[], av.container.InputContainer], index: int,
                            fps: float) -> float | None:
    """Seconds from stream ``index``'s start to the end (pts + duration) of its last packet.

    Demuxes only, in a container from ``open_container``: from the last keyframe (one seek past
    the end) when the container knows its length, else, or when that finds nothing, the whole file.
    """
    with open_container() as container:
        stream = container.streams[index]
        if container.duration:
            past_end = (container.duration + abs(container.start_time or 0)) / av.time_base
            tb = float(stream.time_base or 0)
            try:
                if tb:
                    container.seek(int(past_end / tb) + 1, stream=stream, backward=True, any_frame=False)
                    end = _last_packet_end(container, stream, fps)
                    if end is not None:
                        return end - _start_seconds(stream)
            except av.FFmpegError:
                pass
    with open_container() as container:
        stream = container.streams[index]
        end = _last_packet_end(container, stream, fps)
        return None if end is None else end - _start_seconds(stream)


def _last_packet_end(container: av.container.InputContainer, stream: av.VideoStream, fps: float) -> float | None:
    tb = float(stream.time_base or 0)
    if not tb:
        return None
    last = None
    for packet in container.demux(stream):
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None or not packet.size:
            continue
        length = packet.duration * tb if packet.duration else (1.0 / fps if fps else 0.0)
        end = ts * tb + length
        last = end if last is None else max(last, end)
    return last
