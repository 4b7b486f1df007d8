"""Turning a question (and its answer options) into what the frames are scored against."""

from hfs.query.text import query_text, validate_question

__all__ = ["query_text", "validate_question"]
