"""Seconds to reach a video's frames: the shot scan (``hfs.video.shots``) against decoding a
coarse grid of target times, so the adaptive candidates can pick the cheaper first pass.

Model, in seconds (F frames in the video, P = width x height pixels, G frames per keyframe
interval, n grid targets):

- one decoded frame: ``unit = FRAME_SECONDS + PIXEL_SECONDS * P``;
- one seek (flush the decoder, reposition the demuxer, refill): ``SEEK_SECONDS``;
- a keyframe costs ``KEYFRAME_COST_FRAMES`` decoded frames (``hfs.video.keyframes``);
- shot scan: ``F * share * (unit + SIGNATURE_SECONDS)``, where ``share`` = ``SCAN_SHARE`` for a
  stream with B-frames (they are skipped; the demuxer still reads them) and 1 without;
- grid: the cheapest of the decode modes ``auto`` picks from (``hfs.video.keyframes``):
  sequential ``F * unit``; seek ``n * (SEEK_SECONDS + G / 2 * unit)``; keyframe
  ``snapped * (SEEK_SECONDS + KEYFRAME_COST_FRAMES * unit) + (n - snapped) * (SEEK_SECONDS + G / 2 * unit)``,
  with ``snapped`` the expected number of targets a keyframe stands in for (``snapped_share``:
  from the keyframe interval, so the keyframe index need not be read to choose).

The shot scan is used when it costs at most ``SCAN_FACTOR`` times the grid: it is worth a little
more, since its candidates include every shot, however short. Converting the candidates to RGB
and embedding them is left out (about the same per candidate either way).

Constants measured on a 2-core CPU with PyAV 18 and x264 High streams (benchmarks/bench_decode.py's
10-minute 30 fps videos and the long-video benchmark's 64x64 2 fps ones): a decoded frame took
0.028 ms at 64x64 and 1.25 ms at 1280x720; a keyframe grab 0.73 ms at 64x64 (so a seek's fixed
cost, about 25 sequential frames there, is what dominates small videos; at 720p it is under one
frame); the B-frame-skipping pass took 0.57 (64x64) and 0.31 (720p) of a full decode; a frame's
signature and cut test about 10 us (in the scan loop; more on a busy machine).
"""

from __future__ import annotations

import numpy as np

from hfs.video.keyframes import KEYFRAME_COST_FRAMES, plan_keyframes

FRAME_SECONDS = 25e-6
PIXEL_SECONDS = 1.3e-9
SEEK_SECONDS = 0.7e-3
SIGNATURE_SECONDS = 10e-6
SCAN_SHARE = 0.6
SCAN_FACTOR = 1.5


def frame_seconds(width: int, height: int) -> float:
    """Seconds to decode one frame of ``width`` x ``height`` pixels."""
    return FRAME_SECONDS + PIXEL_SECONDS * width * height


def scan_seconds(frames: int, width: int, height: int, has_b_frames: bool) -> float:
    """Seconds of one shot scan over ``frames`` frames."""
    share = SCAN_SHARE if has_b_frames else 1.0
    return frames * share * (frame_seconds(width, height) + SIGNATURE_SECONDS)


def grid_seconds(targets: int, frames: int, width: int, height: int, gop_frames: float, snapped_share: float) -> float:
    """Seconds to decode the frames at ``targets`` grid times in the cheapest mode.

    ``gop_frames`` is the frames per keyframe interval, ``snapped_share`` the share of the
    targets a keyframe may stand in for (keyframe mode; 0 leaves that mode out).
    """
    unit = frame_seconds(width, height)
    exact = SEEK_SECONDS + min(gop_frames, frames) / 2 * unit
    snapped = int(round(targets * min(max(snapped_share, 0.0), 1.0)))
    keyframe = snapped * (SEEK_SECONDS + KEYFRAME_COST_FRAMES * unit) + (targets - snapped) * exact
    return float(min(frames * unit, targets * exact, keyframe))


def snapped_share(spacing: float, tolerance: float, gop_seconds: float) -> float:
    """Expected share of grid targets ``spacing`` seconds apart that have a keyframe (one every
    ``gop_seconds``) strictly within ``tolerance``: 1 when keyframes come at least every
    ``2 * tolerance`` seconds (and no more often than targets), else ``2 * tolerance / gop_seconds``."""
    if spacing <= 0 or gop_seconds <= 0:
        return 0.0
    return min(1.0, 2 * tolerance / gop_seconds)


def scan_is_cheap(scan: float, grid: float) -> bool:
    """Whether the shot scan (``scan`` seconds) should replace the grid (``grid`` seconds)."""
    return scan <= SCAN_FACTOR * grid


# A decoded keyframe (converted to RGB) and a seek's extra cost, in decoded frames, for plans of
# given targets (``targets_seconds``); measured at 640x360 with benchmarks/bench_decode.py's videos
# (a keyframe reached walking forward 1.7 ms, by a seek 3.8 ms, a frame 0.33 ms; at 64x64 a seek
# is mostly ``SEEK_SECONDS``).
KEY_FRAMES = 5
SEEK_FRAMES = 4


def targets_seconds(targets: np.ndarray, keyframes: np.ndarray, tolerance: float, frames: int, width: int,
                    height: int, gop_frames: float, has_b_frames: bool) -> float:
    """Seconds to decode the frames at ``targets`` (seconds, ascending) in the cheapest mode, a
    keyframe (``keyframes``: their times, ascending) standing in within ``tolerance``.

    Keyframe mode: a keyframe right after the one before it in the plan is reached by walking
    forward with the other frames skipped, any other by a seek; an exact target costs a seek
    and half a keyframe interval of frames, of which only the reference frames are decoded
    (``SCAN_SHARE`` of them where the stream has B-frames). Sequential: every frame.
    """
    targets = np.asarray(targets, np.float64)
    keyframes = np.asarray(keyframes, np.float64)
    unit = frame_seconds(width, height)
    seek = SEEK_SECONDS + SEEK_FRAMES * unit
    exact = exact_seconds(width, height, gop_frames, frames, has_b_frames)
    plan = plan_keyframes(targets, keyframes, tolerance) if len(keyframes) else np.full(len(targets), np.nan)
    used = np.unique(plan[~np.isnan(plan)])
    rank = np.searchsorted(keyframes, used)
    seeks = 1 + int(np.count_nonzero(np.diff(rank) != 1)) if len(used) else 0
    keyframe = len(used) * KEY_FRAMES * unit + seeks * seek + int(np.isnan(plan).sum()) * exact
    return float(min(frames * unit, len(targets) * exact, keyframe))


def exact_seconds(width: int, height: int, gop_frames: float, frames: int, has_b_frames: bool) -> float:
    """Seconds for one exact frame reached by a seek (``targets_seconds``'s model)."""
    unit = frame_seconds(width, height)
    walk = (SCAN_SHARE if has_b_frames else 1.0) * min(gop_frames, frames) / 2  # the reference frames on the way
    return SEEK_SECONDS + (SEEK_FRAMES + walk) * unit
