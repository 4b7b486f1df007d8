"""NExT-QA multiple choice (GitHub repo doc-doc/NExT-QA, videos from its NExTVideo download).

``val.csv`` has the columns video,frame_count,width,height,question,answer,qid,type,a0..a4
(video a numeric id, answer an index 0..4, type one of CW CH TN TC TP DC DL DO);
``map_vid_vidorID.json`` next to it maps the numeric id to "folder/name" (e.g. "1106/4010069381"), and the video is
``NExTVideo/{mapped}.mp4``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from hfs.data.benchmarks.common import (
    BadRecord, BenchmarkQuestion, collect, integer, record_id, require_file, text, video_under,
)
from hfs.data.instruct import ReadReport
from hfs.errors import InputError

NAME = "nextqa"
DEFAULT_ANNOTATIONS = "nextqa/val.csv"
MAP_FILE = "map_vid_vidorID.json"
SOURCE = ("NExT-QA comes from the GitHub repo doc-doc/NExT-QA: put val.csv and map_vid_vidorID.json in "
          "nextqa/ and the NExTVideo download in NExTVideo/ under the data root")
COLUMNS = ("video", "question", "answer", "qid", "type", "a0", "a1", "a2", "a3", "a4")
FAMILIES = {"C": "causal", "T": "temporal", "D": "descriptive"}
TYPES = ("CW", "CH", "TN", "TC", "TP", "DC", "DL", "DO")


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: not a NExT-QA csv (missing columns {', '.join(missing)})")
        return list(reader)


def _read_map(path: Path) -> dict[str, str]:
    require_file(path, SOURCE)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object mapping video ids to 'folder/name'")
    return {str(k): str(v) for k, v in data.items()}


def _parse(root: Path, video_map: dict[str, str], record: dict[str, Any]) -> BenchmarkQuestion:
    video_id = text(record, "video")
    qid = text(record, "qid")
    qtype = text(record, "type")
    if qtype not in TYPES:
        raise BadRecord("unknown question type", f"type {qtype!r} is not one of {' '.join(TYPES)}")
    options = [text(record, f"a{i}") for i in range(5)]
    answer = integer(record, "answer")
    if not 0 <= answer < len(options):
        raise BadRecord("answer out of range", f"answer {answer} but {len(options)} options")
    if video_id not in video_map:
        raise BadRecord("video not in map", f"video {video_id} is not in {MAP_FILE}")
    return BenchmarkQuestion(
        id=f"{video_id}_{qid}", benchmark=NAME, video=video_under(root / "NExTVideo", f"{video_map[video_id]}.mp4"),
        video_id=video_id, question=text(record, "question"), options=options, answer=answer,
        duration_group=FAMILIES[qtype[0]], category=qtype)


def read_nextqa(data_root: str | Path, annotations: str | Path | None = None) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """NExT-QA multiple-choice questions; ``annotations`` defaults to ``nextqa/val.csv`` under
    ``data_root`` and the video-id map is read from the same folder."""
    root = Path(data_root)
    path = require_file(Path(annotations) if annotations is not None else root / DEFAULT_ANNOTATIONS, SOURCE)
    video_map = _read_map(path.parent / MAP_FILE)
    report = ReadReport()
    questions = collect(path, _read_csv(path), lambda n, r: _parse(root, video_map, r),
                        lambda n, r: record_id(r, "video", "qid"), report)
    return questions, report
