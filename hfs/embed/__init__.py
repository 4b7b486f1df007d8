"""Corpus-scale embedding: every video of a manifest into the embedding cache or parquet shards (``hfs embed``).

Engines, chosen by name in ``ENGINES``: "local" (a process pool on this machine) and "ray" (the
same decode and embed functions on Ray Data; ``pip install "hfs[ray]"``). Outputs, chosen by
name in ``OUTPUTS``: "cache" and "parquet".
"""

from collections.abc import Callable

from hfs.embed.corpus import EmbedReport, embed_corpus
from hfs.embed.manifest import read_manifest
from hfs.embed.output import OUTPUTS, CacheOutput, ParquetOutput, create_output
from hfs.embed.ray_engine import embed_corpus_ray

ENGINES: dict[str, Callable[..., EmbedReport]] = {"local": embed_corpus, "ray": embed_corpus_ray}

__all__ = ["ENGINES", "OUTPUTS", "CacheOutput", "EmbedReport", "ParquetOutput", "create_output", "embed_corpus",
           "embed_corpus_ray", "read_manifest"]
