"""Embed the candidates of many videos into the embedding cache, decoding in a process pool.

Worker processes open, hash and decode the videos (the CPU-bound part); this process embeds
the decoded frames in batches (the part a GPU does) and writes each video's cache entry under
the key ``hfs select`` looks up (``hfs.cache.frames_key``), so later questions about any of these videos cost only the
text encoding. A video already in the cache is skipped (so an interrupted run resumes by
video); a video that cannot be read is reported and skipped, never stopping the run.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfs.cache import EmbeddingCache, frames_key
from hfs.encoders import ImageTextEncoder
from hfs.errors import HfsError
from hfs.frame_cache import load_store, save_store
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
class _Job:
    video: str
    num_candidates: int
    short_side: int
    fingerprint: str
    dim: int
    cache_root: str
    decode_mode: str
    image_fps: float


def decode_job(job: _Job) -> dict[str, Any]:
    """In a worker: hash the video, stop if its cached frames cover the candidates, else decode
    the candidates they do not cover."""
    try:
        source = open_video(job.video, image_fps=job.image_fps)
        key = frames_key(source, job.fingerprint, job.short_side)
        store = load_store(EmbeddingCache(job.cache_root), key, job.dim, source.info.to_dict())
        targets = store.missing(candidate_times(source.info.duration, job.num_candidates))
        if len(targets) == 0:
            return {"video": job.video, "status": "cached"}
        frames = [f for f in source.frames_at(targets, short_side=job.short_side, mode=job.decode_mode)
                  if not store.has_time(f.time)]
        return {"video": job.video, "status": "decoded", "key": key, "info": source.info.to_dict(),
                "times": np.array([f.time for f in frames], dtype=np.float64),
                "images": [f.image for f in frames]}
    except HfsError as exc:
        return {"video": job.video, "status": "bad", "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad video never stops a corpus run
        return {"video": job.video, "status": "bad", "reason": f"{type(exc).__name__}: {exc}"}


def _results(jobs: Sequence[_Job], workers: int) -> Iterator[dict[str, Any]]:
    """Decoded videos in manifest order, at most ``2 * workers`` in flight (bounded memory)."""
    if workers <= 1:
        yield from map(decode_job, jobs)
        return
    # spawn: the workers never inherit this process's model or its thread pools
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: list[Future] = []
        for job in jobs:
            pending.append(pool.submit(decode_job, job))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def embed_corpus(videos: Sequence[str | Path], encoder: ImageTextEncoder, num_candidates: int = 128,
                 cache: EmbeddingCache | None = None, workers: int = 2, batch_size: int = 32,
                 decode_mode: str = "auto", image_fps: float = 1.0, progress: bool = True) -> EmbedReport:
    """Put every video's candidate embeddings into ``cache`` (default: the hfs cache)."""
    cache = cache or EmbeddingCache()
    jobs = [_Job(str(v), num_candidates, encoder.short_side, encoder.fingerprint, encoder.dim, str(cache.root),
                 decode_mode, image_fps) for v in videos]
    report = EmbedReport()
    t0 = time.perf_counter()
    with progress_bar(len(jobs), "embed videos", progress) as bar:
        for result in _results(jobs, workers):
            video = result["video"]
            if result["status"] == "bad":
                report.bad[video] = result["reason"]
            elif result["status"] == "cached":
                report.cached.append(video)
            else:
                store = load_store(cache, result["key"], encoder.dim, result["info"])
                if result["images"]:
                    store.add(result["times"], encoder.encode_images(result["images"], batch_size=batch_size))
                save_store(cache, result["key"], store)
                report.embedded.append(video)
            bar.advance()
    report.seconds = time.perf_counter() - t0
    return report
