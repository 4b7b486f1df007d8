"""Training-free query: one text built from the question and its options.

The options name what the answer may look like ("a red ball", "a box"), which is often the
most visual part of a multiple-choice question, so they are appended to the question.
"""

from __future__ import annotations

from collections.abc import Sequence

from hfs.errors import InputError


def validate_question(question: str | None) -> str:
    """The question with surrounding blanks removed; an empty one is an error."""
    if question is None or not str(question).strip():
        raise InputError("the question is empty: pass the question to answer with -q/--question")
    return " ".join(str(question).split())


def query_text(question: str, options: Sequence[str] | None = None) -> str:
    """'question Options: a; b; c' (or just the question)."""
    question = validate_question(question)
    opts = [" ".join(str(o).split()) for o in (options or []) if str(o).strip()]
    return f"{question} Options: {'; '.join(opts)}" if opts else question
