"""Readers for the training sets of the paper: VideoChat2-IT and LLaVA-Video-178K.

Both are JSON (or JSONL) lists of records naming a video and its question-answer turns:
- VideoChat2-IT: {"video": "x.mp4", "QA": [{"i": instruction, "q": question, "a": answer}]},
  multiple-choice turns write "Options:\\n(A) ...\\n(B) ..." in q and "(B) ..." in a;
- LLaVA-Video-178K: {"id", "video": "x.mp4", "conversations": [{"from": "human", "value":
  "<image>\\nquestion\\nA. ...\\nB. ..."}, {"from": "gpt", "value": "B."}, ...]}.
Multiple-choice turns become ``TrainingQuestion``s; open-ended turns are kept as such (for the
teacher's language-model loss) or skipped, and every skip is counted by reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfs.data.paths import resolve_under
from hfs.errors import InputError

LETTERS = "ABCDEFGHIJ"
_PAREN_OPTION = re.compile(r"^\s*\(([A-J])\)\s*(.+?)\s*$")
_DOT_OPTION = re.compile(r"^\s*([A-J])[.):]\s+(.+?)\s*$")
# The letter must be a capital: "a phone" is an answer text, not option A.
_ANSWER_LETTER = re.compile(r"^\s*(?:(?i:best\s+option|answer)\s*:?\s*)?\(?([A-J])\)?(?:[.):\s]|$)")


@dataclass
class TrainingQuestion:
    """One question about one video; ``answer`` is an option index, or None if open-ended."""

    id: str
    video: Path
    question: str
    options: list[str]
    answer: int | None
    answer_text: str = ""
    source: str = ""


@dataclass
class ReadReport:
    """What a reader kept, what it skipped by reason, and (benchmarks) each record it could not
    score, named."""

    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    unscorable: list[str] = field(default_factory=list)


def read_json_records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON list or JSONL annotation file."""
    if not path.is_file():
        raise InputError(f"{path}: annotation file not found")
    text = path.read_text()
    try:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of records")
    return data


def split_options(text: str) -> tuple[str, list[str]]:
    """Split 'question\\n(A) x\\n(B) y' or 'question\\nA. x\\nB. y' into question and options."""
    question_lines, options = [], []
    for line in text.splitlines():
        match = _PAREN_OPTION.match(line) or _DOT_OPTION.match(line)
        if match and match.group(1) == LETTERS[len(options)]:
            options.append(match.group(2))
        elif not options:
            question_lines.append(line)
    question = " ".join(" ".join(question_lines).replace("<image>", " ").split())
    question = re.sub(r"^Question:\s*", "", question)
    question = re.sub(r"\s*Options:\s*$", "", question)
    return question, options


def answer_index(answer: str, options: list[str]) -> int | None:
    """The option an answer names, by letter ('(B) ...', 'B.', 'Answer: B') or by exact text."""
    match = _ANSWER_LETTER.match(answer)
    if match and LETTERS.index(match.group(1)) < len(options):
        return LETTERS.index(match.group(1))
    lowered = answer.strip().rstrip(".").lower()
    for i, option in enumerate(options):
        if option.strip().rstrip(".").lower() == lowered:
            return i
    return None


def _make(record_id: str, video: Path, q_text: str, a_text: str, source: str, report: ReadReport,
          keep_open_ended: bool) -> TrainingQuestion | None:
    question, options = split_options(q_text)
    if len(options) >= 2:
        index = answer_index(a_text, options)
        if index is None:
            report.skipped["answer not among the options"] += 1
            return None
        report.kept += 1
        return TrainingQuestion(record_id, video, question, options, index, options[index], source)
    if not keep_open_ended:
        report.skipped["open-ended"] += 1
        return None
    report.kept += 1
    return TrainingQuestion(record_id, video, question, [], None, a_text.strip(), source)


def read_videochat2(path: str | Path, root: str | Path, keep_open_ended: bool = False,
                    report: ReadReport | None = None) -> list[TrainingQuestion]:
    """VideoChat2-IT annotation file -> questions (one per QA turn)."""
    path, report = Path(path), report if report is not None else ReadReport()
    out = []
    for n, record in enumerate(read_json_records(path)):
        where = f"{path} record {n}: "
        if not isinstance(record, dict) or "video" not in record or not isinstance(record.get("QA"), list):
            raise InputError(f"{where}needs 'video' and a 'QA' list")
        video = resolve_under(root, str(record["video"]), where)
        for t, turn in enumerate(record["QA"]):
            q_text = "\n".join(s for s in (turn.get("q", ""),) if s)
            item = _make(f"{path.stem}/{n}/{t}", video, q_text, str(turn.get("a", "")), "videochat2", report,
                         keep_open_ended)
            if item is not None:
                out.append(item)
    return out


def read_llava_video(path: str | Path, root: str | Path, keep_open_ended: bool = False,
                     report: ReadReport | None = None) -> list[TrainingQuestion]:
    """LLaVA-Video-178K annotation file -> questions (one per human/gpt pair)."""
    path, report = Path(path), report if report is not None else ReadReport()
    out = []
    for n, record in enumerate(read_json_records(path)):
        where = f"{path} record {n}: "
        turns = record.get("conversations") if isinstance(record, dict) else None
        if not isinstance(turns, list) or "video" not in record:
            raise InputError(f"{where}needs 'video' and a 'conversations' list")
        video = resolve_under(root, str(record["video"]), where)
        for t in range(0, len(turns) - 1, 2):
            human, gpt = turns[t], turns[t + 1]
            if human.get("from") != "human" or gpt.get("from") != "gpt":
                raise InputError(f"{where}turns {t}, {t + 1} are not a human/gpt pair")
            item = _make(f"{record.get('id', n)}/{t // 2}", video, str(human.get("value", "")),
                         str(gpt.get("value", "")), "llava-video", report, keep_open_ended)
            if item is not None:
                out.append(item)
    return out


READERS = {"videochat2": read_videochat2, "llava-video": read_llava_video}
