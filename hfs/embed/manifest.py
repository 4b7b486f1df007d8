"""The list of videos ``hfs embed`` works through: JSONL, CSV or plain text, one video a line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hfs.data.benchmarks.common import require_text_file
from hfs.errors import InputError
from hfs.validation import short_repr

KEYS = ("video", "path")  # the field (JSONL) or column (CSV) naming a video
MAX_NAME = 4096  # bytes in a path (Linux's PATH_MAX); a longer name names no file


def read_manifest(path: str | Path) -> list[Path]:
    """The videos listed in ``path``, relative paths taken from the manifest's folder.

    ``.jsonl``: one object a line with a "video" (or "path") field, or one JSON string a line;
    ``.csv``: a "video" (or "path") column; anything else: one path a line. Blank lines and
    lines starting with '#' are skipped; a bad line is one error naming file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: manifest not found" if not path.exists() else f"{path}: the manifest is not a file")
    require_text_file(path)
    text = path.read_text(encoding="utf-8")
    entries: list[tuple[int, str]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        try:
            column = next((k for k in KEYS if k in (reader.fieldnames or [])), None)
            if column is None:
                raise InputError(f"{path}: a CSV manifest needs a 'video' or 'path' column, got "
                                 f"{short_repr(reader.fieldnames)}")
            entries = [(reader.line_num, (row.get(column) or "").strip()) for row in reader]
        except csv.Error as exc:  # a field over csv's limit (128 KiB), a stray NUL...
            raise InputError(f"{path}:{reader.line_num + 1}: not a CSV row hfs can read ({exc})") from None
    else:
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if path.suffix.lower() in (".jsonl", ".json"):
                entries.append((number, _json_video(path, number, line)))
            else:
                entries.append((number, line))
    videos = []
    for number, name in entries:
        if not name:
            raise InputError(f"{path}:{number}: no video named")
        if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME or "\x00" in name:
            raise InputError(f"{path}:{number}: not a usable video name ({short_repr(name, 60)}, "
                             f"{len(name):,} characters; at most {MAX_NAME:,} bytes, no NUL)")
        video = Path(name).expanduser()
        videos.append(video if video.is_absolute() else path.parent / video)
    if not videos:
        raise InputError(f"{path}: the manifest lists no videos")
    return videos


def _json_video(path: Path, number: int, line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        for key in KEYS:
            if isinstance(record.get(key), str):
                return record[key]
    raise InputError(f"{path}:{number}: expected a string or an object with a 'video' or 'path' field")
