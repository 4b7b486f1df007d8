"""On-disk cache of frame embeddings, one entry per (video content, encoder).

An entry holds every frame of the video that encoder has embedded so far, by true time
(``hfs.frame_cache`` looks targets up in it and merges new frames in), so no N is in the key.

An entry is one ``.npz`` file written to a temporary name in the same folder and renamed
into place, so a process killed mid-write leaves at most a stray temporary file, never an
entry (``hfs.atomic`` removes such leftovers on a later run). Entries also carry a checksum of
their arrays, checked on every read along with their shapes and values: a damaged, truncated or
otherwise invalid entry is deleted and treated as a miss. A cache folder that cannot be written
is not an error: the run goes on without it after one warning line.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hfs.atomic import atomic_file, clean_stale
from hfs.errors import WriteError, warn

# 2: entries keyed on an image folder's frame rate too, and validated against the encoder
# 3: one entry per (video, encoder) holding every frame embedded so far, whatever the N
# 4: exact frames only (shot scans' approximate frames in entries of their own)
CACHE_VERSION = 4


def default_cache_dir() -> Path:
    """``$HFS_CACHE_DIR``, else ``$XDG_CACHE_HOME/hfs``, else ``~/.cache/hfs``."""
    if os.environ.get("HFS_CACHE_DIR"):
        return Path(os.environ["HFS_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "hfs"


def content_hash(path: str | Path, chunk: int = 1 << 22) -> str:
    """BLAKE2b of a file's bytes, or of the names and bytes of a folder's files."""
    path = Path(path)
    h = hashlib.blake2b(digest_size=20)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(file.name.encode() + b"\0")
        with open(file, "rb") as f:
            while block := f.read(chunk):
                h.update(block)
    return h.hexdigest()


def frames_key(source: Any, encoder_fingerprint: str, short_side: int) -> str:
    """The entry name of ``source``'s (a ``hfs.video`` source) embedded frames: its content, the
    encoder and, for an image folder, the frame rate that sets its images' times. ``hfs select``
    and ``hfs embed`` both name entries with it."""
    rate = source.info.fps if source.info.kind == "folder" else None
    return EmbeddingCache.key(content_hash(source.path), encoder_fingerprint, short_side, frame_rate=rate)


@dataclass
class CachedEmbeddings:
    """What a cache hit returns: enough to select without touching the video."""

    times: np.ndarray  # [M] seconds of the candidate frames
    embeddings: np.ndarray  # [M, D] unit vectors
    info: dict[str, Any]  # VideoInfo.to_dict() of the source


def _checksum(times: np.ndarray, embeddings: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(times, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(embeddings, dtype=np.float32).tobytes())
    return h.hexdigest()


def entry_problem(times: np.ndarray, embeddings: np.ndarray, dim: int | None = None,
                  max_rows: int | None = None) -> str | None:
    """What makes (``times``, ``embeddings``) unusable as candidates, or None if nothing does.

    Valid: 1 to ``max_rows`` rows, times finite, non-negative, strictly ascending; embeddings
    [rows, ``dim``] and finite.
    """
    if times.ndim != 1 or embeddings.ndim != 2:
        return f"arrays of {times.ndim} and {embeddings.ndim} dimensions"
    rows = len(times)
    if rows == 0 or len(embeddings) != rows:
        return f"{rows} times for {len(embeddings)} embeddings"
    if max_rows is not None and rows > max_rows:
        return f"{rows} candidates, at most {max_rows} expected"
    if dim is not None and embeddings.shape[1] != dim:
        return f"{embeddings.shape[1]}-d embeddings, the encoder gives {dim}-d"
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(embeddings))):
        return "values that are not finite"
    if times[0] < 0 or np.any(np.diff(times) <= 0):
        return "times that are negative or not strictly ascending"
    return None


_WARNED: set[str] = set()
_CLEANED: set[str] = set()


def _warn_once(root: Path, what: str) -> None:
    """One line on stderr per cache folder and process: the run goes on without the cache."""
    if str(root) not in _WARNED:
        _WARNED.add(str(root))
        warn(f"{root}: {what}; running without the embedding cache")


class EmbeddingCache:
    """Folder of cache entries; ``key(...)`` names one, ``load``/``save`` read and write it.

    The cache never fails a run: an entry that cannot be read or is not valid is a miss (and is
    removed when possible), and a folder that cannot be written is skipped with one warning line.
    """

    def __init__(self, root: str | Path | None = None, strict: bool = False) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir() / "embeddings"
        self.writable = True
        self.strict = strict  # a failed write is a WriteError (``hfs embed``, whose job is writing)

    @staticmethod
    def key(video_hash: str, encoder_fingerprint: str, short_side: int, frame_rate: float | None = None) -> str:
        """Names the entry of everything that sets the frames' times and embeddings.

        ``frame_rate``: the rate an image folder is shown at (it sets every image's time); None
        for a video file, whose content fixes its own. The decode mode is not part of the key:
        a frame is stored by its own true time, whichever mode decoded it.
        """
        rate = "file" if frame_rate is None else repr(float(frame_rate))
        raw = f"v{CACHE_VERSION}|{video_hash}|{encoder_fingerprint}|{short_side}|{rate}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def _clean_once(self) -> None:
        """Remove temporary files of killed writers, once per folder and process."""
        if str(self.root) not in _CLEANED:
            _CLEANED.add(str(self.root))
            clean_stale(self.root)

    def load(self, key: str, dim: int | None = None, max_rows: int | None = None) -> CachedEmbeddings | None:
        """The entry for ``key``, or None if absent or not valid (a bad entry is removed).

        ``dim`` and ``max_rows``: the embedding width and the most candidates the caller
        expects; an entry that disagrees is not valid.
        """
        self._clean_once()
        file = self.path(key)
        try:
            with np.load(file, allow_pickle=False) as data:
                times = np.asarray(data["times"])
                embeddings = np.asarray(data["embeddings"])
                meta = json.loads(str(data["meta"][()]))
        except (FileNotFoundError, PermissionError):  # absent, or a folder this user cannot read
            return None
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss, whatever broke it
            self._discard(file)
            return None
        if (times.dtype != np.float64 or embeddings.dtype != np.float32 or not isinstance(meta, dict)
                or meta.get("version") != CACHE_VERSION or not isinstance(meta.get("info"), dict)
                or meta.get("checksum") != _checksum(times, embeddings)
                or entry_problem(times, embeddings, dim, max_rows) is not None):
            self._discard(file)
            return None
        return CachedEmbeddings(times=times, embeddings=embeddings, info=meta["info"])

    def _discard(self, file: Path) -> None:
        try:
            file.unlink(missing_ok=True)
        except OSError:  # a read-only cache: the entry stays, and stays a miss
            pass

    def save(self, key: str, entry: CachedEmbeddings) -> Path | None:
        """Write atomically (temporary file in the same folder, fsync, rename).

        Returns the entry's path, or None when the folder cannot be written (said once, on
        stderr) or the entry is not valid (it is not stored).
        """
        times = np.asarray(entry.times, np.float64)
        embeddings = np.asarray(entry.embeddings, np.float32)
        if not self.writable or entry_problem(times, embeddings) is not None:
            return None
        self._clean_once()
        meta = {"version": CACHE_VERSION, "checksum": _checksum(times, embeddings), "info": entry.info}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with atomic_file(self.path(key)) as tmp, open(tmp, "wb") as f:
                np.savez(f, times=times, embeddings=embeddings, meta=np.array(json.dumps(meta)))
        except OSError as exc:
            if self.strict:
                raise WriteError(self.path(key), "a video's embeddings", exc) from None
            self.writable = False
            _warn_once(self.root, f"cannot write to the cache folder ({exc.strerror or exc})")
            return None
        return self.path(key)
