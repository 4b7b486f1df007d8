"""The chain-of-thought prompt that the student LM reads before the question.

Versioned: a checkpoint records ``PROMPT_VERSION``, and changing the text means a new version,
since the learned query positions depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence

PROMPT_VERSION = "hfs-cot-v1"

COT_PROMPT = (
    "You choose the video frames needed to answer a question about a video. Think step by step. "
    "First, break the question into its parts: who, what, where and when. "
    "Second, name the visual evidence each part needs: objects, people, actions, places, text on screen, colours. "
    "Third, state the temporal and causal relations that matter: what happens before or after, "
    "what causes what, the order of events. "
    "Fourth, say what in the frames would tell the answer options apart.\n"
)

LETTERS = "ABCDEFGHIJ"


def question_block(question: str, options: Sequence[str] | None = None) -> str:
    """'Question: ...' and, if any, the options lettered 'A. ...' (kept as given if lettered)."""
    lines = [f"Question: {' '.join(question.split())}"]
    if options:
        lines.append("Options:")
        for letter, option in zip(LETTERS, options):
            option = " ".join(str(option).split())
            lines.append(option if option[:2] == f"{letter}." else f"{letter}. {option}")
    return "\n".join(lines) + "\n"
