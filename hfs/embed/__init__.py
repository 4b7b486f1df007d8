"""Corpus-scale embedding: every video of a manifest into the embedding cache (``hfs embed``)."""

from hfs.embed.corpus import EmbedReport, embed_corpus
from hfs.embed.manifest import read_manifest

__all__ = ["EmbedReport", "embed_corpus", "read_manifest"]
