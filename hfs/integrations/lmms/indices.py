"""Frame choices as JSONL: the ``hfs_indices`` file a run reuses and the ``hfs_log`` a run writes.

One JSON object per choice (one per line when written here; pretty-printed objects one after
another, as ``hfs select --json >> FILE`` appends them, read as well)::

    {"task": "videomme", "doc_id": 12,            # which lmms-eval sample (optional)
     "video": "/data/videomme/abc.mp4",           # the video the frames come from
     "question": "...",                           # the text the frames were chosen for
     "times": [1.5, 7.0, ...],                    # seconds, ascending: the frames shown
     "frame_indices": [45, 210, ...],             # their indices in the video (optional)
     "fps": 30.0, "total_num_frames": 5400, "duration": 180.0,   # the video's (optional)
     "scores": [1.8, 0.9, ...],                   # each frame's standardised score (optional)
     ...}

Left out, ``frame_indices``, ``fps``, ``total_num_frames`` and ``duration`` are read from the
video itself; the frames shown are always those nearest ``times`` in the request's video.
Further fields a log carries::

    {...
     "options": ["A. ...", ...], "query_from": "doc",            # the query: the doc's fields or the prompt
     "selector": "greedy", "encoder": "...", "k": 16}            # how they were chosen (optional)

``hfs select --json`` objects are read too: their ``frames[].time`` give the times and their
``video_info`` the fps. A request is matched to a record by ``task`` and ``doc_id`` when the
record has a ``doc_id`` (a record without ``task`` matches any task), else by the video's file
name and the question.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfs.errors import InputError
from hfs.report.jsonout import dumps_finite
from hfs.selection.base import source_frame_numbers


@dataclass
class FrameChoice:
    """The frames shown for one sample: their times and where they sit in the video."""

    video: str
    times: list[float]  # seconds, ascending
    frame_indices: list[int]  # [k] indices of the frames in the video
    fps: float  # the video's frame rate (0 when unknown)
    total_num_frames: int
    duration: float
    question: str | None = None
    task: str | None = None
    doc_id: int | None = None
    scores: list[float] | None = None  # [k] each frame's standardised score, when selected by hfs
    extra: dict[str, Any] = field(default_factory=dict)  # options, query_from, selector, encoder, k, ...

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record (the module docstring's schema)."""
        out: dict[str, Any] = {"task": self.task, "doc_id": self.doc_id, "video": self.video,
                               "question": self.question, "times": [round(t, 4) for t in self.times],
                               "frame_indices": self.frame_indices, "fps": self.fps,
                               "total_num_frames": self.total_num_frames, "duration": self.duration}
        if self.scores is not None:
            out["scores"] = [round(float(s), 4) for s in self.scores]
        out.update(self.extra)
        return out


def choice_from_selection(selection, task: str | None = None, doc_id: int | None = None) -> FrameChoice:
    """The record of an ``hfs.select`` result, for sample ``task``/``doc_id`` (for writing an
    indices file from Python: ``append_choice(path, choice_from_selection(sel, "videomme", 12))``)."""
    from hfs.export import video_metadata

    meta = video_metadata(selection)
    return FrameChoice(video=str(selection.video), times=[float(t) for t in selection.times.tolist()],
                       frame_indices=meta["frame_indices"], fps=meta["fps"], total_num_frames=meta["total_num_frames"],
                       duration=meta["duration"], question=selection.question, task=task, doc_id=doc_id,
                       scores=[float(s) for s in selection.scores.tolist()],
                       extra={"selector": selection.selector, "encoder": selection.encoder, "k": selection.k})


def frame_indices_at(times: list[float], fps: float, total_num_frames: int) -> list[int]:
    """The index of the frame shown at each time (its position when fps is unknown)."""
    return source_frame_numbers(times, fps, total_num_frames) if fps > 0 else list(range(len(times)))


