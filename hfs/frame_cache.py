"""Every frame of one video already embedded by one encoder, looked up by time.

A ``FrameStore`` holds the decoded frames' true times (ascending, unique) and their embeddings.
A requested target time is *covered* when a stored frame is the frame a decoder returns for it:
the frame nearest the target, which in a constant-rate video is the one within half a frame
interval (ties go to the earlier frame, as the decoders do). A target whose frame lies farther
(past the last frame of a video, between the frames of a variable-rate one) is remembered as an
alias: the target and the true time of the frame it got. So another N, the coarse and the
refining passes of the adaptive candidates, and later questions decode and embed only what is
not covered, and a decoded frame whose true time is already stored is never embedded again.

The store holds exact frames only: each one decoded fully, as ``frames_at`` gives it, so a frame
taken from the store is the frame an uncached run decodes (``hfs.candidates.embed.resolve_targets``
says which frame that is for each target). The frames a shot scan kept (``hfs.candidates.coarse``)
are not exact: the scan skips B-frames, and a frame predicted from a skipped one decodes slightly
off (embeddings up to about 0.01 away). They are kept apart, per scan settings, in an entry of
their own (``scan``/``keep_scan``), serve only a later scan with the same settings, and are never
looked up as exact frames.

On disk the store is one entry of ``hfs.cache.EmbeddingCache`` per (video content, encoder,
short side, image-folder frame rate) (``hfs.cache.frames_key``), merged with what is there when
saved, so two runs filling the same video keep each other's frames. A file whose container has
no complete keyframe index is scanned for its keyframes once: their times are saved in the entry,
and a cached run takes them (``load_store``'s ``source``) instead of reading the whole file again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hfs.cache import CachedEmbeddings, EmbeddingCache
from hfs.video.sampling import nearest_indices

# times closer than this (seconds) are the same frame; far below any frame interval
_SAME_TIME = 1e-6


@dataclass
class FrameStore:
    """The embedded frames of one video: ``times`` [M] ascending, ``embeddings`` [M, D]."""

    times: np.ndarray
    embeddings: np.ndarray
    info: dict[str, Any]
    alias_targets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))  # [A] ascending
    alias_times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))  # [A] their frames' times
    scans: dict[str, CachedEmbeddings] = field(default_factory=dict)  # scan settings -> its kept frames
    new_scans: set[str] = field(default_factory=set)  # settings of the scans not saved yet
    scan_loader: Callable[[str], CachedEmbeddings | None] | None = field(default=None, repr=False)
    # a file's keyframe times from a demux scan (saved, so cached runs skip the scan), and the
    # video that may scan during this run (``FileVideo.scanned_keyframes``)
    keyframes: np.ndarray | None = None
    source: Any = field(default=None, repr=False)

    @classmethod
    def empty(cls, dim: int, info: dict[str, Any]) -> "FrameStore":
        """A store with no frames yet, for embeddings ``dim`` wide."""
        return cls(np.zeros(0, np.float64), np.zeros((0, dim), np.float32), dict(info))

    @property
    def interval(self) -> float:
        """Seconds between frames (0 when the rate is unknown: only exact times then match)."""
        fps = float(self.info.get("fps") or 0.0)
        return 1.0 / fps if fps > 0 else 0.0

    def __len__(self) -> int:
        return len(self.times)

    def rows_for(self, targets: np.ndarray) -> np.ndarray:
        """For each target time [T], the row of the stored frame nearest it, or -1 if not covered."""
        targets = np.asarray(targets, np.float64)
        if len(self.times) == 0:
            return np.full(len(targets), -1, np.int64)
        rows = nearest_indices(self.times, targets)
        gap = self.times[rows] - targets  # > 0: the stored frame lies after the target
        half = self.interval / 2
        covered = np.where(gap > 0, gap < half, -gap <= half) | (np.abs(gap) <= _SAME_TIME)
        rows = np.where(covered, rows, -1)
        if len(self.alias_targets) and np.any(rows < 0):
            at = np.clip(np.searchsorted(self.alias_targets, targets), 0, len(self.alias_targets) - 1)
            hit = (rows < 0) & (np.abs(self.alias_targets[at] - targets) <= _SAME_TIME)
            frame_rows = np.clip(np.searchsorted(self.times, self.alias_times[at] - _SAME_TIME), 0, len(self.times) - 1)
            hit &= np.abs(self.times[frame_rows] - self.alias_times[at]) <= _SAME_TIME
            rows = np.where(hit, frame_rows, rows)
        return rows

    def add_aliases(self, targets: np.ndarray, frame_times: np.ndarray) -> None:
        """Remember that each target [A] got the frame at the matching true time [A]."""
        all_t = np.concatenate([self.alias_targets, np.asarray(targets, np.float64)])
        all_f = np.concatenate([self.alias_times, np.asarray(frame_times, np.float64)])
        all_t, first = np.unique(all_t, return_index=True)
        self.alias_targets, self.alias_times = all_t, all_f[first]

    def missing(self, targets: np.ndarray) -> np.ndarray:
        """The targets [T'] no stored frame covers, in order."""
        targets = np.asarray(targets, np.float64)
        return targets[self.rows_for(targets) < 0]

    def has_time(self, t: float) -> bool:
        """Whether a frame at true time ``t`` is stored already."""
        i = int(np.searchsorted(self.times, t))
        return any(0 <= j < len(self.times) and abs(self.times[j] - t) <= _SAME_TIME for j in (i - 1, i))

    def add(self, times: np.ndarray, embeddings: np.ndarray) -> None:
        """Insert frames [F] / [F, D]; a time already stored keeps its first embedding."""
        times = np.asarray(times, np.float64)
        if len(times) == 0:
            return
        all_times = np.concatenate([self.times, times])
        all_emb = np.concatenate([self.embeddings, np.asarray(embeddings, np.float32)], axis=0)
        order = np.argsort(all_times, kind="stable")  # stored rows before new ones at equal times
        all_times, all_emb = all_times[order], all_emb[order]
        keep = np.ones(len(all_times), bool)
        keep[1:] = np.diff(all_times) > _SAME_TIME
        self.times, self.embeddings = all_times[keep], all_emb[keep]

    def scan(self, settings: str) -> CachedEmbeddings | None:
        """The frames a shot scan with ``settings`` kept, as it embedded them, if one is known."""
        if settings not in self.scans and self.scan_loader is not None:
            found = self.scan_loader(settings)
            if found is not None:
                self.scans[settings] = found
        return self.scans.get(settings)

    def keep_scan(self, settings: str, frames: CachedEmbeddings) -> None:
        """Remember a shot scan's kept frames (apart from the exact ones), to be saved with the store."""
        self.scans[settings] = frames
        self.new_scans.add(settings)

    def candidates(self, targets: np.ndarray) -> CachedEmbeddings:
        """The distinct stored frames covering ``targets`` (all must be covered), ascending."""
        rows = self.rows_for(targets)
        if np.any(rows < 0):
            raise ValueError(f"{int(np.sum(rows < 0))} target times have no stored frame")
        rows = np.unique(rows)
        return CachedEmbeddings(times=self.times[rows], embeddings=self.embeddings[rows], info=self.info)


_ALIASES = "frame_aliases"  # key of the [[target, frame time], ...] list in a saved entry's info
_KEYFRAMES = "keyframe_scan"  # key of a file's scanned keyframe times (stream clock) in a saved entry's info


def scan_key(key: str, settings: str) -> str:
    """The entry name of the shot scan with ``settings`` of the video whose frames are under ``key``."""
    return hashlib.sha256(f"{key}|shot scan|{settings}".encode()).hexdigest()[:32]


def _from_entry(entry: CachedEmbeddings, info: dict[str, Any]) -> FrameStore:
    store = FrameStore(entry.times, entry.embeddings, dict(info))
    pairs = np.asarray(entry.info.get(_ALIASES) or np.zeros((0, 2)), np.float64).reshape(-1, 2)
    if np.all(np.isfinite(pairs)):  # an entry damaged here only loses its aliases
        store.add_aliases(pairs[:, 0], pairs[:, 1])
    try:
        keys = np.asarray(entry.info.get(_KEYFRAMES), np.float64)
    except (TypeError, ValueError):
        keys = None
    if keys is not None and keys.ndim == 1 and np.all(np.isfinite(keys)) and np.all(np.diff(keys) > 0):
        store.keyframes = keys  # damaged: left out, and the file is scanned again
    return store


def load_store(cache: EmbeddingCache | None, key: str, dim: int, info: dict[str, Any],
               source: Any = None) -> FrameStore:
    """The store saved under ``key``, or an empty one (no cache, absent, or not valid); its shot
    scans are read when asked for. Given the ``source`` video, it takes the keyframe times saved
    with the frames, and its own scan's are saved with them (``FileVideo.adopt_keyframes``)."""
    entry = cache.load(key, dim=dim) if cache is not None else None
    store = FrameStore.empty(dim, info) if entry is None else _from_entry(entry, info)
    if cache is not None:
        store.scan_loader = lambda settings: cache.load(scan_key(key, settings), dim=dim)
    store.source = source
    if store.keyframes is not None and hasattr(source, "adopt_keyframes"):
        source.adopt_keyframes(store.keyframes)
    return store


def save_store(cache: EmbeddingCache | None, key: str, store: FrameStore) -> None:
    """Write ``store`` under ``key``, merged with the frames another run saved there meanwhile,
    and its new shot scans under their own entries."""
    if cache is None:
        return
    for settings in sorted(store.new_scans):
        frames = store.scans[settings]
        cache.save(scan_key(key, settings), CachedEmbeddings(frames.times, frames.embeddings, dict(store.info)))
    store.new_scans.clear()
    if len(store) == 0:
        return
    keyframes = store.keyframes if store.keyframes is not None else getattr(store.source, "scanned_keyframes", None)
    on_disk = cache.load(key, dim=store.embeddings.shape[1])
    if on_disk is not None:
        merged = _from_entry(on_disk, store.info)
        merged.add(store.times, store.embeddings)
        merged.add_aliases(store.alias_targets, store.alias_times)
        keyframes = keyframes if keyframes is not None else merged.keyframes
        store = merged
    info = {**store.info, _ALIASES: np.stack([store.alias_targets, store.alias_times], axis=1).tolist()}
    if keyframes is not None:
        info[_KEYFRAMES] = np.asarray(keyframes, np.float64).tolist()
    cache.save(key, CachedEmbeddings(times=store.times, embeddings=store.embeddings, info=info))
