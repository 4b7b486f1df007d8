"""Training checkpoints: everything needed to continue as if never stopped.

A checkpoint folder holds the trainable weights (safetensors), the optimizer and scheduler
state, every RNG state and the data position, written into a temporary folder and renamed,
so an interrupted save never leaves a checkpoint that ``latest_checkpoint`` would pick.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hfs.atomic import atomic_directory

STATE_FILE = "trainer_state.pt"
META_FILE = "trainer_meta.json"


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
    with atomic_directory(directory) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in weights.items()}, str(tmp / "weights.safetensors"))
        torch.save({
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "rng": rng_state(),
            "generator": generator.get_state() if generator is not None else None,
        }, tmp / STATE_FILE)
        (tmp / META_FILE).write_text(json.dumps({"step": step, "data_position": data_position, **(extra or {})}))
    return directory


def load_checkpoint(directory: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """(weights, trainer state, meta) of a checkpoint written by ``save_checkpoint``."""
    from safetensors.torch import load_file

    directory = Path(directory)
    weights = load_file(str(directory / "weights.safetensors"))
    # Our own file; it holds optimizer and RNG states, which are not plain tensors.
    state = torch.load(directory / STATE_FILE, weights_only=False)
    meta = json.loads((directory / META_FILE).read_text())
    return weights, state, meta


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The complete checkpoint with the highest step under ``run_dir``, if any."""
    candidates = []
    for path in Path(run_dir).glob("checkpoint-*"):
        if (path / META_FILE).is_file() and (path / STATE_FILE).is_file():
            candidates.append((json.loads((path / META_FILE).read_text())["step"], path))
    return max(candidates)[1] if candidates else None
