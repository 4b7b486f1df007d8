"""Resolving annotation paths under a data root, refusing any that escape it."""

from __future__ import annotations

from pathlib import Path

from hfs.errors import InputError


def resolve_under(root: str | Path, relative: str, where: str = "") -> Path:
    """``root / relative`` resolved; an absolute path or one that leaves ``root`` is refused."""
    root_path = Path(root).resolve()
    rel = Path(relative)
    if rel.is_absolute():
        raise InputError(f"{where}video path {relative!r} is absolute; annotation paths must be relative to {root_path}")
    full = (root_path / rel).resolve()
    if full != root_path and root_path not in full.parents:
        raise InputError(f"{where}video path {relative!r} escapes the data root {root_path}")
    return full
