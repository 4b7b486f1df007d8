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
        cache = EmbeddingCache(self.root)
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

    @property
    def folder(self) -> Path:
        return Path(self.root)

    done_as = "in the shards"

    def row_key(self, key: str) -> str:
        """A row holds one video's N candidates: its frames' cache key and N."""
        return f"{key}-n{self.num_candidates}"

    def missing(self, key: str, targets: np.ndarray, info: dict) -> np.ndarray:
        """All the targets [T], unless the shards hold this video's row already (then none)."""
        return targets[:0] if parquet.has_key(self.root, self.row_key(key)) else targets

    def write(self, records: Sequence[EmbeddedVideo]) -> None:
        rows = [replace(r, key=self.row_key(r.key)) for r in records]
        parquet.write_shard(self.root, rows, self.encoder, self.num_candidates, self.dim)


Output = CacheOutput | ParquetOutput
OUTPUTS: dict[str, Callable[..., Output]] = {"cache": CacheOutput, "parquet": ParquetOutput}


def create_output(fmt: str, root: str | Path, dim: int, num_candidates: int, encoder: str = "") -> Output:
    """The output called ``fmt`` ("cache" or "parquet") writing into the folder ``root``."""
    if fmt not in OUTPUTS:
        raise InputError(f"unknown embed output format {fmt!r}; choose one of {', '.join(OUTPUTS)}")
    return OUTPUTS[fmt](str(root), dim, num_candidates, encoder)
