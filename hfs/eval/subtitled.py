"""``hfs eval --subtitles``: the subtitle lines each benchmark's with-subtitle protocol shows the
answering model beside the chosen frames (rules and sources in ``hfs.data.benchmarks.subtitles``).
Subtitles reach the answerer's prompt only; the image-text query stays the question and options."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hfs.data.benchmarks import BenchmarkQuestion
from hfs.data.benchmarks.subtitles import (
    SUBTITLED, Subtitle, longvideobench_lines, read_lvb_subtitles, read_srt, videomme_lines,
)
from hfs.errors import InputError
from hfs.reasoning.formats import Subtitles


def check_subtitles(benchmark: str, data_root: str | Path) -> Path:
    """The benchmark's subtitle folder under ``data_root``; an InputError when the benchmark has
    no subtitles or the folder is missing (a run would otherwise be silently without them)."""
    if benchmark not in SUBTITLED:
        raise InputError(f"--subtitles: {benchmark} ships no subtitles (only {', '.join(SUBTITLED)} do)")
    folder = Path(data_root) / SUBTITLED[benchmark]
    if not folder.is_dir():
        source = ("the subtitle zip of lmms-lab/Video-MME" if benchmark == "videomme"
                  else "subtitles.tar of longvideobench/LongVideoBench")
        raise InputError(f"--subtitles: {folder} not found; extract {source} there")
    return folder


class SubtitleSource:
    """Each video's subtitles read once (benchmarks list a video's questions together), and the
    lines its protocol gives for a set of frames."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._subtitles: list[Subtitle] | None = None
        self.missing = 0  # questions whose video has no subtitle file

    def _load(self, q: BenchmarkQuestion) -> list[Subtitle] | None:
        if q.subtitles != self._path:
            self._path = q.subtitles
            if q.subtitles is None or not q.subtitles.is_file():
                self._subtitles = None
            elif q.benchmark == "videomme":
                self._subtitles = read_srt(q.subtitles)
            else:
                self._subtitles = read_lvb_subtitles(q.subtitles, q.subtitle_offset, q.duration)
        return self._subtitles

    def for_question(self, q: BenchmarkQuestion) -> None:
        """Load ``q``'s subtitles (counting a video without any) before its selections are answered."""
        if self._load(q) is None:
            self.missing += 1

    def lines(self, q: BenchmarkQuestion, times: Sequence[float], fps: float) -> Subtitles:
        """What the answerer is shown with the frames at ``times`` of ``q``'s video."""
        subtitles = self._load(q)
        if subtitles is None:
            return Subtitles(available=False)
        if q.benchmark == "videomme":
            return Subtitles(tuple(videomme_lines(subtitles, times, fps)))
        return Subtitles(tuple(longvideobench_lines(subtitles, times)), interleaved=True)
