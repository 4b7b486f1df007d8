"""Selections in KFS-Bench's own input format, so that its ``eval.py`` scores hfs's frames unchanged.

KFS-Bench (github.com/NEC-VID/KFS-Bench, commit 2349b9e, README "Input Data Format" and
``eval.py``) reads one JSON file per method: a list of ``{"id": question id, "frame_timestamps":
[seconds, ...]}``, ids as in its annotation CSVs (LongVideoBench ``id``, Video-MME
``question_id``; ``BenchmarkQuestion.id`` is the same). ``hfs eval`` writes one such file per
selector and budget, ``kfs-results/<selector>_k<k>.json``, from its per-question records:

    python eval.py --anno_file lvb_anno.csv --result_file hfs-eval/kfs-results/greedy_k32.json
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hfs.atomic import write_text_atomic
from hfs.errors import InputError

FOLDER = "kfs-results"


def result_name(selector: str, k: int) -> str:
    """The file name of one selector x k: ``<selector>_k<k>.json``."""
    return f"{selector}_k{int(k)}.json"


def export_kfs_results(records: Iterable[dict[str, Any]], out_dir: str | Path) -> dict[tuple[str, int], Path]:
    """Write ``<out_dir>/kfs-results/<selector>_k<k>.json`` for every selector x k in ``records``
    (each with ``id``, ``selector``, ``k`` and ``times``), questions in record order; returns the
    paths written. A symlink planted at the folder is refused, never written through."""
    folder = Path(out_dir) / FOLDER
    if folder.is_symlink():
        raise InputError(f"{folder} is a symbolic link; hfs does not write through it")
    cells: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        if r.get("times") is None:
            continue
        cells.setdefault((str(r["selector"]), int(r["k"])), []).append(
            {"id": str(r["id"]), "frame_timestamps": [float(t) for t in r["times"]]})
    paths = {}
    for (selector, k), rows in cells.items():
        paths[(selector, k)] = write_text_atomic(folder / result_name(selector, k), json.dumps(rows))
    return paths


def read_kfs_results(path: str | Path) -> dict[str, list[float]]:
    """Question id -> frame times from a file in KFS-Bench's input format (hfs's or another
    method's); a file that is not that format is one InputError naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a KFS-Bench result file (not JSON: {exc})") from None
    ok = isinstance(data, list) and all(
        isinstance(row, dict) and isinstance(row.get("id"), str) and isinstance(row.get("frame_timestamps"), list)
        and all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in row["frame_timestamps"])
        for row in data)
    if not ok:
        raise InputError(f'{path}: not a KFS-Bench result file (expected [{{"id": ..., "frame_timestamps": '
                         f'[seconds, ...]}}, ...])')
    return {row["id"]: [float(t) for t in row["frame_timestamps"]] for row in data}
