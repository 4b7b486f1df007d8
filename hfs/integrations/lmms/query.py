"""What the frames of an lmms-eval sample are chosen for: its question and options, never the
instructions or subtitles lmms-eval's prompt wraps them in.

lmms-eval's ``videomme_w_subtitle`` prompt starts with the subtitles, then an instruction, then
the question; CLIP-like encoders read 77 tokens, so the whole prompt as a query never reaches
the question. So:

1. For the benchmarks hfs reads (Video-MME, LongVideoBench, MLVU, NExT-QA), in every variant of
   their lmms-eval tasks (``videomme``, ``videomme_w_subtitle``, ``videomme_long*``,
   ``longvideobench_*``, ``mlvu_*``, ``nextqa_*``), the question and options come from the doc's
   own fields, as the tasks' ``doc_to_text`` functions in lmms-eval 0.7.3 read them
   (``lmms_eval/tasks/<benchmark>/utils.py``).
2. Any other task falls back to the prompt text, cleaned: a subtitle block (from a line saying
   subtitles are "listed below" to the next instruction or question) and the instruction
   sentences lmms-eval's video tasks add (``BOILERPLATE``) are dropped; lines like ``A. ...`` /
   ``(B) ...`` are the options; the question is the last other line ending in "?" (else the last
   other line).

The query text is then the question followed by its options (``hfs.query.text.query_text``), so
an encoder that truncates a long text keeps the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# instruction sentences of lmms-eval's video QA prompts (videomme, longvideobench, mlvu, nextqa,
# and the common post_prompts); matched case-insensitively and removed wherever they appear
BOILERPLATE = (
    r"Select the best answer to the following multiple-choice question based on the video( and the subtitles)?\.",
    r"Respond with only the letter \(A, B, C, (or )?D\)( or E)? of the correct option\.",
    r"The best answer is:?",
    r"Answer with the option'?s letter from the given choices directly\.?",
    r"Answer with the option letter only\.?",
    r"Answer the question using a single word or phrase\.?",
    r"Answer the question with A, B, C, or D\.?",
    r"Please answer directly with only the letter of the correct option and nothing else\.?",
    r"Only give the best option\.?",
    r"Best option:\s*\(?",
    r"^\s*Options?:\s*",
    r"^\s*Question:\s*",
)
_BOILERPLATE = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in BOILERPLATE]
_SUBTITLES = re.compile(r"subtitles? (are|is) (listed|given|shown) below", re.IGNORECASE)
_OPTION = re.compile(r"^\s*\(?[A-Ha-h][.):]\s*\S")


@dataclass
class SampleQuery:
    """The text a sample's frames are chosen for."""

    question: str
    options: list[str] = field(default_factory=list)
    source: str = "doc"  # "doc": the task's own fields; "prompt": the cleaned prompt text

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "options": self.options, "query_from": self.source}


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _split_options(text: str) -> tuple[str, list[str]]:
    """(the question lines, the option lines) of a question with its options inline."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    options = [line for line in lines if _OPTION.match(line)]
    rest = [line for line in lines if not _OPTION.match(line)]
    return " ".join(rest), options


def _videomme(doc: Mapping) -> SampleQuery | None:
    options = doc.get("options")
    if not isinstance(options, (list, tuple)):
        return None
    return SampleQuery(_text(doc["question"]), [_text(o) for o in options])


def _longvideobench(doc: Mapping) -> SampleQuery | None:
    options = [doc.get(f"option{i}") for i in range(5)]
    options = [o for o in options if o is not None and o != "N/A"]
    return SampleQuery(_text(doc["question"]), [f"{chr(ord('A') + i)}. {_text(o)}" for i, o in enumerate(options)])


def _mlvu(doc: Mapping) -> SampleQuery | None:
    if isinstance(doc.get("candidates"), (list, tuple)):
        return SampleQuery(_text(doc["question"]), [_text(o) for o in doc["candidates"]])
    question, options = _split_options(str(doc["question"]))  # lmms-eval's MLVU puts them in the question
    return SampleQuery(question, options)


def _nextqa(doc: Mapping) -> SampleQuery | None:
    options = [doc.get(f"a{i}") for i in range(5)]
    options = [f"{chr(ord('A') + i)}. {_text(o)}" for i, o in enumerate(options) if o is not None]
    return SampleQuery(_text(doc["question"]), options)


# task name prefix -> how its docs hold the question and options
DOC_RULES = {"videomme": _videomme, "longvideobench": _longvideobench, "mlvu": _mlvu, "nextqa": _nextqa}


def doc_query(task: str | None, doc: Any) -> SampleQuery | None:
    """The question and options from the doc's fields, for the tasks ``DOC_RULES`` knows
    (None for other tasks, or a doc without a text ``question``)."""
    if not task or not isinstance(doc, Mapping) or not isinstance(doc.get("question"), str):
        return None
    for prefix, rule in DOC_RULES.items():
        if task.startswith(prefix):
            found = rule(doc)
            if found is not None and found.question:
                return found
    return None


def _drop_subtitles(lines: list[str]) -> list[str]:
    """The lines without a subtitle block: from the line announcing it to the next line that is
    an instruction or a question."""
    start = next((i for i, line in enumerate(lines) if _SUBTITLES.search(line)), None)
    if start is None:
        return lines
    ends = [i for i in range(start + 1, len(lines)) if _is_boilerplate(lines[i])]
    if not ends:  # no instruction after the subtitles: the block ends before the last question
        ends = [i for i in range(len(lines) - 1, start, -1) if lines[i].rstrip().endswith("?")]
    end = ends[0] if ends else start + 1
    return lines[:start] + lines[end:]


def _is_boilerplate(line: str) -> bool:
    return any(p.search(line) for p in _BOILERPLATE)


def prompt_query(prompt: str) -> SampleQuery:
    """The question and options of a prompt of unknown layout (the module docstring's rule 2)."""
    lines = _drop_subtitles([line for line in str(prompt).splitlines()])
    kept = []
    for line in lines:
        for pattern in _BOILERPLATE:
            line = pattern.sub(" ", line)
        if line.strip():
            kept.append(line.strip())
    options = [line for line in kept if _OPTION.match(line)]
    others = [line for line in kept if not _OPTION.match(line)]
    questions = [line for line in others if line.endswith("?")]
    question = questions[-1] if questions else (others[-1] if others else " ".join(options))
    return SampleQuery(_text(question), [_text(o) for o in options], source="prompt")


def sample_query(task: str | None, doc: Any, prompt: Callable[[], str]) -> SampleQuery:
    """The query of one lmms-eval sample: its doc's fields where the task is known, else its
    cleaned prompt (``prompt()`` is called only then: building it can mean building the task's
    messages, which for a subtitle task opens the video and reads its subtitles)."""
    return doc_query(task, doc) or prompt_query(prompt())
