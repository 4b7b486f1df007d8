"""Where ``hfs embed`` puts what it embeds, chosen by name: the embedding cache or parquet shards.

An output is small and picklable (a folder and a few numbers), so decoding workers and Ray
actors get their own copy: workers ask ``missing(key, targets, info)`` which candidate times the
output lacks before decoding a video (this is what makes a run resumable, and lets the cache
reuse frames another N or ``hfs select`` embedded), the embedding side calls ``write(records)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hfs.cache import EmbeddingCache
from hfs.embed import parquet
from hfs.embed.parquet import EmbeddedVideo
from hfs.embed.shard_folder import bind_folder, settings
from hfs.errors import InputError
from hfs.frame_cache import load_store, save_store


@dataclass
class CacheOutput:
    """Entries of the embedding cache under ``root``, the ones ``hfs select`` reads."""

    root: str
    dim: int
    num_candidates: int
    encoder: str = ""
    videos_per_write: int = 1  # each entry is its own file

    @property
    def folder(self) -> Path:
        return Path(self.root)

    done_as = "cached"  # "N videos already cached"

    def missing(self, key: str, targets: np.ndarray, info: dict) -> np.ndarray:
        """The targets [T'] whose frames the video's cache entry does not hold yet."""
        return load_store(EmbeddingCache(self.root), key, self.dim, info).missing(targets)

    def write(self, records: Sequence[EmbeddedVideo]) -> None:
        """Store each video's frames; a failed write is a WriteError (never a warning: storing is the job)."""
        cache = EmbeddingCache(self.root, strict=True)
        for r in records:
            store = load_store(cache, r.key, self.dim, r.info)
            store.add(r.times, r.embeddings)
            far = store.rows_for(r.targets) < 0  # targets whose frame lies over half a frame away
            store.add_aliases(r.targets[far], r.target_times[far])
            save_store(cache, r.key, store)


@dataclass
class ParquetOutput:
    """Parquet shards in ``root`` (schema: ``hfs.embed.parquet``), one row per video."""

    root: str
    dim: int
    num_candidates: int
    encoder: str = ""
    videos_per_write: int = 64  # videos per shard written by the local engine
    skip: tuple[str, ...] = ()  # shards found unusable when the run began (named then), left out

    @property
    def folder(self) -> Path:
        return Path(self.root)

    done_as = "in the shards"

    def row_key(self, key: str) -> str:
        """A row holds one video's N candidates: its frames' cache key and N."""
        return f"{key}-n{self.num_candidates}"

    def missing(self, key: str, targets: np.ndarray, info: dict) -> np.ndarray:
        """All the targets [T], unless the shards hold this video's row already (then none)."""
        return targets[:0] if parquet.has_key(self.root, self.row_key(key), self.skip) else targets

    def write(self, records: Sequence[EmbeddedVideo]) -> None:
        """One shard of ``records``, one row per key: a video the shards (or this batch) hold
        already, under another spelling of its path or as a copy, is not stored twice."""
        rows: dict[str, EmbeddedVideo] = {}
        for r in records:
            key = self.row_key(r.key)
            if key not in rows and not parquet.has_key(self.root, key, self.skip):
                rows[key] = replace(r, key=key)
        parquet.write_shard(self.root, list(rows.values()), self.encoder, self.num_candidates, self.dim)


Output = CacheOutput | ParquetOutput
OUTPUTS: dict[str, Callable[..., Output]] = {"cache": CacheOutput, "parquet": ParquetOutput}


def create_output(fmt: str, root: str | Path, dim: int, num_candidates: int, encoder: str = "",
                  fingerprint: str = "", short_side: int = 0) -> Output:
    """The output called ``fmt`` ("cache" or "parquet") writing into the folder ``root``.

    A parquet folder is bound to the encoder (``fingerprint``: its weights) and settings first
    (``hfs.embed.shard_folder``): a folder of other ones is an InputError, and its unusable
    shards are named once and left out."""
    if fmt not in OUTPUTS:
        raise InputError(f"unknown embed output format {fmt!r}; choose one of {', '.join(OUTPUTS)}")
    if fmt == "parquet":
        skip = bind_folder(root, settings(encoder, fingerprint, dim, num_candidates, short_side))
        return ParquetOutput(str(root), dim, num_candidates, encoder, skip=skip)
    return OUTPUTS[fmt](str(root), dim, num_candidates, encoder)
