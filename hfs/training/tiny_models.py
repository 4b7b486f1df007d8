"""Tiny random models by name, built on first use, so a training config runs as shipped.

``tiny-random-qwen2`` (a student base LM) and ``tiny-random-qwen2-vl`` (a teacher) are written
into ``$HFS_CACHE_DIR/models`` the first time a config names them, as the encoder
``tiny-random-clip`` is. Their weights are random: they show that a run works end to end (a
smoke test, the shipped example), never a result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hfs.errors import InputError


def _qwen2(path: Path) -> Path:
    from hfs.student import build_tiny_qwen2

    return build_tiny_qwen2(path, seed=0)


def _qwen2_vl(path: Path) -> Path:
    from hfs.reasoning.tiny import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(path, seed=0)


TINY_MODELS: dict[str, Callable[[Path], Path]] = {"tiny-random-qwen2": _qwen2, "tiny-random-qwen2-vl": _qwen2_vl}


def resolve_model(name: str) -> str:
    """``name`` itself, or for a tiny model's name the folder it was built in (built now if needed)."""
    if name not in TINY_MODELS:
        return name
    from hfs.cache import default_cache_dir

    path = default_cache_dir() / "models" / f"{name}-seed0"
    if (path / "config.json").is_file():
        return str(path)
    try:
        TINY_MODELS[name](path)  # written aside and renamed in (hfs.atomic), so processes launched together agree
    except OSError as exc:
        raise InputError(f"{path}: cannot build {name} there ({exc.strerror or exc}); set HFS_CACHE_DIR to a "
                         "writable folder") from None
    return str(path)
