"""On-disk cache of candidate-frame embeddings, keyed by the video's content.

An entry is one ``.npz`` file written to a temporary name in the same folder and renamed
into place, so a process killed mid-write leaves at most a stray temporary file, never an
entry. Entries also carry a checksum of their arrays, checked on every read: a damaged or
truncated entry is deleted and treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hfs.atomic import atomic_file
from hfs.errors import CacheError

CACHE_VERSION = 1


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


class EmbeddingCache:
    """Folder of cache entries; ``key(...)`` names one, ``load``/``save`` read and write it."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir() / "embeddings"

    @staticmethod
    def key(video_hash: str, num_candidates: int, encoder_fingerprint: str, short_side: int) -> str:
        raw = f"v{CACHE_VERSION}|{video_hash}|{num_candidates}|{encoder_fingerprint}|{short_side}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def load(self, key: str) -> CachedEmbeddings | None:
        """The entry for ``key``, or None if absent or not valid (a bad entry is removed)."""
        file = self.path(key)
        if not file.is_file():
            return None
        try:
            with np.load(file, allow_pickle=False) as data:
                times = data["times"].astype(np.float64)
                embeddings = data["embeddings"].astype(np.float32)
                meta = json.loads(str(data["meta"]))
            if meta.get("version") != CACHE_VERSION or meta.get("checksum") != _checksum(times, embeddings):
                raise ValueError("checksum mismatch")
            if times.ndim != 1 or embeddings.ndim != 2 or len(times) != len(embeddings):
                raise ValueError("shape mismatch")
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss, whatever broke it
            file.unlink(missing_ok=True)
            return None
        return CachedEmbeddings(times=times, embeddings=embeddings, info=meta["info"])

    def save(self, key: str, entry: CachedEmbeddings) -> Path:
        """Write atomically (temporary file in the same folder, fsync, rename)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"{self.root}: cannot create cache folder ({exc.strerror})") from exc
        meta = {"version": CACHE_VERSION, "checksum": _checksum(entry.times, entry.embeddings), "info": entry.info}
        with atomic_file(self.path(key)) as tmp, open(tmp, "wb") as f:
            np.savez(
                f, times=np.asarray(entry.times, np.float64),
                embeddings=np.asarray(entry.embeddings, np.float32), meta=np.array(json.dumps(meta)),
            )
        return self.path(key)
