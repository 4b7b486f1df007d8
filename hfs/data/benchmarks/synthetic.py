"""The synthetic evidence benchmark as an evaluation benchmark: ``items.json`` written by
``hfs.data.evidence.make_evidence_set`` beside its videos."""

from __future__ import annotations

import json
from pathlib import Path

from hfs.data.benchmarks.common import BenchmarkQuestion, duration_group_of
from hfs.data.instruct import ReadReport
from hfs.data.paths import resolve_under
from hfs.errors import InputError


def read_synthetic(data_root: str | Path, annotations: str | Path | None = None,
                   skip_bad: bool = False) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """Questions of a generated evidence set; category is "single" or "multi" (evidence events)."""
    path = Path(annotations) if annotations else Path(data_root) / "items.json"
    if not path.is_file():
        raise InputError(f"{path}: no synthetic benchmark here; generate one with "
                         f"hfs.data.evidence.make_evidence_set (hfs eval --benchmark synthetic does it)")
    report, questions = ReadReport(), []
    for n, rec in enumerate(json.loads(path.read_text())):
        try:
            questions.append(BenchmarkQuestion(
                id=rec["id"], benchmark="synthetic", video=resolve_under(data_root, rec["video"], f"{path}: "),
                video_id=Path(rec["video"]).stem, question=rec["question"], options=list(rec["options"]),
                answer=int(rec["answer"]), duration_group=duration_group_of(float(rec["duration"])),
                category=rec["kind"], duration=float(rec["duration"])))
            report.kept += 1
        except (KeyError, TypeError, ValueError) as exc:
            if not skip_bad:
                raise InputError(f"{path} record {n}: {exc}") from exc
            report.skipped["bad record"] += 1
    return questions, report
