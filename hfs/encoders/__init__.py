"""Image-text encoders chosen by name.

``create_encoder(None)`` gives the default: open_clip's ViT-B-32 trained on LAION-2B
(``laion/CLIP-ViT-B-32-laion2B-s34B-b79K``), loaded through transformers from the Hugging Face
cache and fetched into it on first use (``hfs.encoders.fetch``; ``HF_HUB_OFFLINE=1`` turns
that off). Any other transformers image-text model is used by hub name or local folder.
``HFS_ENCODER`` in the environment changes the default.

The registry is light: the encoder classes (numpy, torch, transformers) load when an encoder is
built or their name is first read (``hfs.lazy``), so listing the names imports none of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hfs.encoders.fetch import fetch_hint, fetch_model
from hfs.errors import EncoderNotAvailableError, InputError
from hfs.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "ImageTextEncoder": ".base", "l2_normalize": ".base", "HFImageTextEncoder": ".hf", "build_tiny_clip": ".tiny",
})

if TYPE_CHECKING:
    from hfs.encoders.base import ImageTextEncoder, l2_normalize
    from hfs.encoders.hf import HFImageTextEncoder
    from hfs.encoders.tiny import build_tiny_clip

DEFAULT_ENCODER = "clip-vit-b-32"

# Short names for well-known checkpoints, fetched into the Hugging Face cache on first use.
ALIASES: dict[str, str] = {
    "clip-vit-b-32": "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
    "openai-clip-vit-b-32": "openai/clip-vit-base-patch32",
    "openai-clip-vit-b-16": "openai/clip-vit-base-patch16",
    "siglip-base": "google/siglip-base-patch16-224",
    "siglip2-base": "google/siglip2-base-patch16-224",
}

_REGISTRY: dict[str, Callable[..., ImageTextEncoder]] = {}
_LOADED: dict[str, ImageTextEncoder] = {}


def register_encoder(name: str) -> Callable[[Callable[..., ImageTextEncoder]], Callable[..., ImageTextEncoder]]:
    """Decorator: make a factory available as ``create_encoder(name)``."""

    def wrap(factory: Callable[..., ImageTextEncoder]) -> Callable[..., ImageTextEncoder]:
        _REGISTRY[name] = factory
        return factory

    return wrap


def list_encoders() -> list[str]:
    return sorted(set(_REGISTRY) | set(ALIASES))


def looks_local(name: str) -> bool:
    """Whether ``name`` can only be a path: a hub name is exactly "org/model"."""
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1


def default_encoder_name() -> str:
    return os.environ.get("HFS_ENCODER") or DEFAULT_ENCODER


def create_encoder(name: str | None = None, allow_download: bool = True, *, flag: str = "--encoder",
                   **kwargs) -> ImageTextEncoder:
    """Build (or reuse, within this process) the encoder called ``name``.

    ``name``: a registered name, an alias from ``ALIASES``, a local model folder, or a hub
    name ("org/model"). A model not in the Hugging Face cache is fetched on first use, unless
    ``HF_HUB_OFFLINE=1``; without a network that fails in one line within seconds. A path that
    is plainly local (``./x``, ``/x``, ``~/x``, ``a/b/c``) and missing is an error, never a hub
    name. ``flag`` is what named the model (a CLI flag, or a config field such as
    ``student.encoder``), for the errors. ``allow_download`` is accepted for older callers and
    changes nothing.
    """
    del allow_download  # fetching on first use is the default now, as in Hugging Face libraries
    name = name or default_encoder_name()
    if name in _LOADED and not kwargs:
        return _LOADED[name]
    encoder = _REGISTRY[name](**kwargs) if name in _REGISTRY else _transformers_encoder(name, flag, **kwargs)
    if not kwargs:
        _LOADED[name] = encoder
    return encoder


def _transformers_encoder(name: str, flag: str, **kwargs) -> ImageTextEncoder:
    """A transformers image-text model: an alias, a local folder or a hub name (torch loads here)."""
    from hfs.encoders.hf import HFImageTextEncoder

    if name in ALIASES:
        repo = ALIASES[name]
        return HFImageTextEncoder(fetch_model(repo, flag=flag), local_files_only=True, display_name=name,
                                  missing_hint=f"the cached copy of {repo} is incomplete; {fetch_hint(repo, flag)}",
                                  **kwargs)
    if Path(name).expanduser().exists():
        return HFImageTextEncoder(str(Path(name).expanduser()), local_files_only=True, **kwargs)
    if looks_local(name):
        raise InputError(f"{flag} {name}: no such model folder (relative paths are taken from {Path.cwd()})")
    if "/" in name:
        return HFImageTextEncoder(fetch_model(name, flag=flag), local_files_only=True, display_name=name, **kwargs)
    raise InputError(f"unknown encoder {name!r}; choose one of {', '.join(list_encoders())}, a folder or a hub name")


@register_encoder("color-names")
def _color_names(**kwargs) -> ImageTextEncoder:
    """Weight-free colour encoder for the synthetic benchmarks (see hfs.encoders.color)."""
    from hfs.encoders.color import ColorNamesEncoder

    return ColorNamesEncoder(**kwargs)


@register_encoder("tiny-random-clip")
def _tiny_random_clip(seed: int = 0, **kwargs) -> ImageTextEncoder:
    """A tiny random CLIP for smoke tests (meaningless scores), built on first use."""
    from hfs.cache import default_cache_dir
    from hfs.encoders.hf import HFImageTextEncoder
    from hfs.encoders.tiny import build_tiny_clip

    path = default_cache_dir() / "models" / f"tiny-random-clip-seed{seed}"
    if not (path / "config.json").is_file():
        try:
            build_tiny_clip(path, seed=seed)
        except OSError as exc:
            raise EncoderNotAvailableError(f"{path}: cannot build tiny-random-clip there ({exc.strerror or exc}); "
                                           f"set HFS_CACHE_DIR to a writable folder") from exc
    return HFImageTextEncoder(str(path), local_files_only=True, display_name="tiny-random-clip", **kwargs)


__all__ = [
    "ALIASES", "DEFAULT_ENCODER", "HFImageTextEncoder", "ImageTextEncoder", "build_tiny_clip",
    "create_encoder", "default_encoder_name", "l2_normalize", "list_encoders", "looks_local", "register_encoder",
]
