"""Decode and embed the frames a ``FrameStore`` lacks: for some target times, or as a pass yields them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from hfs.encoders import ImageTextEncoder
from hfs.frame_cache import FrameStore
from hfs.progress import progress_bar
from hfs.video.frames import Frame


def resolve_targets(source: Any, targets: np.ndarray, decode_mode: str = "auto",
                    tolerance: float | None = None) -> tuple[np.ndarray, str, float]:
    """The times [T] whose nearest frames answer ``targets`` [T] exactly as decoding them all
    without a cache would (``source.frames_at(targets, mode=decode_mode, tolerance=tolerance)``):
    each target, or the keyframe standing in for it; and the mode and tolerance that decode
    exactly those frames for any subset of them.

    So a frame store, which holds exact frames by their true time, gives every target the frame
    an uncached run gives it, whatever the store holds (``hfs.frame_cache``).
    """
    targets = np.asarray(targets, np.float64)
    keys, mode = source.stand_ins(targets, decode_mode, tolerance)
    resolved = np.where(np.isnan(keys), targets, keys)
    if mode != "keyframe":
        return resolved, ("auto" if decode_mode in ("auto", "keyframe") else decode_mode), 0.0
    fps = float(source.info.fps or 0.0)
    # a keyframe time plans itself; another time only the keyframe that is its nearest frame
    return resolved, "keyframe", 0.5 / fps if fps > 0 else 1e-3


def embed_targets(source: Any, encoder: ImageTextEncoder, store: FrameStore, targets: np.ndarray,
                  batch_size: int = 32, decode_mode: str = "auto", progress: bool = False,
                  tolerance: float | None = None) -> tuple[float, float, int, np.ndarray]:
    """Decode the frames that answer the ``targets`` [T] (ascending seconds) which ``store`` does
    not hold, embed them, and add them to it.

    A keyframe may stand in for a target within ``tolerance`` seconds (default: half the spacing
    of the ``targets``; 0 = exact frames, which refining needs, since it asks for particular
    moments), decided on all the targets as an uncached decode would (``resolve_targets``).
    Returns (seconds decoding, seconds encoding, frames embedded, the resolved times [T]:
    ``store.candidates`` of them are the targets' frames). Frames are embedded in batches as
    they are decoded, so thousands of targets never sit in memory at once.
    """
    resolved, mode, exact_tolerance = resolve_targets(source, targets, decode_mode, tolerance)
    missing = np.unique(store.missing(resolved))
    if len(missing) == 0:
        return 0.0, 0.0, 0, resolved
    frames = source.frames_at(missing, short_side=encoder.short_side, mode=mode, tolerance=exact_tolerance)
    got = np.full(len(missing), np.nan)  # [T'] true time of the frame each missing time got
    with progress_bar(len(missing), f"decode + embed {Path(source.info.path).name}", progress) as bar:
        t_decode, t_encode, embedded, seen = embed_frames(frames, encoder, store, batch_size, bar.advance)
    for index, t in seen:
        got[index] = t
    # a time skipped as a repeat of the frame before it got that frame (frames_at's ``unique``)
    got = fill_forward(got)
    far = store.rows_for(missing) < 0
    store.add_aliases(missing[far], got[far])
    return t_decode, t_encode, embedded, resolved


def embed_frames(frames: Iterator[Frame], encoder: ImageTextEncoder, store: FrameStore, batch_size: int = 32,
                 advance: Callable[[], None] | None = None) -> tuple[float, float, int, list[tuple[int, float]]]:
    """Pull every frame of ``frames``, embed in batches those whose true time ``store`` lacks, and
    add them to it. Returns (seconds decoding: pulling the frames, seconds encoding, frames
    embedded, the (index, time) of every frame pulled). Batches are embedded as they fill, so thousands of
    frames never sit in memory at once.
    """
    times: list[float] = []
    parts: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    seen: list[tuple[int, float]] = []
    t_decode = t_encode = 0.0
    while True:
        t0 = time.perf_counter()
        frame = next(frames, None)
        t_decode += time.perf_counter() - t0
        if frame is not None:
            seen.append((frame.index, frame.time))
            if advance is not None:
                advance()
            if not store.has_time(frame.time) and (not times or abs(frame.time - times[-1]) > 1e-6):
                times.append(frame.time)  # e.g. a keyframe another target already got is skipped
                batch.append(frame.image)
        if batch and (frame is None or len(batch) == batch_size):
            t0 = time.perf_counter()
            parts.append(encoder.encode_image_batch(batch))  # [B, D]
            t_encode += time.perf_counter() - t0
            batch = []
        if frame is None:
            break
    if times:
        store.add(np.asarray(times, np.float64), np.concatenate(parts, axis=0))
    return t_decode, t_encode, len(times), seen


def fill_forward(values: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last value before it (a leading NaN stays)."""
    idx = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(idx, out=idx)
    return values[idx]
