"""The first pass of the adaptive candidates: a coarse grid of segment midpoints, or a shot scan.

``coarse_pass`` names the pass a video gets (``AdaptivePolicy.coarse``; ``"auto"`` compares the
two with ``hfs.video.cost``; image folders always get the grid); ``shot_candidates`` runs the
scan (``hfs.video.shots``) and embeds the frames it keeps, as ``embed_targets`` does for a grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hfs.cache import CachedEmbeddings
from hfs.candidates.embed import embed_frames
from hfs.candidates.policy import AdaptivePolicy
from hfs.encoders import ImageTextEncoder
from hfs.frame_cache import FrameStore
from hfs.progress import progress_bar
from hfs.video import FileVideo, candidate_times
from hfs.video.cost import grid_seconds, scan_is_cheap, scan_seconds, snapped_share
from hfs.video.keyframes import default_tolerance
from hfs.video.shots import CHANGE_RATIO, MIN_CHANGE, SAMPLES, SCAN_VERSION, TYPICAL_WINDOW, ShotScan, scan_shots


def coarse_costs(video: FileVideo, targets: np.ndarray) -> tuple[float, float]:
    """(seconds of a shot scan, seconds decoding the grid ``targets`` [n]) by ``hfs.video.cost``'s
    model, from the video's metadata alone."""
    info = video.info
    fps = info.fps or 25.0
    frames = int(info.num_frames or round(info.duration * fps))
    targets = np.asarray(targets, np.float64)
    spacing = float(np.median(np.diff(targets))) if len(targets) > 1 else info.duration
    share = snapped_share(spacing, default_tolerance(targets), video.gop_seconds)
    grid = grid_seconds(len(targets), frames, info.width, info.height, video.gop_seconds * fps, share)
    return scan_seconds(frames, info.width, info.height, video.has_b_frames), grid


def coarse_pass(source: Any, policy: AdaptivePolicy) -> str:
    """"grid" or "shots": the first pass ``source`` gets under ``policy``."""
    if not isinstance(source, FileVideo):
        return "grid"
    if policy.coarse != "auto":
        return policy.coarse
    duration = source.info.duration
    scan, grid = coarse_costs(source, candidate_times(duration, policy.coarse_count(duration)))
    return "shots" if scan_is_cheap(scan, grid) else "grid"


def scan_settings(policy: AdaptivePolicy) -> str:
    """Everything that sets which frames a shot scan keeps: its saved frames are found under it."""
    return (f"v{SCAN_VERSION} fill {policy.shot_fill_seconds:g} min {policy.coarse_min} max {policy.coarse_max} "
            f"change {MIN_CHANGE:g} x{CHANGE_RATIO:g} window {TYPICAL_WINDOW} samples {SAMPLES}")


def shot_candidates(video: FileVideo, encoder: ImageTextEncoder, store: FrameStore, policy: AdaptivePolicy,
                    batch_size: int = 32, progress: bool = False) -> tuple[float, float, int, CachedEmbeddings]:
    """Scan ``video`` for shots and embed every frame it keeps, or take the frames a scan with the
    same settings kept before from ``store``.

    The scan's frames are not exact decodes (B-frames skipped), so they are embedded as the scan
    decoded them and kept apart from ``store``'s exact frames (``FrameStore.keep_scan``): the
    same every time, cached or not.
    Returns (seconds decoding: the whole scan, seconds encoding, frames embedded, the kept frames
    [M] ascending).
    """
    settings = scan_settings(policy)
    known = store.scan(settings)
    if known is not None:
        return 0.0, 0.0, 0, known
    found = ShotScan()
    frames = scan_shots(video, encoder.short_side, policy.shot_fill_seconds, policy.coarse_max, policy.coarse_min,
                        found)
    kept = FrameStore.empty(encoder.dim, store.info)
    with progress_bar(None, f"scan shots + embed {Path(video.info.path).name}", progress) as bar:
        t_decode, t_encode, embedded, _ = embed_frames(frames, encoder, kept, batch_size, bar.advance)
    entry = CachedEmbeddings(times=kept.times, embeddings=kept.embeddings, info=store.info)
    store.keep_scan(settings, entry)
    video.last_mode = "shots"  # what --json's decode_mode reports: the scan decoded these frames
    return t_decode, t_encode, embedded, entry
