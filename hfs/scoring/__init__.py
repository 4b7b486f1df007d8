"""Frame scores: how well each candidate frame matches the query."""

from hfs.scoring.similarity import cosine_scores, query_scores, standardize

__all__ = ["cosine_scores", "query_scores", "standardize"]