def _number(record: dict, name: str, where: str, default: float = 0.0) -> float:
    value = record.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def choice_from_record(record: Any, where: str) -> FrameChoice:
    """A ``FrameChoice`` from one JSON object (ours or ``hfs select --json``'s); ``where``
    names it in errors."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
    info = record.get("video_info") or {}
    times = record.get("times")
    if times is None and isinstance(record.get("frames"), list):
        times = [row.get("time") if isinstance(row, dict) else None for row in record["frames"]]
    if not isinstance(times, list) or not times:
        raise InputError(f"{where}: needs 'times' (a non-empty list of seconds) or hfs's 'frames'")
    if any(isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0 for t in times):
        raise InputError(f"{where}: times must be seconds >= 0, got {times!r}")
    times = sorted(float(t) for t in times)
    if not isinstance(record.get("video"), str) or not record["video"]:
        raise InputError(f"{where}: needs 'video' (the video's path)")
    fps = _number(record, "fps", where, _number(info, "fps", where))
    duration = _number(record, "duration", where, _number(info, "duration", where))
    total = int(_number(record, "total_num_frames", where, _number(info, "num_frames", where, round(duration * fps))))
    indices = record.get("frame_indices")
    if indices is None:  # worked out from the video when it is opened, if the record has no fps
        indices = frame_indices_at(times, fps, total) if fps > 0 else []
    elif (not isinstance(indices, list) or len(indices) != len(times)
          or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in indices)):
        raise InputError(f"{where}: frame_indices must be {len(times)} integers >= 0, one per time")
    doc_id = record.get("doc_id")
    if doc_id is not None and (isinstance(doc_id, bool) or not isinstance(doc_id, int)):
        raise InputError(f"{where}: doc_id must be an integer, got {doc_id!r}")
    scores = record.get("scores")
    if scores is not None and (not isinstance(scores, list) or len(scores) != len(times) or any(
            isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in scores)):
        raise InputError(f"{where}: scores must be {len(times)} numbers, one per time")
    known = {"task", "doc_id", "video", "question", "times", "frame_indices", "fps", "total_num_frames",
             "duration", "frames", "video_info", "scores"}
    extra = {k: v for k, v in record.items() if k not in known and k in ("selector", "encoder", "k")}
    return FrameChoice(video=record["video"], times=times, frame_indices=list(indices), fps=fps,
                       total_num_frames=total, duration=duration, question=record.get("question"),
                       task=record.get("task"), doc_id=doc_id, scores=scores, extra=extra)


def read_choices(path: str | Path) -> list[FrameChoice]:
    """Every record of an indices file (JSON objects one after another, usually one a line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"hfs_indices: {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"hfs_indices: {path}: cannot be read ({exc})") from None
    decoder, pos, out = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        line = text.count("\n", 0, pos) + 1
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(f"hfs_indices: {path}:{line}: not JSON ({exc.msg})") from None
        out.append(choice_from_record(record, f"hfs_indices: {path}:{line}"))
    if not out:
        raise InputError(f"hfs_indices: {path}: holds no selections")
    return out


class ChoiceIndex:
    """The records of an indices file, found by sample (task, doc_id) or by (video, question)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.by_doc: dict[tuple[str | None, int], FrameChoice] = {}
        self.by_question: dict[tuple[str, str | None], FrameChoice] = {}
        for choice in read_choices(path):
            if choice.doc_id is not None:
                self.by_doc[(choice.task, choice.doc_id)] = choice
            else:
                self.by_question[(Path(choice.video).name, choice.question)] = choice

    def find(self, task: str | None, doc_id: int | None, video: str, question: str | None) -> FrameChoice:
        """The record for this sample; none is one InputError naming the file and the sample."""
        for key in ((task, doc_id), (None, doc_id)):
            if key[1] is not None and key in self.by_doc:
                return self.by_doc[key]
        found = self.by_question.get((Path(video).name, question))
        if found is None:
            raise InputError(f"hfs_indices: {self.path} has no selection for task {task!r} doc_id {doc_id!r} "
                             f"(video {Path(video).name})")
        return found


def append_choice(path: str | Path, choice: FrameChoice, follow_links: bool = True) -> None:
    """Append one record to a JSONL file (the frame log), creating its folder; with
    ``follow_links=False`` (a path the user did not name) a symlink there is refused."""
    path = Path(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (0 if follow_links else os.O_NOFOLLOW)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, flags, 0o644), "a", encoding="utf-8") as f:
            f.write(dumps_finite(choice.to_dict(), what="the frame choice") + "\n")
    except OSError as exc:
        raise InputError(f"hfs_log: {path}: cannot be written ({exc.strerror or exc})") from None
