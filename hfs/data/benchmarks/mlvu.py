"""MLVU dev set (Hugging Face dataset MLVU/MVLU).

The annotations are a directory ``json/`` of one file per task, each a JSON list of records
{video: "movie101_66.mp4", duration: seconds, question, candidates: [...], answer: the answer
TEXT, question_type}; the videos of task file ``1_plotQA.json`` are ``video/1_plotQA/{video}``.
Tasks 1-7 are multiple choice; 8 (sub-scene captioning) and 9 (summary) are open-ended, so their
records are skipped and counted.

Records are scored as MLVU's own ``choice_bench.py`` scores them (github.com/FlagOpen/FlagEmbedding,
``MLVU/evaluation/multiple_choice_evaluation/choice_bench.py``, commit 0c4df7a7, ``qa_template``):
candidates are kept as released, empty strings included (they still take a letter); the answer
is the LAST candidate equal to the answer text (its loop overwrites earlier matches); an answer
equal to no candidate gets no letter, so the question is kept and always counted wrong
(``answer`` -1 here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hfs.data.benchmarks.common import (
    BadRecord, BenchmarkQuestion, collect, duration_group_of, require_file, seconds, text,
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


def _candidates(record: dict[str, Any]) -> list[str]:
    """The candidates as released: a list of at least two strings, empty ones included."""
    value = record.get("candidates")
    if value is None:
        raise BadRecord("missing field", "missing field 'candidates'")
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, str) for v in value):
        raise BadRecord("bad options", f"field 'candidates' should be a list of at least two strings, got {value!r}")
    return value


def official_answer(candidates: list[str], answer: str) -> int:
    """The option index ``choice_bench.py`` gives ``answer``: its last exact match, or -1."""
    matches = [i for i, c in enumerate(candidates) if c == answer]
    return matches[-1] if matches else -1


def _parse(root: Path, stem: str, n: int, record: dict[str, Any]) -> BenchmarkQuestion:
    candidates = _candidates(record)
    answer_text = record.get("answer")
    if not isinstance(answer_text, str):
        raise BadRecord("missing field" if answer_text is None else "bad field",
                        f"field 'answer' should be a string, got {answer_text!r}")
    options = [c.strip() for c in candidates]
    duration = seconds(record, "duration")
    video = text(record, "video")
    return BenchmarkQuestion(
        id=f"{stem}/{n}", benchmark=NAME, video=video_under(root / "video" / stem, video),
        video_id=f"{stem}/{Path(video).stem}", question=text(record, "question"), options=options,
        answer=official_answer(candidates, answer_text), duration_group=duration_group_of(duration),
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


def read_mlvu(data_root: str | Path, annotations: str | Path | None = None) -> tuple[list[BenchmarkQuestion], ReadReport]:
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
                             lambda n, r, stem=stem: f"{stem}/{n}", report, seen)
    return questions, report
