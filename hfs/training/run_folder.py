"""A training output folder belongs to one config.

``config.json`` records the config that wrote the folder's checkpoints. A run refuses a folder
holding checkpoints of another config (a later ``--resume`` would continue the wrong run), and
a fresh run refuses a folder holding its own config's checkpoints (``--resume`` continues
them; starting over beside them would mix two runs). Starting a run also removes what a killed
write left and cuts ``log.jsonl`` back to the step the run starts from, so replayed steps are
logged once.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hfs.atomic import atomic_file, clean_stale, write_text_atomic
from hfs.errors import InputError

CONFIG_FILE = "config.json"
LOG_FILE = "log.jsonl"
# Bookkeeping that may differ between a run and its resumption without changing the run.
FREE_FIELDS = ("output_dir", "checkpoint_every", "log_every", "data.cache_dir", "data.num_workers",
               "data.prefetch_factor")


def config_json(config: Any) -> dict[str, Any]:
    """``config`` (a TrainConfig) as the JSON object stored in ``config.json``."""
    return json.loads(json.dumps(asdict(config), default=str))


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``"field: old -> new"`` for every field (dotted) that differs, bookkeeping fields aside."""
    a, b = _flat(old), _flat(new)
    missing = object()
    out = []
    for key in sorted(set(a) | set(b)):
        if key in FREE_FIELDS or a.get(key, missing) == b.get(key, missing):
            continue
        show = [("(absent)" if key not in side else _short(side[key])) for side in (a, b)]
        out.append(f"{key}: {show[0]} -> {show[1]}")
    return out


def _short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def read_config(out_dir: Path) -> dict[str, Any] | None:
    """The config stored in ``out_dir``, or None when it is absent, unreadable or not an object."""
    try:
        data = json.loads((out_dir / CONFIG_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_output_dir(config: Any, out_dir: Path, resume: bool, checkpoint: Path | None) -> None:
    """Refuse to start where ``checkpoint`` (the newest checkpoint in ``out_dir``, if any) could
    be mixed into this run: written by another (or an unknown) config, or by this config
    when not resuming."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output_dir {out_dir} is a file, not a folder")
    if checkpoint is None:
        return
    stored = read_config(out_dir)
    if stored is None:
        raise InputError(f"{out_dir} holds checkpoints ({checkpoint.name}) but no readable {CONFIG_FILE} saying which "
                         f"config wrote them; use a new output_dir or delete {out_dir}")
    changed = differences(stored, config_json(config))
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise InputError(f"{out_dir} holds checkpoints of another config ({'; '.join(changed[:3])}{more}); "
                         f"use a new output_dir or delete {out_dir}")
    if not resume:
        raise InputError(f"{out_dir} already holds checkpoints of this config (newest {checkpoint.name}); "
                         f"pass --resume to continue that run, or use a new output_dir or delete {out_dir}")


def prepare_output_dir(config: Any, out_dir: Path, start_step: int) -> int:
    """Remove leftovers of killed writes, store the config, and drop log lines after
    ``start_step`` (the checkpoint resumed from, 0 for a fresh run). Main process only.
    Returns how many log lines were dropped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_stale(out_dir)  # killed writes of files and of checkpoint folders
    clean_stale(out_dir / "student")
    write_text_atomic(out_dir / CONFIG_FILE, json.dumps(config_json(config), indent=2))
    return truncate_log(out_dir / LOG_FILE, start_step)


def truncate_log(path: Path, step: int) -> int:
    """Keep the lines of the JSONL log ``path`` up to ``step`` (and drop damaged ones);
    returns how many lines were dropped."""
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            ok = isinstance(entry, dict) and isinstance(entry.get("step"), int) and entry["step"] <= step
        except ValueError:
            ok = False
        if ok:
            kept.append(line + b"\n")
        else:
            dropped += 1
    if dropped:
        with atomic_file(path) as tmp:
            tmp.write_bytes(b"".join(kept))
    return dropped
