"""What every benchmark reader shares: the question record, duration bins, field checks and the
loop that turns annotation records into questions. A record that cannot be scored never stops a
run: it is counted by reason and named in ``ReadReport.unscorable`` (``unscorable_line`` words
them as one summary line)."""

from __future__ import annotations

import codecs
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfs.data.instruct import ReadReport
from hfs.data.paths import resolve_under
from hfs.errors import InputError


@dataclass
class BenchmarkQuestion:
    """One multiple-choice question of an evaluation benchmark.

    ``options`` hold the option texts without their "A. " prefix and ``answer`` indexes them, or
    is -1 when the benchmark's answer is none of the options (its official script keeps such a
    question and counts it wrong, so no prediction matches -1); ``video`` is resolved under the
    data root but need not exist yet. ``subtitles`` is the video's subtitle file as the benchmark
    releases it (it need not exist: some videos have none), ``subtitle_offset`` the seconds to
    subtract from its times (LongVideoBench's ``starting_timestamp_for_subtitles``).
    """

    id: str
    benchmark: str
    video: Path
    video_id: str
    question: str
    options: list[str]
    answer: int
    duration_group: str
    category: str
    duration: float | None = None
    subtitles: Path | None = None
    subtitle_offset: float = 0.0


def duration_group_of(seconds: float) -> str:
    """'short' (< 4 min), 'medium' (4-15 min) or 'long' (> 15 min), for benchmarks giving seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or seconds < 0:
        raise InputError(f"a video duration must be a finite number of seconds >= 0, got {seconds!r}")
    if seconds < 4 * 60:
        return "short"
    return "medium" if seconds <= 15 * 60 else "long"


class BadRecord(Exception):
    """A record the reader cannot use; ``reason`` is the short key counted in ReadReport.skipped."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def require_file(path: Path, source: str) -> Path:
    """``path`` if it is a file (of UTF-8 text unless it is parquet), else an InputError saying
    where the benchmark's files come from."""
    if not path.is_file():
        raise InputError(f"{path}: annotation file not found; {source}")
    if path.suffix != ".parquet":
        require_text_file(path)
    return path


def require_text_file(path: Path, chunk: int = 1 << 20) -> Path:
    """``path`` if it reads as UTF-8 text without NUL bytes, else one InputError naming it (a
    binary file given as annotations would otherwise fail deep inside a JSON or csv reader)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with path.open("rb") as f:
            while block := f.read(chunk):
                if b"\x00" in block:
                    raise InputError(f"{path}: not a text annotation file (NUL byte at offset "
                                     f"{offset + block.index(0)})")
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text annotation file (not UTF-8 near byte {offset})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the annotation file ({exc.strerror or exc})") from None
    return path


def text(record: dict[str, Any], name: str) -> str:
    """A required non-empty string field (an integer id is accepted and written as a string)."""
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadRecord("missing field", f"missing field {name!r}")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRecord("bad field", f"field {name!r} should be a string, got {value!r}")
    return str(value).strip()


def integer(record: dict[str, Any], name: str) -> int:
    """A required integer field (a string of digits, as csv gives, is accepted)."""
    value = record.get(name)
    if value is None or value == "":
        raise BadRecord("missing field", f"missing field {name!r}")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    raise BadRecord("bad field", f"field {name!r} should be an integer, got {value!r}")


def seconds(record: dict[str, Any], name: str) -> float:
    """A required duration in seconds: a finite number >= 0."""
    value = record.get(name)
    if value is None:
        raise BadRecord("missing field", f"missing field {name!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise BadRecord("bad field", f"field {name!r} should be a duration in seconds, got {value!r}")
    return float(value)


def string_list(record: dict[str, Any], name: str) -> list[str]:
    """A required list of at least two non-empty strings (the options of a question)."""
    value = record.get(name)
    if value is None:
        raise BadRecord("missing field", f"missing field {name!r}")
    if not isinstance(value, list) or len(value) < 2 \
            or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadRecord("bad options", f"field {name!r} should be a list of at least two strings, got {value!r}")
    return [v.strip() for v in value]


def video_under(folder: Path, relative: str) -> Path:
    """A video path resolved under the benchmark's video folder (inside the data root); an
    absolute path or one that leaves the folder is a bad record."""
    try:
        return resolve_under(folder, relative)
    except InputError as exc:
        raise BadRecord("video path outside the data root", str(exc)) from None


def collect(path: Path, records: Iterable[Any], parse: Callable[[int, dict[str, Any]], BenchmarkQuestion],
            id_of: Callable[[int, dict[str, Any]], str | None], report: ReadReport,
            seen: set[str] | None = None) -> list[BenchmarkQuestion]:
    """``parse`` every record of the annotation file ``path``; one that cannot be scored is
    counted in ``report.skipped`` by reason and named (file, record, id, problem) in
    ``report.unscorable``. ``seen`` carries the ids already read when one benchmark spans several
    files."""
    seen = set() if seen is None else seen
    out = []
    for n, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise BadRecord("not a record", f"expected an object, got {type(record).__name__}")
            question = parse(n, record)
            if question.id in seen:
                raise BadRecord("duplicate id", f"id {question.id!r} appears more than once")
        except BadRecord as bad:
            known = id_of(n, record) if isinstance(record, dict) else None
            name = f"record {n}" + (f" (id {known})" if known else "")
            report.skipped[bad.reason] += 1
            report.unscorable.append(f"{path.name} {name}: {bad.detail}")
            continue
        seen.add(question.id)
        out.append(question)
        report.kept += 1
    return out


def unscorable_line(benchmark: str, report: ReadReport, show: int = 5) -> str | None:
    """One line naming the records of ``benchmark`` that cannot be scored (the first ``show`` of
    them in full), or None when every record was read."""
    bad = report.unscorable
    if not bad:
        return None
    more = f"; and {len(bad) - show} more (report.json lists them all)" if len(bad) > show else ""
    return (f"{benchmark}: {len(bad)} annotation record(s) cannot be scored and are left out: "
            + "; ".join(bad[:show]) + more)


def record_id(record: dict[str, Any], *names: str) -> str | None:
    """The id fields of a record joined by '_', or None if any is missing (for error messages)."""
    values = [record.get(name) for name in names]
    if any(v is None or v == "" for v in values):
        return None
    return "_".join(str(v) for v in values)
