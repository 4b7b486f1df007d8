"""Where ``hfs embed`` puts what it embeds, chosen by name: the embedding cache or parquet shards.

An output is small and picklable (a folder and a few numbers), so decoding workers and Ray
actors get their own copy: workers ask ``done(key)`` before decoding a video (this is what makes
a run resumable), the embedding side calls ``write(records)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hfs.cache import CachedEmbeddings, EmbeddingCache
from hfs.embed import parquet
from hfs.embed.parquet import EmbeddedVideo
from hfs.errors import InputError


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

    def done(self, key: str) -> bool:
        return EmbeddingCache(self.root).load(key, dim=self.dim, max_rows=self.num_candidates) is not None

    def write(self, records: Sequence[EmbeddedVideo]) -> None:
        cache = EmbeddingCache(self.root)
        for r in records:
            cache.save(r.key, CachedEmbeddings(times=r.times, embeddings=r.embeddings, info=r.info))


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

    def done(self, key: str) -> bool:
        return parquet.has_key(self.root, key)

    def write(self, records: Sequence[EmbeddedVideo]) -> None:
        parquet.write_shard(self.root, records, self.encoder, self.num_candidates, self.dim)


Output = CacheOutput | ParquetOutput
OUTPUTS: dict[str, Callable[..., Output]] = {"cache": CacheOutput, "parquet": ParquetOutput}


def create_output(fmt: str, root: str | Path, dim: int, num_candidates: int, encoder: str = "") -> Output:
    """The output called ``fmt`` ("cache" or "parquet") writing into the folder ``root``."""
    if fmt not in OUTPUTS:
        raise InputError(f"unknown embed output format {fmt!r}; choose one of {', '.join(OUTPUTS)}")
    return OUTPUTS[fmt](str(root), dim, num_candidates, encoder)
