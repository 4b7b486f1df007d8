"""Per-question evaluation results as JSON lines: appended as they are produced, read back to
resume, and merged across the shards of several processes.

One record per (question, selector, k). Each process appends to its own shard file and fsyncs
every line, so a killed run loses at most the line being written. A damaged line (the
truncated last line of a kill, garbage bytes, a record missing its fields) is never trusted:
readers skip it and ``repair`` rewrites the files without it, so its answer is recomputed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hfs.atomic import own_folder, write_text_atomic
from hfs.errors import writing

RESULTS = "results.jsonl"
SHARDS = "shards"


def record_key(record: dict[str, Any]) -> tuple[str, str, int]:
    return (str(record["id"]), str(record["selector"]), int(record["k"]))


def _record(line: bytes) -> dict[str, Any] | None:
    """The record on one line, or None when the line is not a complete, well-formed record."""
    try:
        record = json.loads(line)
    except ValueError:  # bad JSON, or bytes that are not UTF-8
        return None
    if not isinstance(record, dict):
        return None
    ok = (isinstance(record.get("id"), (str, int)) and not isinstance(record.get("id"), bool)
          and isinstance(record.get("selector"), str)
          and isinstance(record.get("k"), int) and not isinstance(record.get("k"), bool)
          and isinstance(record.get("correct"), bool))
    return record if ok else None


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """(the well-formed records of ``path``, how many non-empty lines were damaged)."""
    if not path.is_file():
        return [], 0
    records, damaged = [], 0
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        record = _record(line)
        if record is None:
            damaged += 1
        else:
            records.append(record)
    return records, damaged


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The well-formed records of ``path``; damaged lines (an interrupted write) are skipped."""
    return read_records(path)[0]


def _files(out_dir: Path) -> list[Path]:
    return [out_dir / RESULTS, *sorted((out_dir / SHARDS).glob("*.jsonl"))]


def existing_records(out_dir: Path) -> list[dict[str, Any]]:
    """Every finished record under ``out_dir``: the merged file and all shards."""
    return [r for path in _files(out_dir) for r in read_jsonl(path)]


def repair(out_dir: Path) -> dict[str, int]:
    """Rewrite (atomically) every results file under ``out_dir`` that has damaged lines,
    keeping its good records; returns {file relative to ``out_dir``: lines dropped}.

    Call it while no process is appending to the shards."""
    dropped = {}
    for path in _files(out_dir):
        records, damaged = read_records(path)
        if damaged:
            write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in records))
            dropped[path.relative_to(out_dir).as_posix()] = damaged
    return dropped


class ShardWriter:
    """Appends records to this process's shard, one fsynced line each."""

    def __init__(self, out_dir: Path, rank: int) -> None:
        self.path = out_dir / SHARDS / f"rank{rank}.jsonl"
        with writing(self.path, "the results"):
            own_folder(self.path.parent)  # a link planted there is replaced, its target never written
            if self.path.is_symlink():
                self.path.unlink()
            if self.path.is_file():  # drop a partial last line left by a kill
                data = self.path.read_bytes()
                if data and not data.endswith(b"\n"):
                    os.truncate(self.path, data.rfind(b"\n") + 1)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
            self._file = os.fdopen(os.open(self.path, flags, 0o666), "a")

    def write(self, record: dict[str, Any]) -> None:
        with writing(self.path, "a result"):  # a line cut short by a full disk is dropped on the next run
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def merge(out_dir: Path, order: Iterable[str], selectors: list[str], ks: list[int]) -> list[dict[str, Any]]:
    """The records of this run, one per (question in ``order``, selector in ``selectors``,
    k in ``ks``), in question order then selector then k; written to results.jsonl
    (atomically) and returned. Records of other questions, selectors or ks (earlier runs into
    the same folder) stay in the shards for reuse but are not part of this run's results."""
    rank = {str(qid): n for n, qid in enumerate(order)}
    sel_rank = {s: n for n, s in enumerate(selectors)}
    wanted = {int(k) for k in ks}
    unique: dict[tuple, dict[str, Any]] = {}
    for record in existing_records(out_dir):
        key = record_key(record)
        if key[0] in rank and key[1] in sel_rank and key[2] in wanted:
            unique.setdefault(key, record)
    records = sorted(unique.values(), key=lambda r: (rank[str(r["id"])], sel_rank[r["selector"]], int(r["k"])))
    write_text_atomic(out_dir / RESULTS, "".join(json.dumps(r) + "\n" for r in records))
    return records
