"""Videos named by http(s) URL (``--allow-url`` only): fetched once, within a size limit, into a
private temporary folder, and kept there (the last ``keep`` of them) for further questions."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import httpx

from hfs.serve.errors import ServeError


class RemoteVideos:
    def __init__(self, max_bytes: int, timeout: float, keep: int = 16) -> None:
        self.max_bytes, self.keep = max_bytes, max(keep, 1)
        self.folder = Path(tempfile.mkdtemp(prefix="hfs-serve-"))  # 0700, ours alone
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self._paths: OrderedDict[str, Path] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self.client.aclose()
        for path in self._paths.values():
            path.unlink(missing_ok=True)
        self.folder.rmdir()

    async def get(self, url: str) -> Path:
        """The local copy of ``url``, fetched if not held; 400 if it fails or is too large."""
        async with self._locks.setdefault(url, asyncio.Lock()):
            if url in self._paths:
                self._paths.move_to_end(url)
                return self._paths[url]
            path = self.folder / hashlib.sha256(url.encode()).hexdigest()[:32]
            part = path.with_suffix(".part")
            try:
                await self._fetch(url, part)
                os.replace(part, path)
            except httpx.HTTPError as exc:
                raise ServeError(400, f"video {url}: cannot be fetched ({type(exc).__name__})",
                                 code="video_fetch_failed", param="video_url") from None
            finally:
                part.unlink(missing_ok=True)
            self._paths[url] = path
            while len(self._paths) > self.keep:
                self._paths.popitem(last=False)[1].unlink(missing_ok=True)
            return path

    async def _fetch(self, url: str, dest: Path) -> None:
        size = 0
        async with self.client.stream("GET", url) as response:
            if response.status_code != 200:
                raise ServeError(400, f"video {url}: the server answered {response.status_code}",
                                 code="video_fetch_failed", param="video_url")
            with open(dest, "wb") as out:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ServeError(413, f"video {url}: larger than {self.max_bytes} bytes (--max-video-bytes)",
                                         code="video_too_large", param="video_url")
                    out.write(chunk)
