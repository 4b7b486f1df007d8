"""Subtitles of Video-MME and LongVideoBench, read from the files each releases, and the lines
each benchmark's with-subtitle protocol puts beside a set of frames.

Both protocols give the model the subtitles AT THE SHOWN FRAMES' TIMES, not the whole file; we
follow lmms-eval 0.7.3 (github.com/EvolvingLMMs-Lab/lmms-eval, ``lmms_eval/tasks/videomme/utils.py``
``videomme_doc_to_text_subtitle`` and ``lmms_eval/tasks/longvideobench/utils.py``
``insert_subtitles_into_frames``), with hfs's chosen frames in place of its uniform ones:

- Video-MME (``subtitle/<videoID>.srt``, from the dataset's subtitle.zip): every subtitle whose
  frame span [int(start * fps), int(end * fps)) holds one of the frames, in file order, as one
  block before the question. Its text is the cue's text with markup removed (lmms-eval keeps
  what is inside ``<font ...>`` tags; the released files wrap every cue in one, so the text is
  the same). A video without an .srt gets "No subtitles available".
- LongVideoBench (``subtitles/<subtitle_path>``, a JSON list of ``{"timestamp": [start, end],
  "text"}`` or ``{"start": "h:mm:ss.ff", "end", "line"}``; times minus the record's
  ``starting_timestamp_for_subtitles``): every subtitle with a frame strictly inside
  (start, end), a span shorter than 1 s widened to 1 s around its middle, placed after the
  frames at or before its middle (interleaved). A missing end means the video's end (lmms-eval
  subtracts the offset from the duration too, which ends such a line before it starts whenever
  the offset is not 0, so it is never shown; here it lasts to the video's end).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hfs.errors import InputError

_SRT_TIME = re.compile(r"^\s*(\d+):(\d+):(\d+)[,.](\d+)\s*$")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Subtitle:
    """One subtitle: seconds on the video's clock (offset already removed) and its text."""

    start: float
    end: float
    text: str

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


def _srt_seconds(value: str, path: Path, block: int) -> float:
    match = _SRT_TIME.match(value)
    if not match:
        raise InputError(f"{path}: subtitle block {block}: time {value.strip()!r} is not HH:MM:SS,mmm")
    h, m, s, ms = match.groups()
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 10 ** len(ms)


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def read_srt(path: str | Path) -> list[Subtitle]:
    """The cues of a Video-MME .srt file in file order; cues with the same start and end keep the
    last text, as lmms-eval's ``load_subtitles`` (a dict keyed by the times) does."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the subtitle file ({exc})") from None
    cues: dict[tuple[float, float], str] = {}
    for n, block in enumerate(text.replace("\r\n", "\n").split("\n\n")):
        lines = block.strip("\n").split("\n")
        if len(lines) < 3 or " --> " not in lines[1]:
            continue  # lmms-eval skips blocks without an index, a time line and text
        start, end = (_srt_seconds(t, path, n) for t in lines[1].split(" --> ", 1))
        cues[(start, end)] = _clean(" ".join(lines[2:]))
    return [Subtitle(s, e, t) for (s, e), t in cues.items() if t]


def _lvb_seconds(value) -> float | None:
    """A LongVideoBench subtitle time: seconds, or 'h:mm:ss.ff'; None when absent."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    h, m, s = str(value).split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def read_lvb_subtitles(path: str | Path, offset: float, duration: float | None) -> list[Subtitle]:
    """The subtitles of one LongVideoBench video, on the video's clock (``offset`` removed)."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the subtitle file ({exc})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a LongVideoBench subtitle file (not JSON: {exc})") from None
    if not isinstance(entries, list):
        raise InputError(f"{path}: not a LongVideoBench subtitle file (expected a list)")
    out = []
    for n, entry in enumerate(entries):
        try:
            if "timestamp" in entry:
                start, end = (_lvb_seconds(t) for t in entry["timestamp"])
                text = entry["text"]
            else:
                start, end, text = _lvb_seconds(entry["start"]), _lvb_seconds(entry["end"]), entry["line"]
            if start is None or not isinstance(text, str):
                raise ValueError("no start time or no text")
        except (TypeError, KeyError, ValueError) as exc:
            raise InputError(f"{path}: subtitle {n} is not {{timestamp, text}} or {{start, end, line}} ({exc})") \
                from None
        start -= offset
        if end is None:  # open-ended last line: it lasts to the end of the video
            end = duration if duration is not None else start
        else:
            end -= offset
        out.append(Subtitle(start, end, text.strip()))
    return out


def videomme_lines(subtitles: Sequence[Subtitle], times: Sequence[float], fps: float) -> list[tuple[float, str]]:
    """Video-MME's rule: the subtitles whose frame span holds one of the frames at ``times``."""
    if fps <= 0:  # no frame rate known: the same rule in seconds
        return [(s.start, s.text) for s in subtitles if any(s.start <= t < s.end for t in times)]
    frames = [int(round(t * fps)) for t in times]
    return [(s.start, s.text) for s in subtitles
            if any(int(s.start * fps) <= f < int(s.end * fps) for f in frames)]


def longvideobench_lines(subtitles: Sequence[Subtitle], times: Sequence[float]) -> list[tuple[float, str]]:
    """LongVideoBench's rule: the subtitles with a frame strictly inside their (at least 1 s) span,
    each timed at its middle, in file order."""
    out = []
    for s in subtitles:
        start, end = (s.middle - 0.5, s.middle + 0.5) if s.end - s.start < 1 else (s.start, s.end)
        if any(start < t < end for t in times):
            out.append((s.middle, s.text))
    return out


SUBTITLED = {"videomme": "subtitle", "longvideobench": "subtitles"}  # benchmark -> its subtitle folder
