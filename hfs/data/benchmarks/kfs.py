"""KFS-Bench evidence annotations (arXiv 2512.14017, github.com/NEC-VID/KFS-Bench).

Users download ``lvb_anno.csv`` (LongVideoBench) and ``vidmme_anno.csv`` (Video-MME); their
licence does not allow redistribution, so hfs ships none of them. Each row is one segment of
one evidence scene: ``id, segment_id, scene_id, start, end``. ``id`` is the benchmark's question
id as the readers give it in ``BenchmarkQuestion.id`` (LongVideoBench ``id`` such as
``86CxyhFV9MI_0``; Video-MME ``question_id``, ``videoID-question`` such as ``003-2``).
Times are ``h:mm:ss`` or ``m:ss`` with optional fractional seconds; as in the benchmark's own
evaluation, annotations have 1 s granularity and a segment covers [start, end + 1] seconds.
A scene is every row with the same ``id`` and ``scene_id``: it may have several segments.

The files are read as the benchmark's ``eval.py`` reads them (github.com/NEC-VID/KFS-Bench, commit
2349b9e): ``scene_id`` is a label, not a number (``lvb_anno.csv`` has ``0a`` and ``0b`` for
``LB1qPExHQY8``), scenes keep the order of their first row, and a time's parts are whole hours
and minutes and decimal seconds, spaces around them allowed, with no bound on minutes or seconds;
``segment_id`` is not read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hfs.errors import InputError

COLUMNS = ("id", "segment_id", "scene_id", "start", "end")
SOURCE = "KFS-Bench annotations (lvb_anno.csv, vidmme_anno.csv) come from github.com/NEC-VID/KFS-Bench"
END_PADDING = 1.0  # seconds added to every segment's end (1 s annotation granularity)
_TIME = re.compile(r"^\s*(?:(\d+)\s*:)?\s*(\d+)\s*:\s*(\d+(?:\.\d*)?)\s*$")


@dataclass(frozen=True)
class EvidenceScene:
    """One annotated evidence scene: its id and its segments as (start, end) seconds, end padded."""

    scene_id: str
    segments: tuple[tuple[float, float], ...]

    @property
    def length(self) -> float:
        """Seconds the scene spans: the sum of its segments' lengths."""
        return float(sum(end - start for start, end in self.segments))


def parse_time(text: str) -> float:
    """'h:mm:ss' or 'm:ss' (seconds may be fractional) -> seconds; ValueError when malformed.
    As in KFS-Bench's eval.py, 'm:75' is 135 s: the parts are not bounded."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"time {text!r} is not h:mm:ss or m:ss")
    hours, minutes, secs = match.groups()
    return (int(hours) if hours else 0) * 3600 + int(minutes) * 60 + float(secs)


def read_kfs_annotations(path: str | Path) -> dict[str, list[EvidenceScene]]:
    """Question id -> its evidence scenes (in order of first appearance) from a KFS-Bench CSV.

    A missing file, a missing column or a bad row raises an InputError naming ``file:line``
    and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: annotation file not found; {SOURCE}")
    segments: dict[str, dict[str, list[tuple[float, float]]]] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}:1: missing column(s) {', '.join(missing)}; "
                                 f"expected a header {','.join(COLUMNS)}")
            for row in reader:
                line = reader.line_num
                try:
                    if None in row or any(row[c] is None for c in COLUMNS):
                        raise ValueError(f"expected {len(COLUMNS)} fields")
                    qid = row["id"].strip()
                    if not qid:
                        raise ValueError("empty id")
                    scene = row["scene_id"]
                    if not scene.strip():
                        raise ValueError("empty scene_id")
                    start, end = parse_time(row["start"]), parse_time(row["end"])
                    if end < start:
                        raise ValueError(f"end {row['end'].strip()} is before start {row['start'].strip()}")
                except ValueError as exc:
                    raise InputError(f"{path}:{line}: {exc}") from None
                segments.setdefault(qid, {}).setdefault(scene, []).append((start, end + END_PADDING))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    if not segments:
        raise InputError(f"{path}: no annotation rows")
    return {qid: [EvidenceScene(scene, tuple(segs)) for scene, segs in scenes.items()]
            for qid, scenes in segments.items()}


def scenes_as_lists(scenes: Sequence[EvidenceScene]) -> list[list[list[float]]]:
    """JSON-friendly form of a question's scenes: [[start, end], ...] per scene."""
    return [[[s, e] for s, e in scene.segments] for scene in scenes]
