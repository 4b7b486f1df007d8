"""Where a video's keyframes are, which targets a keyframe may stand in for, and which decode
mode reaches a set of targets cheapest.

Keyframe index: the container's own index when it lists every packet (MP4/MOV: a full sample
table, read at open, free), else one demux-only pass over the packets (``packet.is_keyframe``,
nothing decoded; MPEG-TS, Matroska/WebM whose cues are partial or not loaded yet, raw streams).
An MP4 index holds decoding timestamps; they are shifted onto presentation time by the first
keyframe's offset, and every keyframe's true time is checked again when it is decoded.

Keyframe mode: a target is answered by the nearest keyframe when one lies strictly within
``tolerance`` seconds of it, else decoded exactly. The default tolerance is ``KEYFRAME_TOLERANCE``
= 0.5 of the median spacing of the targets (each frame stays within half a candidate spacing of
its target), and 0 for a single target. Tolerance 0 makes keyframe mode, and ``auto``, exact:
use it to decode frames at times already known (the chosen frames of a selection).

``auto`` rule, per video and per call, in decoded-frame equivalents (F frames in the video,
G frames per keyframe interval from the index, s = ``SEEK_OVERHEAD_FRAMES``, a keyframe costing
``KEYFRAME_COST_FRAMES``):
  sequential = F;  seek = n * (G / 2 + s);
  keyframe = n_snapped * (KEYFRAME_COST_FRAMES + s) + n_exact * (G / 2 + s),
where n_snapped counts the distinct keyframes used and n_exact the other targets; the cheapest
wins, ties going to the exact modes (sequential, then seek). With tolerance 0 keyframe mode is
not considered, and G comes from the container's index (or x264's default 250 frames) without
reading the keyframe index.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

KEYFRAME_TOLERANCE = 0.5  # of the median spacing of the targets
# Costs in decoded-frame equivalents: a seek flushes the decoder and repositions the demuxer, a
# keyframe costs a few inter frames. Checked with benchmarks/bench_decode.py at 720p: a keyframe
# grab (seek, decode, convert) costs about 9 sequentially decoded frames' CPU time (model: 11).
SEEK_OVERHEAD_FRAMES = 8
KEYFRAME_COST_FRAMES = 3
_SAME_TIME = 1e-6  # seconds: rounding of times


@dataclass(frozen=True)
class KeyframeIndex:
    """Presentation times (seconds, stream clock, ascending) of a stream's keyframes."""

    times: np.ndarray  # [K]
    source: str  # "index" (the container's) or "scan" (a demux pass)

    def interval(self, duration: float) -> float:
        """Median seconds between keyframes (``duration`` when there is at most one)."""
        if len(self.times) < 2:
            return duration
        return float(np.median(np.diff(self.times)))

    def next_after(self, t: float) -> float:
        """The first keyframe later than ``t`` (inf if none)."""
        i = int(np.searchsorted(self.times, t + _SAME_TIME, side="left"))
        return float(self.times[i]) if i < len(self.times) else math.inf


def container_keyframes(stream: av.VideoStream, first_time: float) -> np.ndarray | None:
    """Keyframe times from the container's index, or None when it does not list every packet.

    ``first_time`` is the first decoded frame's time: the index's timestamps (decoding times in
    MP4) are shifted so that the first keyframe falls on it.
    """
    try:
        entries = list(stream.index_entries or [])
    except (AttributeError, av.FFmpegError):
        return None
    entries = [e for e in entries if not e.is_discard]
    # An index of keyframes only (Matroska cues) may be partial or not yet loaded: not trusted.
    if not entries or all(e.is_keyframe for e in entries):
        return None
    tb = float(stream.time_base)
    stamps = np.array([e.timestamp for e in entries if e.is_keyframe], dtype=np.float64) * tb
    if stamps.size == 0:
        return None
    stamps.sort()
    return stamps - stamps[0] + first_time


def scanned_keyframes(container: av.container.InputContainer, stream: av.VideoStream, fps: float) -> np.ndarray:
    """Keyframe times from one pass over the packets, decoding nothing.

    A packet without timestamps (raw streams) is placed one frame after the one before it.
    """
    tb = float(stream.time_base) if stream.time_base else 0.0
    times: list[float] = []
    step = 1.0 / fps if fps else 0.04
    last = -step
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the flush packet at the end
        stamp = packet.pts if packet.pts is not None else packet.dts
        t = stamp * tb if stamp is not None and tb else last + step
        last = t
        if packet.is_keyframe:
            times.append(t)
    return np.unique(np.asarray(times, dtype=np.float64))


def read_keyframe_index(
    open_container: Callable[[], av.container.InputContainer], stream_index: int, first_time: float, fps: float,
) -> KeyframeIndex:
    """The container's index when complete, else a demux-only scan (see the module docstring)."""
    with open_container() as container:
        stream = container.streams[stream_index]
        indexed = container_keyframes(stream, first_time)
        if indexed is not None:
            return KeyframeIndex(indexed, "index")
        return KeyframeIndex(scanned_keyframes(container, stream, fps), "scan")


def default_tolerance(targets: np.ndarray) -> float:
    """``KEYFRAME_TOLERANCE`` of the targets' median spacing; 0 (exact) for a single target,
    which has no spacing to be measured against."""
    if len(targets) < 2:
        return 0.0
    return KEYFRAME_TOLERANCE * float(np.median(np.diff(targets)))


def plan_keyframes(targets: np.ndarray, keyframes: np.ndarray, tolerance: float) -> np.ndarray:
    """For each target [T] the keyframe time standing in for it, or NaN where it is decoded exactly.

    A keyframe stands in when it is the target's nearest and lies strictly within ``tolerance``
    (so with the default tolerance, half the spacing of evenly spaced targets, a keyframe midway
    between two targets serves neither, and no keyframe serves two of them). The
    frames stay in time order: the nearest keyframe never decreases as the target grows, and a
    target lying between another target and that one's keyframe is nearer the keyframe still.
    """
    plan = np.full(len(targets), np.nan)
    if len(keyframes) == 0 or len(targets) == 0:
        return plan
    right = np.clip(np.searchsorted(keyframes, targets), 0, len(keyframes) - 1)
    left = np.clip(right - 1, 0, len(keyframes) - 1)
    nearest = np.where(np.abs(keyframes[left] - targets) <= np.abs(keyframes[right] - targets),
                       keyframes[left], keyframes[right])
    near = np.abs(nearest - targets) < tolerance - _SAME_TIME  # strictly: a tie at the tolerance is exact
    plan[near] = nearest[near]
    return plan


def choose_mode(targets: np.ndarray, keyframes: np.ndarray | None, interval: float, duration: float, fps: float,
                tolerance: float) -> str:
    """The cheapest of sequential, seek and keyframe for ``targets`` (rule: module docstring).

    ``keyframes`` are the keyframe times (None: keyframe mode is not considered), ``interval``
    the seconds between keyframes.
    """
    fps = fps or 25.0
    frames_total = duration * fps
    per_exact = min(interval * fps, frames_total) / 2 + SEEK_OVERHEAD_FRAMES
    costs = {"sequential": frames_total, "seek": len(targets) * per_exact}
    if keyframes is not None:
        plan = plan_keyframes(targets, keyframes, tolerance)
        snapped = np.unique(plan[~np.isnan(plan)]).size
        costs["keyframe"] = snapped * (KEYFRAME_COST_FRAMES + SEEK_OVERHEAD_FRAMES) + np.isnan(plan).sum() * per_exact
    order = ("sequential", "seek", "keyframe")
    return min(costs, key=lambda mode: (costs[mode], order.index(mode)))
