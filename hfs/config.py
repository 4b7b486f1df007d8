"""Config dataclasses shared by the API and the CLI; each also loads from a YAML file."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

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
    """Weights of the set-level objective F = l_rel Rel + l_cov Cov - l_red Red (SPEC.md).

    Red's kernel is K = K_time + lambda_vis K_vis (``hfs.selection.objective``). gamma = None ties
    the temporal bandwidth to the budget: gamma = gamma_scale * N / k candidate steps (or
    gamma_scale * duration / k seconds). The defaults are the calibrated rule, chosen on the
    tuning seeds of the score-trace benchmark (benchmarks/tune_objective.py) and the winner on
    its report seeds (``hfs bench --traces``); ``ObjectiveConfig.preset("paper")`` gives the
    paper's constants.
    """

    lambda_rel: float = 1.0
    lambda_cov: float = 0.3
    lambda_red: float = 1.0
    gamma: float | None = None  # None: gamma_scale * (spacing of k frames); a number: fixed
    gamma_scale: float = 0.25
    tau_c: float = 2.0
    lambda_vis: float = 3.0  # weight of the visual (within-shot) redundancy kernel (0: time only, as the paper)
    sigma_vis: float = 0.2  # its width in (1 - cosine)
    # "index": t_i is the candidate index (gamma in candidate steps); "seconds": timestamps.
    positions: str = "index"

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # the paper's constants, for reproduction: fixed gamma of 10 candidate steps, no visual term
        # (gamma_scale and sigma_vis then play no part)
        "paper": {"lambda_rel": 1.0, "lambda_cov": 0.3, "lambda_red": 0.2, "gamma": 10.0, "tau_c": 2.0,
                  "lambda_vis": 0.0, "positions": "index"},
        "calibrated": {},  # the defaults
        # the best rule without the visual term on the tuning seeds (stage 1 of the grid, lambda_vis = 0)
        "calibrated-time": {"lambda_red": 1.0, "gamma_scale": 0.5, "lambda_vis": 0.0},
    }

    @classmethod
    def preset(cls, name: str) -> "ObjectiveConfig":
        """The objective called ``name``: "calibrated" (the default), "calibrated-time" (no visual
        term) or "paper"."""
        if name not in cls.PRESETS:
            raise InputError(f"unknown objective {name!r}; choose one of {', '.join(sorted(cls.PRESETS))}")
        return cls(**cls.PRESETS[name])

    def __post_init__(self) -> None:
        if self.positions not in ("index", "seconds"):
            raise InputError(f"objective.positions must be 'index' or 'seconds', got {self.positions!r}")
        for name in ("lambda_rel", "lambda_cov", "lambda_red", "gamma_scale", "tau_c", "lambda_vis", "sigma_vis"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise InputError(f"objective.{name} must be a number, got {value!r}")
        if self.gamma is not None and (isinstance(self.gamma, bool) or not isinstance(self.gamma, (int, float))
                                       or not self.gamma > 0):
            raise InputError(f"objective.gamma must be a positive number or null (tied to k), got {self.gamma!r}")
        for name in ("gamma_scale", "tau_c", "sigma_vis"):
            if not getattr(self, name) > 0:
                raise InputError(f"objective.{name} must be positive, got {getattr(self, name)!r}")
        for name in ("lambda_rel", "lambda_cov", "lambda_red", "lambda_vis"):
            if getattr(self, name) < 0:
                raise InputError(f"objective.{name} must be >= 0, got {getattr(self, name)!r}")


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
