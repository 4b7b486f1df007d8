"""The warm part of ``hfs serve``: one encoder and its embedding cache for the server's life,
selections off the event loop, one embedding per video however many requests ask at once, and the
candidate frames kept as JPEGs so that a question about a video seen before decodes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfs.errors import HfsError
from hfs.serve.config import ServeConfig
from hfs.serve.errors import ServeError


@dataclass
class Chosen:
    """One request's frames: the selection, the frames as base64 JPEGs, and the seconds it took."""

    selection: Any  # hfs.Selection
    jpegs: list[str]
    seconds: float
    decoded: int  # frames decoded for this request (0 when all came from memory)


def _time_key(t: float) -> int:
    return round(float(t) * 1e6)  # µs: candidate times are exact decoder timestamps


class FrameJpegs:
    """Base64 JPEGs of the frames of the last ``videos`` videos used, by (file, size, mtime) and time."""

    def __init__(self, videos: int, short_side: int) -> None:
        self.videos, self.short_side = videos, short_side
        self._store: OrderedDict[tuple, dict[int, str]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def video_key(path: Path) -> tuple:
        st = path.stat()
        return str(path), st.st_size, st.st_mtime_ns

    def get(self, path: Path, times: list[float]) -> tuple[list[str], int]:
        """The JPEGs of the frames of ``path`` at ``times`` (ascending), decoding only those not
        held; returns them and how many were decoded."""
        key = self.video_key(path)
        with self._lock:
            held = dict(self._store.get(key, {}))
        missing = sorted({_time_key(t): t for t in times if _time_key(t) not in held}.values())
        if missing:
            held.update(self._decode(path, missing))
            self._put(key, held)
        return [held[_time_key(t)] for t in times], len(missing)

    def fill(self, path: Path, times: list[float]) -> None:
        """Decode and keep every frame of ``times`` not held yet (candidates, for later questions)."""
        if self.videos:
            self.get(path, times)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    def _decode(self, path: Path, times: list[float]) -> dict[int, str]:
        from hfs.export import jpeg_base64
        from hfs.video import open_video

        frames = open_video(path).frames_at(times, short_side=self.short_side, unique=False, tolerance=0)
        return {_time_key(t): jpeg_base64(frame.image) for t, frame in zip(times, frames)}

    def _put(self, key: tuple, frames: dict[int, str]) -> None:
        if not self.videos:
            return
        with self._lock:
            self._store[key] = {**self._store.get(key, {}), **frames}
            self._store.move_to_end(key)
            while len(self._store) > self.videos:
                self._store.popitem(last=False)


class FrameEngine:
    """Chooses a request's frames with the encoder loaded once (``encoder``: an encoder object to
    use instead of ``config.select.encoder``'s)."""

    def __init__(self, config: ServeConfig, encoder: Any = None) -> None:
        from hfs.encoders import create_encoder

        self.config = config
        name = config.select.encoder
        if config.select.checkpoint is not None:  # loaded now, once; its own encoder unless one is named
            from hfs.pipeline import load_student

            student = load_student(config.select.checkpoint)
            name = name or student.config.encoder
        self.encoder = encoder if encoder is not None else create_encoder(name)
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="hfs-select")
        self.jpegs = FrameJpegs(config.frame_cache_videos, config.short_side)
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Future] = set()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _choose(self, path: Path, question: str, options: list[str], k: int) -> Chosen:
        from hfs.pipeline import select_with_config

        t0 = time.perf_counter()
        config = dataclasses.replace(self.config.select, k=k)
        selection = select_with_config(path, question, options, config, encoder=self.encoder)
        jpegs, decoded = self.jpegs.get(path, selection.times.tolist())
        return Chosen(selection, jpegs, time.perf_counter() - t0, decoded)

    async def choose(self, path: Path, question: str, options: list[str], k: int | None = None) -> Chosen:
        """The frames for ``question`` about ``path``; requests for one video wait for each other,
        so the first embeds it and the others read what it stored. A bad video is 400 with the
        line ``hfs select`` prints; a selection over ``select_timeout`` is 504."""
        lock = self._locks.setdefault(str(path), asyncio.Lock())
        await lock.acquire()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self.pool, self._choose, path, question, options, k or self.config.select.k)
        except BaseException:
            lock.release()
            raise
        future.add_done_callback(lambda _: lock.release())  # held until the work ends, even if the client left
        try:
            chosen = await asyncio.wait_for(asyncio.shield(future), self.config.select_timeout)
        except asyncio.TimeoutError:
            raise ServeError(504, f"hfs serve: choosing the frames of {path.name} took longer than "
                                  f"{self.config.select_timeout:g} s (--select-timeout)",
                             code="select_timeout") from None
        except HfsError as exc:
            raise ServeError(400, f"hfs: error: {exc}", code="bad_video", param="video_url") from None
        self._prefetch(path, chosen)
        return chosen

    def _prefetch(self, path: Path, chosen: Chosen) -> None:
        """Keep every candidate frame as a JPEG in the background, for the next question."""
        times = chosen.selection.candidate_times
        if times is None or not self.config.frame_cache_videos:
            return
        future = asyncio.get_running_loop().run_in_executor(self.pool, self.jpegs.fill, path, times.tolist())
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    @property
    def prefetching(self) -> int:
        """How many videos' candidate frames are being decoded in the background."""
        return len(self._background)
