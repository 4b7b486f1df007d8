"""LongVideoBench (Hugging Face dataset longvideobench/LongVideoBench), validation split.

``lvb_val.json`` is a JSON list of records {video_id, question, question_wo_referring_query,
candidates: 2 to 5 option texts, correct_choice: index, position, topic_id, question_category:
"T3O", level, id, video_path: "abc.mp4", subtitle_path, duration_group: 15 | 60 | 600 | 3600,
starting_timestamp_for_subtitles, duration: seconds}; videos are ``videos/{video_path}`` and
subtitles ``subtitles/{subtitle_path}`` (the dataset's subtitles.tar), as lmms-eval reads them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hfs.data.benchmarks.common import (
    BadRecord, BenchmarkQuestion, collect, integer, require_file, seconds, string_list, text, video_under,
)
from hfs.data.instruct import ReadReport, read_json_records

NAME = "longvideobench"
DEFAULT_ANNOTATIONS = "lvb_val.json"
SOURCE = ("LongVideoBench comes from the Hugging Face dataset longvideobench/LongVideoBench: put "
          f"{DEFAULT_ANNOTATIONS} and videos/ under the data root")


def _parse(root: Path, record: dict[str, Any]) -> BenchmarkQuestion:
    qid = text(record, "id")
    options = string_list(record, "candidates")
    answer = integer(record, "correct_choice")
    if not 0 <= answer < len(options):
        raise BadRecord("answer out of range", f"correct_choice {answer} but {len(options)} candidates")
    group = integer(record, "duration_group")
    if group <= 0:
        raise BadRecord("bad field", f"duration_group {group} should be a positive number of seconds")
    duration = seconds(record, "duration") if record.get("duration") is not None else None
    subtitle_path = record.get("subtitle_path")
    offset = record.get("starting_timestamp_for_subtitles") or 0
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not math.isfinite(offset):
        raise BadRecord("bad field", f"starting_timestamp_for_subtitles {offset!r} should be seconds")
    return BenchmarkQuestion(
        id=qid, benchmark=NAME, video=video_under(root / "videos", text(record, "video_path")),
        video_id=text(record, "video_id"), question=text(record, "question"), options=options,
        answer=answer, duration_group=f"{group}s", category=text(record, "question_category"),
        duration=duration, subtitle_offset=float(offset),
        subtitles=video_under(root / "subtitles", subtitle_path) if isinstance(subtitle_path, str) and subtitle_path
        else None)


def read_longvideobench(data_root: str | Path, annotations: str | Path | None = None) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """LongVideoBench questions; ``annotations`` defaults to ``lvb_val.json`` under ``data_root``."""
    root = Path(data_root)
    path = require_file(Path(annotations) if annotations is not None else root / DEFAULT_ANNOTATIONS, SOURCE)
    report = ReadReport()
    questions = collect(path, read_json_records(path), lambda n, r: _parse(root, r),
                        lambda n, r: r.get("id"), report)
    return questions, report
