"""Config dataclasses shared by the API and the CLI; each also loads from a YAML file."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from hfs.errors import InputError

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build dataclass ``cls`` from a mapping, recursing into nested dataclass fields.

    Unknown keys are an error, so a typo in a YAML file does not pass silently.
    """
    if not isinstance(data, dict):
        raise InputError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(f"{cls.__name__}: unknown key(s) {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)  # resolves string annotations in the class's own module
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = hints.get(key)
        nested = isinstance(sub, type) and dataclasses.is_dataclass(sub) and isinstance(value, dict)
        kwargs[key] = from_dict(sub, value) if nested else value
    return cls(**kwargs)


def load_yaml(cls: type[T], path: str | Path, section: str | None = None) -> T:
    """Load dataclass ``cls`` from a YAML file (optionally from one top-level ``section``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    if section is not None:
        data = data.get(section, {}) or {}
    return from_dict(cls, data)


@dataclass
class ObjectiveConfig:
    """Weights of the set-level objective F = l_rel Rel + l_cov Cov - l_red Red (SPEC.md)."""

    lambda_rel: float = 1.0
    lambda_cov: float = 0.3
    lambda_red: float = 0.2
    gamma: float = 10.0
    tau_c: float = 2.0
    # "index": t_i is the candidate index (gamma in candidate steps); "seconds": timestamps.
    positions: str = "index"

    def __post_init__(self) -> None:
        if self.positions not in ("index", "seconds"):
            raise InputError(f"positions must be 'index' or 'seconds', got {self.positions!r}")
        if self.gamma <= 0 or self.tau_c <= 0:
            raise InputError("gamma and tau_c must be positive")


@dataclass
class SelectConfig:
    """Everything ``hfs.select`` needs besides the video and the question."""

    k: int = 16
    num_candidates: int = 128
    selector: str | None = None  # None: "greedy", or "topk" with a student checkpoint
    encoder: str | None = None  # None: the default encoder (see hfs.encoders)
    checkpoint: str | None = None  # a trained HFS student (hfs.student) scores the frames
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    use_cache: bool = True
    cache_dir: str | None = None
    batch_size: int = 32
    decode_mode: str = "auto"  # auto | seek | sequential
    seed: int = 0
