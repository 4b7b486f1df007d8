"""Config dataclasses shared by the API and the CLI; each also loads from a YAML file.

Every field is type- and range-checked when it is set (``hfs.validation``), so a bad value from
the API, a YAML file or the command line is one clear ``InputError`` naming ``Class.field``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from hfs.candidates.policy import COARSE_PASSES
from hfs.errors import InputError
from hfs.selection import list_selectors  # the light registry: no selector is imported
from hfs.validation import SEED, Checked, Rule, at_least, one_of
from hfs.video.modes import DECODE_MODES

T = TypeVar("T")

# Candidate frames per video: far above the paper's 128, low enough that the per-candidate
# arrays (positions, the N x N kernel of some selectors) always fit in memory.
MAX_CANDIDATES = 4096


class YamlLoader(yaml.SafeLoader):
    """YAML 1.2 scalars: ``1e-4`` is a float (YAML 1.1 reads it as a string), only true/false
    are booleans (``no`` stays the string 'no', as in ``mixed_precision: no``) and integers are
    decimal unless written 0o (octal) or 0x (hex): ``010`` is ten, not YAML 1.1's eight."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """A YAML 1.2 (core schema) integer: [-+]digits, 0o octal, 0x hex."""
        text = str(self.construct_scalar(node))
        body = text.lstrip("+-")
        sign = -1 if text.startswith("-") else 1
        try:
            if body[:2] in ("0o", "0x"):
                return sign * int(body[2:], 8 if body[1] == "o" else 16)
            return sign * int(body, 10)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"{text!r} is not a YAML 1.2 integer", node.start_mark) from None


class YamlDumper(yaml.SafeDumper):
    """Quotes every string that YamlLoader or a YAML 1.1 reader would not read back as a string."""


_BOOL, _FLOAT, _INT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int"
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT_12 = re.compile(r"""^(?:
    [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
  | [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
  | [-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
  | [-+]?\.(?:inf|Inf|INF)
  | \.(?:nan|NaN|NAN))$""", re.X)
YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _FLOAT, _INT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(_BOOL, _BOOL_12, list("tTfF"))
YamlLoader.add_implicit_resolver(_INT, _INT_12, list("-+0123456789"))
YamlLoader.add_implicit_resolver(_FLOAT, _FLOAT_12, list("-+0123456789."))
YamlLoader.add_constructor(_INT, YamlLoader.construct_yaml_int)
YamlDumper.yaml_implicit_resolvers = {first: list(resolvers)
                                      for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()}
