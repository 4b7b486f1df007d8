"""Training checkpoints: everything needed to continue as if never stopped.

A checkpoint folder holds the trainable weights (safetensors), the optimizer and scheduler
state and every RNG state (safetensors + JSON, see ``state_io``: nothing is unpickled) and the
data position, written into a temporary folder and renamed, so an interrupted save never leaves
a checkpoint that ``latest_checkpoint`` would pick. A checkpoint that cannot be read anyway (a
damaged disk, a hand-edited file) is passed over for the previous one, with a warning.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hfs.atomic import atomic_directory
from hfs.errors import first_line
from hfs.training.state_io import load_state, save_state
from hfs.validation import short_repr

STATE_STEM = "trainer_state"  # trainer_state.safetensors + trainer_state.json
META_FILE = "trainer_meta.json"
log = logging.getLogger(__name__)


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: str | Path, weights: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                    scheduler: Any, step: int, data_position: dict[str, Any], extra: dict[str, Any] | None = None,
                    generator: torch.Generator | None = None) -> Path:
    """Write ``directory`` (e.g. run/checkpoint-000200) atomically."""
    from safetensors.torch import save_file

    directory = Path(directory)
    with atomic_directory(directory, "the checkpoint") as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in weights.items()}, str(tmp / "weights.safetensors"))
        save_state({
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "rng": rng_state(),
            "generator": generator.get_state() if generator is not None else None,
        }, tmp / STATE_STEM)
        (tmp / META_FILE).write_text(json.dumps({"step": step, "data_position": data_position, **(extra or {})}))
    return directory


def load_checkpoint(directory: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """(weights, trainer state, meta) of a checkpoint written by ``save_checkpoint``."""
    from safetensors.torch import load_file

    directory = Path(directory)
    weights = load_file(str(directory / "weights.safetensors"))
    state = load_state(directory / STATE_STEM)
    meta = json.loads((directory / META_FILE).read_text())
    problem = meta_problem(meta)
    if problem:
        raise ValueError(f"{directory / META_FILE}: {problem}")
    return weights, state, meta


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def meta_problem(meta: Any) -> str | None:
    """What makes a checkpoint's meta unusable to resume from (None when nothing does): the step
    and the data position (epoch, index) must be integers of at least 0."""
    if not isinstance(meta, dict) or not _count(meta.get("step")):
        return f"step is {short_repr(meta.get('step') if isinstance(meta, dict) else meta)}, not a count"
    position = meta.get("data_position")
    if not isinstance(position, dict):
        return "no data position"
    for name in ("epoch", "index"):
        if not _count(position.get(name)):
            return f"data position {name} is {short_repr(position.get(name))}, not a count"
    return None


def weights_problem(weights: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]]) -> str | None:
    """How ``weights`` fail to fit a model whose trainable weights have the ``expected`` shapes,
    or None when they fit: every weight present, no other, each of its shape."""
    missing = sorted(set(expected) - set(weights))
    if missing:
        return f"no weight {missing[0]}" + (f" and {len(missing) - 1} more missing" if len(missing) > 1 else "")
    extra = sorted(set(weights) - set(expected))
    if extra:
        return f"weight {extra[0]} is not in this model" + (f" ({len(extra) - 1} more)" if len(extra) > 1 else "")
    for name, shape in expected.items():
        if tuple(weights[name].shape) != tuple(shape):
            return f"weight {name} is {list(weights[name].shape)} in the checkpoint, {list(shape)} in this model"
    return None


def _checkpoints_newest_first(run_dir: Path) -> list[Path]:
    # the step is in the folder name (checkpoint-000200); a name without one is not ours
    found = []
    for path in run_dir.glob("checkpoint-*"):
        suffix = path.name.removeprefix("checkpoint-")
        if path.is_dir() and suffix.isdigit():
            found.append((int(suffix), path))
    return [path for _, path in sorted(found, reverse=True)]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The checkpoint with the highest step under ``run_dir`` that has all its files, if any."""
    for path in _checkpoints_newest_first(Path(run_dir)):
        if all((path / name).is_file() for name in
               (META_FILE, "weights.safetensors", f"{STATE_STEM}.safetensors", f"{STATE_STEM}.json")):
            return path
    return None


def load_latest_checkpoint(run_dir: str | Path, expected: dict[str, tuple[int, ...]] | None = None
                           ) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any], dict[str, Any]] | None:
    """(folder, weights, state, meta) of the newest readable checkpoint under ``run_dir``, if any.

    A checkpoint that is incomplete or cannot be read, holds a data position that is not one,
    or (given ``expected``, the model's trainable weight shapes) weights that do not fit, is
    skipped with a warning, so a damaged newest checkpoint resumes from the one before it
    instead of stopping the run.
    """
    for path in _checkpoints_newest_first(Path(run_dir)):
        try:
            weights, state, meta = load_checkpoint(path)
            problem = weights_problem(weights, expected) if expected is not None else None
            if problem:
                raise ValueError(problem)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with it, the previous one may be fine
            log.warning("%s: cannot be read (%s); trying the previous checkpoint", path, first_line(exc))
            continue
        return path, weights, state, meta
    return None
