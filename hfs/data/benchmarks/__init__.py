"""Annotation readers for the evaluation benchmarks: Video-MME, LongVideoBench, MLVU (dev) and
NExT-QA (multiple choice), and the generated synthetic evidence benchmark. Each turns the released annotation files into ``BenchmarkQuestion``s
with video paths resolved under one data root; the videos themselves are checked later."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hfs.data.benchmarks.common import BenchmarkQuestion, duration_group_of
from hfs.data.benchmarks.longvideobench import read_longvideobench
from hfs.data.benchmarks.mlvu import read_mlvu
from hfs.data.benchmarks.nextqa import read_nextqa
from hfs.data.benchmarks.synthetic import read_synthetic
from hfs.data.benchmarks.videomme import read_videomme
from hfs.data.instruct import ReadReport
from hfs.errors import InputError

Reader = Callable[..., tuple[list[BenchmarkQuestion], ReadReport]]

_READERS: dict[str, Reader] = {
    "videomme": read_videomme,
    "longvideobench": read_longvideobench,
    "mlvu": read_mlvu,
    "nextqa": read_nextqa,
    "synthetic": read_synthetic,
}


def list_benchmarks() -> list[str]:
    """The benchmark names ``read_benchmark`` knows."""
    return list(_READERS)


def read_benchmark(name: str, data_root: str | Path,
                   annotations: str | Path | None = None) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """The questions of benchmark ``name`` under ``data_root``.

    ``annotations`` overrides the default annotation file (for MLVU, the directory of task
    files). A missing or unreadable file raises an InputError; a record that cannot be scored is
    counted and named in the report, never raised.
    """
    reader = _READERS.get(name)
    if reader is None:
        raise InputError(f"unknown benchmark {name!r}; choose one of: {', '.join(_READERS)}")
    return reader(data_root, annotations)


__all__ = ["BenchmarkQuestion", "ReadReport", "duration_group_of", "list_benchmarks", "read_benchmark",
           "read_longvideobench", "read_mlvu", "read_nextqa", "read_synthetic", "read_videomme"]