# strings either reading would take for a number are quoted
YamlDumper.add_implicit_resolver(_FLOAT, _FLOAT_12, list("-+0123456789."))
YamlDumper.add_implicit_resolver(_INT, _INT_12, list("-+0123456789"))


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build dataclass ``cls`` from a mapping, recursing into nested dataclass fields.

    Unknown keys are an error, so a typo in a YAML file does not pass silently.
    """
    if not isinstance(data, dict):
        raise InputError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(key) for key in data if key not in names)
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
        raise InputError(f"{path}: config file not found" if not path.exists() else f"{path}: not a file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text (UTF-8) YAML file (byte 0x{raw[exc.start]:02x} at offset "
                         f"{exc.start})") from None
    try:
        data = yaml.load(text, Loader=YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise InputError(f"{path}: not valid YAML ({problem})") from None
    except RecursionError:
        raise InputError(f"{path}: not valid YAML (nested too deeply)") from None
    if section is not None:
        if data is not None and not isinstance(data, dict):
            raise InputError(f"{path}: expected a mapping with a {section!r} section, got {type(data).__name__}")
        data = (data or {}).get(section)
    try:
        return from_dict(cls, {} if data is None else data)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def dump_yaml(data: Any) -> str:
    """YAML text of plain data that ``load_yaml`` (and YAML 1.1 readers) read back unchanged."""
    return yaml.dump(data, Dumper=YamlDumper, sort_keys=False)


def to_yaml(config: Any) -> str:
    """A config dataclass as YAML text that ``load_yaml`` reads back to an equal config."""
    return dump_yaml(dataclasses.asdict(config))


@dataclass
class ObjectiveConfig(Checked):
    """Weights of the set-level objective F = l_rel Rel + l_cov Cov - l_red Red (SPEC.md), plus
    l_det log det D_S (MDP3's kernel on the embeddings; an extension, 0 turns it off).

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
    # weight of log det (D_S + det_ridge I), D MDP3's multi-scale Gaussian kernel on the frame
    # embeddings (0: off, the default: it ties MDP3 on the traces but drops a recurring event that
    # looks the same, docs/peers.md). The ridge bounds what a frame that looks exactly like a chosen
    # one loses (its Schur complement stays >= det_ridge); MDP3's own term has none.
    lambda_det: float = 0.0
    det_ridge: float = 0.0
    # "index": t_i is the candidate index (gamma in candidate steps); "seconds": timestamps.
    positions: str = "index"

    # Bounds keep every term finite in float32 and float64 (F is written to JSON).
    RULES = {
        "lambda_rel": at_least(0, 1e6), "lambda_cov": at_least(0, 1e6), "lambda_red": at_least(0, 1e6),
        "gamma": at_least(1e-3, 1e6), "gamma_scale": at_least(1e-3, 1e6), "tau_c": at_least(1e-3, 1e6),
        "lambda_vis": at_least(0, 1e6), "sigma_vis": at_least(1e-3, 1e6), "positions": one_of("index", "seconds"),
        "lambda_det": at_least(0, 1e6), "det_ridge": at_least(0, 1e6),
    }
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        # the paper's constants, for reproduction: fixed gamma of 10 candidate steps, no visual term
        # (gamma_scale and sigma_vis then play no part)
        "paper": {"lambda_rel": 1.0, "lambda_cov": 0.3, "lambda_red": 0.2, "gamma": 10.0, "tau_c": 2.0,
                  "lambda_vis": 0.0, "lambda_det": 0.0, "positions": "index"},
        "calibrated": {},  # the defaults
        # the calibrated rule plus MDP3's log-det term at stage 3's choice (benchmarks/tune_objective.py)
        "calibrated-det": {"lambda_det": 3.0},
        # the same with a ridge on D, chosen on the tuning seeds (docs/peers.md); not the default either
        "calibrated-det-ridge": {"lambda_det": 3.0, "det_ridge": 0.5},
        # the best rule without the visual term on the tuning seeds (stage 1 of the grid, lambda_vis = 0)
        "calibrated-time": {"lambda_red": 1.0, "gamma_scale": 0.5, "lambda_vis": 0.0, "lambda_det": 0.0},
    }

    @classmethod
    def preset(cls, name: str) -> "ObjectiveConfig":
        """The objective called ``name``: "calibrated" (the default), "calibrated-det" (with
        MDP3's log-det term), "calibrated-det-ridge" (the same with a ridge on its kernel),
        "calibrated-time" (time kernel only) or "paper"."""
        if name not in cls.PRESETS:
            raise InputError(f"unknown objective {name!r}; choose one of {', '.join(sorted(cls.PRESETS))}")
        return cls(**cls.PRESETS[name])


@dataclass
class SelectConfig(Checked):
    """Everything ``hfs.select`` needs besides the video and the question."""

    k: int = 16
    # "auto": adaptive coarse-to-fine candidates (hfs.candidates); an int N: the paper's N midpoints
    num_candidates: int | str = "auto"
    selector: str | None = None  # None: "greedy", or "topk" with a student checkpoint
    encoder: str | None = None  # None: the default encoder (see hfs.encoders)
    checkpoint: str | None = None  # a trained HFS student (hfs.student) scores the frames
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    use_cache: bool = True
    cache_dir: str | None = None
    batch_size: int = 32
    decode_mode: str = "auto"  # auto | seek | sequential | keyframe (hfs.video.decode)
    first_pass: str = "auto"  # -n auto's first pass: auto | grid | shots (hfs.candidates.coarse)
    seed: int = 0

    RULES = {
        "k": at_least(1), "num_candidates": Rule(low=1, high=MAX_CANDIDATES, choices=("auto",)),
        "first_pass": one_of(*COARSE_PASSES),
        "selector": one_of(lookup=list_selectors),
        "batch_size": at_least(1, 4096), "decode_mode": one_of(*DECODE_MODES), "seed": SEED,
    }

    def check(self) -> None:
        if isinstance(self.num_candidates, int) and self.k > self.num_candidates:
            raise InputError(f"SelectConfig: k={self.k} is larger than the number of candidate frames "
                             f"({self.num_candidates})")
