"""Per-question evaluation results as JSON lines: appended as they are produced, read back to
resume, and merged across the shards of several processes.

One record per (question, selector, k). Each process appends to its own shard file and fsyncs
every line, so a killed run loses at most the line being written; a truncated last line is
dropped when the shard is reopened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hfs.atomic import atomic_file

RESULTS = "results.jsonl"
SHARDS = "shards"


def record_key(record: dict[str, Any]) -> tuple[str, str, int]:
    return (str(record["id"]), str(record["selector"]), int(record["k"]))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete records of ``path``; a truncated last line (an interrupted write) is ignored."""
    if not path.is_file():
        return []
    records = []
    lines = path.read_text().split("\n")
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if n == len(lines) - 1:  # the unfinished last line of a killed run
                break
            raise
    return records


def existing_records(out_dir: Path) -> list[dict[str, Any]]:
    """Every finished record under ``out_dir``: the merged file and all shards."""
    records = read_jsonl(out_dir / RESULTS)
    for shard in sorted((out_dir / SHARDS).glob("*.jsonl")):
        records += read_jsonl(shard)
    return records


class ShardWriter:
    """Appends records to this process's shard, one fsynced line each."""

    def __init__(self, out_dir: Path, rank: int) -> None:
        self.path = out_dir / SHARDS / f"rank{rank}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():  # drop a partial last line left by a kill
            text = self.path.read_text()
            if text and not text.endswith("\n"):
                self.path.write_text(text[: text.rfind("\n") + 1])
        self._file = open(self.path, "a")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def merge(out_dir: Path, order: Iterable[str], selectors: list[str], ks: list[int]) -> list[dict[str, Any]]:
    """All records, first one per key, in question order then selector then k; written to
    results.jsonl (atomically) and returned."""
    rank = {qid: n for n, qid in enumerate(order)}
    sel_rank = {s: n for n, s in enumerate(selectors)}
    unique: dict[tuple, dict[str, Any]] = {}
    for record in existing_records(out_dir):
        unique.setdefault(record_key(record), record)
    records = sorted(unique.values(), key=lambda r: (rank.get(r["id"], len(rank)), sel_rank.get(r["selector"], 99),
                                                     r["k"]))
    with atomic_file(out_dir / RESULTS) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records
