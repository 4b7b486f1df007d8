"""The synthetic evidence benchmark as an evaluation benchmark: ``items.json`` written by
``hfs.data.evidence.make_evidence_set`` beside its videos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hfs.data.benchmarks.common import (
    BadRecord, BenchmarkQuestion, collect, duration_group_of, integer, require_file, seconds, string_list, text,
    video_under,
)
from hfs.data.instruct import ReadReport, read_json_records

NAME = "synthetic"
SOURCE = ("generate one with hfs.data.evidence.make_evidence_set "
          "(hfs eval --benchmark synthetic does it when the data root has none)")


def _parse(root: Path, record: dict[str, Any]) -> BenchmarkQuestion:
    options = string_list(record, "options")
    answer = integer(record, "answer")
    if not 0 <= answer < len(options):
        raise BadRecord("answer out of range", f"answer {answer} but {len(options)} options")
    video = text(record, "video")
    duration = seconds(record, "duration")
    return BenchmarkQuestion(
        id=text(record, "id"), benchmark=NAME, video=video_under(root, video), video_id=Path(video).stem,
        question=text(record, "question"), options=options, answer=answer,
        duration_group=duration_group_of(duration), category=text(record, "kind"), duration=duration)


def read_synthetic(data_root: str | Path, annotations: str | Path | None = None) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """Questions of a generated evidence set; category is "single" or "multi" (evidence events)."""
    root = Path(data_root)
    path = require_file(Path(annotations) if annotations else root / "items.json", SOURCE)
    report = ReadReport()
    questions = collect(path, read_json_records(path), lambda n, r: _parse(root, r), lambda n, r: r.get("id"),
                        report)
    return questions, report
