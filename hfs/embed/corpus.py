"""Embed the candidates of many videos, decoding in a process pool (the local engine).

Worker processes open, hash and decode the videos (the CPU-bound part); this process embeds
the decoded frames in batches (the part a GPU does) and hands them to an output
(``hfs.embed.output``): the embedding cache, under the key ``hfs select`` looks up, or parquet
shards. A video the output already holds is skipped (so an interrupted run resumes by video); a
video that cannot be read is reported and skipped, never stopping the run. ``decode_job`` and
``embed_decoded`` are also what the Ray engine (``hfs.embed.ray_engine``) runs.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfs.cache import EmbeddingCache, frames_key
from hfs.embed.lifeline import die_with_parent
from hfs.embed.output import CacheOutput, Output
from hfs.embed.parquet import EmbeddedVideo
from hfs.encoders import ImageTextEncoder
from hfs.errors import HfsError
from hfs.candidates.embed import fill_forward, resolve_targets
from hfs.progress import progress_bar
from hfs.video import candidate_times, open_video


@dataclass
class EmbedReport:
    """What one ``embed_corpus`` run did."""

    embedded: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)  # already in the cache: skipped
    bad: dict[str, str] = field(default_factory=dict)  # video -> why it was skipped
    seconds: float = 0.0

    @property
    def videos_per_minute(self) -> float:
        done = len(self.embedded) + len(self.cached)
        return 60.0 * done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"embedded": self.embedded, "cached": self.cached, "bad": self.bad, "seconds": round(self.seconds, 3),
                "videos_per_minute": round(self.videos_per_minute, 2)}


@dataclass
class DecodeJob:
    """One video to decode: everything a worker needs, small enough to pickle per video."""

    video: str
    num_candidates: int
    short_side: int
    fingerprint: str
    output: Output  # asked whether the video is done before it is decoded
    decode_mode: str
    image_fps: float


def decode_job(job: DecodeJob) -> dict[str, Any]:
    """In a worker: hash the video, ask the output which candidates it lacks, decode those.

    Returns {"video", "status": "decoded" | "cached" | "bad"} and, when decoded, "key", "info",
    "times" [M] and "images" (M arrays [H, W, 3] uint8) of the distinct frames decoded, and
    "targets" [T] (the candidates' times, a keyframe's where one stands in: ``resolve_targets``)
    with "target_times" [T], the true time of the frame each target got; when bad,
    "reason".
    """
    try:
        source = open_video(job.video, image_fps=job.image_fps)
        key = frames_key(source, job.fingerprint, job.short_side)
        info = source.info.to_dict()
        # the times whose nearest frames the candidates get, as in ``hfs select`` (cached or not)
        resolved, mode, tolerance = resolve_targets(source, candidate_times(source.info.duration, job.num_candidates),
                                                    job.decode_mode)
        targets = np.unique(job.output.missing(key, resolved, info))
        if len(targets) == 0:
            return {"video": job.video, "status": "cached"}
        got = np.full(len(targets), np.nan)
        frames = []
        for f in source.frames_at(targets, short_side=job.short_side, mode=mode, tolerance=tolerance):
            got[f.index] = f.time
            frames.append(f)
        got = fill_forward(got)
        return {"video": job.video, "status": "decoded", "key": key, "info": info,
                "times": np.array([f.time for f in frames], dtype=np.float64),
                "images": [f.image for f in frames], "targets": targets, "target_times": got}
    except Exception as exc:  # noqa: BLE001 - one bad video never stops a corpus run
        return {"video": job.video, "status": "bad", "reason": failure(exc)}


def failure(exc: Exception) -> str:
    """Why a video was skipped, in one line: an HfsError's own message, else the exception's type too."""
    return str(exc) if isinstance(exc, HfsError) else f"{type(exc).__name__}: {exc}"


def embed_decoded(decoded: dict[str, Any], encoder: ImageTextEncoder, batch_size: int) -> EmbeddedVideo:
    """A decoded video (``decode_job``'s result) with its frames embedded -> [M, D]."""
    return EmbeddedVideo(video=decoded["video"], key=decoded["key"], times=decoded["times"], info=decoded["info"],
                         embeddings=encoder.encode_images(decoded["images"], batch_size=batch_size),
                         targets=decoded["targets"], target_times=decoded["target_times"])


def decode_jobs(videos: Sequence[str | Path], encoder: ImageTextEncoder, num_candidates: int, output: Output,
                decode_mode: str, image_fps: float) -> list[DecodeJob]:
    """One ``DecodeJob`` per distinct video, in manifest order: spellings of one file (relative and
    absolute, through a link) are one video, named as the manifest first names it."""
    unique: dict[str, str] = {}
    for v in videos:
        unique.setdefault(os.path.realpath(v), str(v))
    return [DecodeJob(v, num_candidates, encoder.short_side, encoder.fingerprint, output, decode_mode, image_fps)
            for v in unique.values()]


def _results(jobs: Sequence[DecodeJob], workers: int) -> Iterator[dict[str, Any]]:
    """Decoded videos in manifest order, at most ``2 * workers`` in flight (bounded memory)."""
    if workers <= 1:
        yield from map(decode_job, jobs)
        return
    # spawn: the workers never inherit this process's model or its thread pools; they end with this process
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        pending: list[Future] = []
        for job in jobs:
            pending.append(pool.submit(decode_job, job))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def embed_corpus(videos: Sequence[str | Path], encoder: ImageTextEncoder, num_candidates: int = 128,
                 cache: EmbeddingCache | None = None, workers: int = 2, batch_size: int = 32,
                 decode_mode: str = "auto", image_fps: float = 1.0, progress: bool = True,
                 output: Output | None = None) -> EmbedReport:
    """Embed every video's candidates into ``output`` (default: ``cache``, default the hfs cache).

    The local engine: ``workers`` spawned processes decode, this process embeds, in batches of
    ``batch_size`` frames. A video listed twice is done once.
    """
    if output is None:
        output = CacheOutput(str((cache or EmbeddingCache()).root), encoder.dim, num_candidates, encoder.name)
    jobs = decode_jobs(videos, encoder, num_candidates, output, decode_mode, image_fps)
    report = EmbedReport()
    pending: list[EmbeddedVideo] = []
    t0 = time.perf_counter()
    with progress_bar(len(jobs), "embed videos", progress) as bar:
        for result in _results(jobs, workers):
            video = result["video"]
            if result["status"] == "bad":
                report.bad[video] = result["reason"]
            elif result["status"] == "cached":
                report.cached.append(video)
            else:
                try:
                    pending.append(embed_decoded(result, encoder, batch_size))
                    report.embedded.append(video)
                except Exception as exc:  # noqa: BLE001 - frames the encoder refuses: that video is bad
                    report.bad[video] = failure(exc)
                if len(pending) >= output.videos_per_write:
                    output.write(pending)
                    pending = []
            bar.advance()
    output.write(pending)
    report.seconds = time.perf_counter() - t0
    return report
