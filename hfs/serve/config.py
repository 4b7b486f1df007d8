"""``ServeConfig``: what ``hfs serve`` listens on, where it forwards, what it may read (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from hfs.config import SelectConfig
from hfs.validation import Checked, FieldError, Rule, at_least, one_of

UPSTREAM_FORMATS = ("openai", "vllm")
MiB = 1 << 20


@dataclass
class ServeConfig(Checked):
    """The proxy's settings. ``upstream`` is the OpenAI base URL of the VLM server (as the
    ``openai`` client's ``base_url``, e.g. ``http://127.0.0.1:8000/v1``)."""

    upstream: str
    video_root: str = "."
    host: str = "127.0.0.1"
    port: int = 8100
    api_key: str | None = None  # None: no key asked of clients
    upstream_api_key: str | None = None
    upstream_format: str = "openai"  # image parts with their times | vLLM's JPEG-sequence video
    allow_url: bool = False  # fetch http(s) video URLs (off: only files under video_root)
    select: SelectConfig = field(default_factory=SelectConfig)
    max_k: int = 64  # the most frames a request may ask for (its "hfs": {"k": ...})
    short_side: int = 448  # px of the frames sent upstream
    max_request_bytes: int = 32 * MiB
    max_video_bytes: int = 2048 * MiB  # a fetched URL's size (with allow_url)
    select_timeout: float = 300.0  # s to choose one request's frames
    upstream_timeout: float = 600.0  # s for the upstream's answer
    workers: int = 2  # selections running at once (threads off the event loop)
    frame_cache_videos: int = 16  # videos whose encoded candidate frames stay in memory

    RULES = {
        "port": at_least(0, 65535), "upstream_format": one_of(*UPSTREAM_FORMATS), "max_k": at_least(1, 4096),
        "short_side": at_least(16, 4096), "max_request_bytes": at_least(1024), "max_video_bytes": at_least(1024),
        "select_timeout": Rule(low=0, low_open=True), "upstream_timeout": Rule(low=0, low_open=True),
        "workers": at_least(1, 256), "frame_cache_videos": at_least(0, 100_000),
    }

    def check(self) -> None:
        if not self.upstream.startswith(("http://", "https://")):
            raise FieldError("ServeConfig", "upstream", "must be an http:// or https:// URL", self.upstream)
        if self.select.k > self.max_k:
            raise FieldError("ServeConfig", "max_k", f"must be at least k ({self.select.k})", self.max_k)

    @property
    def upstream_base(self) -> str:
        return self.upstream.rstrip("/")
