"""MLVU dev set (Hugging Face dataset MLVU/MVLU).

The annotations are a directory ``json/`` of one file per task, each a JSON list of records
{video: "movie101_66.mp4", duration: seconds, question, candidates: [...], answer: the answer
TEXT, question_type}; the videos of task file ``1_plotQA.json`` are ``video/1_plotQA/{video}``.
Tasks 1-7 are multiple choice; 8 (sub-scene captioning) and 9 (summary) are open-ended, so their
records are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hfs.data.benchmarks.common import (
    BadRecord, BenchmarkQuestion, collect, duration_group_of, require_file, seconds, string_list, text,
    video_under,
)
from hfs.data.instruct import ReadReport, read_json_records
from hfs.errors import InputError

NAME = "mlvu"
DEFAULT_ANNOTATIONS = "json"
SOURCE = ("the MLVU dev set comes from the Hugging Face dataset MLVU/MVLU: put its json/ and "
          "video/ folders under the data root")
MULTIPLE_CHOICE = ("1_plotQA", "2_needle", "3_ego", "4_count", "5_order", "6_anomaly_reco", "7_topic_reasoning")
OPEN_ENDED = ("8_sub_scene", "9_summary")


def _parse(root: Path, stem: str, n: int, record: dict[str, Any]) -> BenchmarkQuestion:
    options = string_list(record, "candidates")
    answer_text = text(record, "answer")
    if answer_text not in options:
        raise BadRecord("answer not among candidates", f"answer {answer_text!r} is not one of the candidates")
    duration = seconds(record, "duration")
    video = text(record, "video")
    return BenchmarkQuestion(
        id=f"{stem}/{n}", benchmark=NAME, video=video_under(root / "video" / stem, video),
        video_id=f"{stem}/{Path(video).stem}", question=text(record, "question"), options=options,
        answer=options.index(answer_text), duration_group=duration_group_of(duration),
        category=text(record, "question_type"), duration=duration)


def _task_files(annotations: Path) -> list[Path]:
    """The task files to read: every multiple-choice file of the directory (all required) and the
    open-ended ones present, or the one file given."""
    if annotations.is_file():
        return [annotations]
    if not annotations.is_dir():
        raise InputError(f"{annotations}: MLVU annotation directory not found; {SOURCE}")
    files = [require_file(annotations / f"{stem}.json", SOURCE) for stem in MULTIPLE_CHOICE]
    return files + [annotations / f"{stem}.json" for stem in OPEN_ENDED if (annotations / f"{stem}.json").is_file()]


def read_mlvu(data_root: str | Path, annotations: str | Path | None = None,
              skip_bad: bool = False) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """MLVU dev questions; ``annotations`` is the ``json/`` directory (default under ``data_root``)
    or one task file."""
    root = Path(data_root)
    report = ReadReport()
    questions: list[BenchmarkQuestion] = []
    seen: set[str] = set()
    for path in _task_files(Path(annotations) if annotations is not None else root / DEFAULT_ANNOTATIONS):
        records = read_json_records(path)
        stem = path.stem
        if stem in OPEN_ENDED:
            report.skipped["open-ended"] += len(records)
            continue
        questions += collect(path, records, lambda n, r, stem=stem: _parse(root, stem, n, r),
                             lambda n, r, stem=stem: f"{stem}/{n}", skip_bad, report, seen)
    return questions, report
