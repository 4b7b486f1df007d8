"""Video-MME (Hugging Face dataset lmms-lab/Video-MME).

The annotations are one parquet file of records {video_id: "001", duration: "short" | "medium" |
"long", domain, sub_category, url, videoID: YouTube id, question_id: "001-1", task_type,
question, options: ["A. ...", "B. ...", ...], answer: "C"}; the released video zips extract to
``data/{videoID}.mp4`` and the subtitle zip to ``subtitle/{videoID}.srt`` (not every video has
one). A .json/.jsonl file holding the same records is read too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hfs.data.benchmarks.common import (
    BadRecord, BenchmarkQuestion, collect, require_file, string_list, text, video_under,
)
from hfs.data.instruct import ReadReport, read_json_records
from hfs.errors import InputError
from hfs.query.prompt import LETTERS

NAME = "videomme"
DEFAULT_ANNOTATIONS = "videomme/test-00000-of-00001.parquet"
SOURCE = ("Video-MME comes from the Hugging Face dataset lmms-lab/Video-MME: put "
          f"{DEFAULT_ANNOTATIONS} and the videos (data/<videoID>.mp4) under the data root")
DURATIONS = ("short", "medium", "long")
_OPTION = re.compile(r"^\s*([A-J])\s*[.):]\s*(.*?)\s*$", re.DOTALL)


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputError(f"{path}: reading parquet annotations needs pyarrow; "
                         "pip install pyarrow (or pip install 'hfs[eval]')") from None
    try:
        return pyarrow.parquet.read_table(path).to_pylist()
    except (pyarrow.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None


def load_records(path: Path) -> list[Any]:
    """The records of a Video-MME annotation file: parquet, JSON list or JSONL."""
    require_file(path, SOURCE)
    if path.suffix == ".parquet":
        return _read_parquet(path)
    if path.suffix in (".json", ".jsonl"):
        return read_json_records(path)
    raise InputError(f"{path}: Video-MME annotations should be a .parquet, .json or .jsonl file")


def strip_letters(options: list[str]) -> list[str]:
    """["A. x", "B. y"] -> ["x", "y"]; each option must carry its own letter, in order."""
    out = []
    for i, option in enumerate(options):
        match = _OPTION.match(option)
        if not match or match.group(1) != LETTERS[i] or not match.group(2):
            raise BadRecord("bad options", f"option {i} {option!r} does not start with '{LETTERS[i]}. '")
        out.append(match.group(2))
    return out


def _parse(root: Path, record: dict[str, Any]) -> BenchmarkQuestion:
    qid = text(record, "question_id")
    duration = text(record, "duration")
    if duration not in DURATIONS:
        raise BadRecord("bad field", f"duration {duration!r} is not one of {', '.join(DURATIONS)}")
    options = strip_letters(string_list(record, "options"))
    letter = text(record, "answer")
    if len(letter) != 1 or letter not in LETTERS:
        raise BadRecord("unknown answer letter", f"answer {letter!r} is not an option letter")
    answer = LETTERS.index(letter)
    if answer >= len(options):
        raise BadRecord("answer out of range", f"answer {letter!r} but only {len(options)} options")
    youtube_id = text(record, "videoID")
    return BenchmarkQuestion(
        id=qid, benchmark=NAME, video=video_under(root / "data", f"{youtube_id}.mp4"),
        video_id=text(record, "video_id"), question=text(record, "question"), options=options,
        answer=answer, duration_group=duration, category=text(record, "task_type"),
        subtitles=video_under(root / "subtitle", f"{youtube_id}.srt"))


def read_videomme(data_root: str | Path, annotations: str | Path | None = None) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """Video-MME questions; ``annotations`` defaults to the released parquet under ``data_root``."""
    root = Path(data_root)
    path = Path(annotations) if annotations is not None else root / DEFAULT_ANNOTATIONS
    report = ReadReport()
    questions = collect(path, load_records(path), lambda n, r: _parse(root, r),
                        lambda n, r: r.get("question_id"), report)
    return questions, report
