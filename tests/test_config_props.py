"""Property tests of the config dataclasses: a value of the wrong type or out of range for any
field is exactly one HfsError naming the field (from the API and from YAML), and valid configs
round-trip through YAML unchanged."""

from __future__ import annotations

import dataclasses
import math
import typing

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hfs.config import ObjectiveConfig, SelectConfig, YamlLoader, dump_yaml, load_yaml, to_yaml
from hfs.errors import HfsError, InputError
from hfs.eval.bench import BenchConfig
from hfs.selection import create_selector
from hfs.student.config import StudentConfig
from hfs.training.config import DataConfig, TrainConfig
from hfs.validation import Rule

CLASSES = [ObjectiveConfig, SelectConfig, DataConfig, StudentConfig, TrainConfig, BenchConfig]
FIELDS = [(cls, name) for cls in CLASSES for name in cls.field_specs()]
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.filter_too_much])

# Any value at all, of the kinds YAML and careless API callers produce.
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12),
    st.sampled_from(["", "   ", "a\x00b", "yes", "1e5", ".nan", "warp", "0"]),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=4), st.none()), max_size=3),
    st.just({"no_such_field": 1}),
)


# --- an oracle written independently of hfs.validation: what each field accepts -------------

def _in_rule(value: float, rule: Rule) -> bool:
    if rule.low is not None and not (value > rule.low if rule.low_open else value >= rule.low):
        return False
    return rule.high is None or (value < rule.high if rule.high_open else value <= rule.high)


def accepts(hint, rule: Rule | None, value) -> bool:
    rule = rule or Rule()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if args and type(None) not in args and origin is not list:  # X | Y: either
        return any(accepts(a, rule, value) for a in args)
    if args and type(None) in args:
        inner = [a for a in args if a is not type(None)][0]
        return value is None or accepts(inner, rule, value)
    if hint is bool:
        return type(value) is bool
    if hint is int:
        return type(value) is int and _in_rule(value, rule)
    if hint is float:
        return type(value) in (int, float) and math.isfinite(value) and _in_rule(value, rule)
    if hint is str:
        ok = type(value) is str and bool(value.strip()) and "\x00" not in value
        return ok and (rule.allowed() is None or value in rule.allowed())
    if origin is list:
        item_rule = dataclasses.replace(rule, allow_empty=False)
        return type(value) is list and (bool(value) or rule.allow_empty) and \
            all(accepts(args[0], item_rule, v) for v in value)
    if dataclasses.is_dataclass(hint):
        return isinstance(value, hint)  # JUNK's only mapping has an unknown key
    raise AssertionError(f"no oracle for {hint}")


@pytest.mark.parametrize("cls, name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
@SETTINGS
@given(value=JUNK)
def test_a_bad_value_is_one_hfs_error_naming_the_field(cls, name, value, tmp_path):
    hint, rule = cls.field_specs()[name]
    assume(not accepts(hint, rule, value))
    with pytest.raises(HfsError) as api:
        cls(**{name: value})
    assert isinstance(api.value, InputError)
    message = str(api.value)
    assert "\n" not in message
    # the class.field, or for a mapping given for a nested config, the nested class
    nested = dataclasses.is_dataclass(hint) and isinstance(value, dict)
    assert (f"{hint.__name__}:" if nested else f"{cls.__name__}.{name}") in message
    # the same value from a YAML file: one error that also names the file
    path = tmp_path / "config.yaml"
    path.write_text(dump_yaml({name: value}))
    loaded = yaml.load(path.read_text(), Loader=YamlLoader)[name]
    assert loaded == value or (isinstance(value, float) and math.isnan(value)) or type(value) is tuple
    with pytest.raises(HfsError) as from_file:
        load_yaml(cls, path)
    assert str(from_file.value).startswith(f"{path}: ") and "\n" not in str(from_file.value)


def test_the_issue_cases_name_field_and_value():
    cases = [(dict(objective=5), "SelectConfig.objective"), (dict(cache_dir=5), "SelectConfig.cache_dir"),
             (dict(encoder=[1]), "SelectConfig.encoder"), (dict(k=True), "SelectConfig.k: expected an integer"),
             (dict(batch_size=0), "SelectConfig.batch_size"), (dict(seed="x"), "SelectConfig.seed"),
             (dict(decode_mode="warp"), "SelectConfig.decode_mode: must be one of auto, seek, sequential, keyframe"),
             (dict(objective=dict(lambda_rel=math.nan)), "ObjectiveConfig.lambda_rel: expected a finite number")]
    for kwargs, message in cases:
        with pytest.raises(InputError, match=message.replace(".", r"\.")):
            SelectConfig(**kwargs)
    # assignment after construction is checked too (hfs train --max-steps 0 sets max_steps)
    config = TrainConfig()
    with pytest.raises(InputError, match=r"TrainConfig\.max_steps: must be >= 1, got 0"):
        config.max_steps = 0
    assert config.max_steps is None
    with pytest.raises(InputError, match=r"k=20 is larger than the number of candidate frames \(16\)"):
        SelectConfig(k=20, num_candidates=16)


def test_conversions_the_api_is_allowed():
    from pathlib import Path

    config = SelectConfig(cache_dir=Path("/tmp/x"), objective={"gamma": 2}, seed=np.int64(3))
    assert config.cache_dir == "/tmp/x" and type(config.seed) is int
    assert config.objective == ObjectiveConfig(gamma=2.0) and type(config.objective.gamma) is float
    assert BenchConfig(k=(4, 8)).k == [4, 8]


# --- valid configs -----------------------------------------------------------------------------

def _valid(hint, rule: Rule | None) -> st.SearchStrategy:
    rule = rule or Rule()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if args and type(None) not in args and origin is not list:  # X | Y: either
        return any(accepts(a, rule, value) for a in args)
    if args and type(None) in args:
        return st.none() | _valid([a for a in args if a is not type(None)][0], rule)
    if hint is bool:
        return st.booleans()
    if hint is int:
        low = int(rule.low) if rule.low is not None else -1000
        return st.integers(low, int(rule.high) if rule.high is not None else low + 10_000)
    if hint is float:
        return st.floats(rule.low if rule.low is not None else -1e9, rule.high if rule.high is not None else 1e9,
                         exclude_min=rule.low_open, exclude_max=rule.high_open)
    if hint is str:
        if rule.allowed() is not None:
            return st.sampled_from(rule.allowed())
        return st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and "\x00" not in s)
    if origin is list:
        item = dataclasses.replace(rule, allow_empty=False)
        return st.lists(_valid(args[0], item), min_size=0 if rule.allow_empty else 1, max_size=3)
    if dataclasses.is_dataclass(hint):
        return configs(hint)
    raise AssertionError(f"no strategy for {hint}")


# fields whose ranges interact (k <= N, the bench's frame count): drawn where they fit together
TOGETHER = {
    "k": st.integers(1, 8), "num_candidates": st.integers(8, 4096), "size": st.lists(st.integers(16, 1920),
                                                                                       min_size=2, max_size=2),
    "duration": st.floats(10, 1000), "fps": st.floats(4, 100), "videos": st.integers(1, 10),
}


def configs(cls) -> st.SearchStrategy:
    specs = cls.field_specs()
    if cls is TrainConfig:  # data.num_candidates bounds k
        overrides = {"data": st.builds(DataConfig, num_candidates=st.integers(8, 64))}
    else:
        overrides = {}
    fields = {name: overrides.get(name, TOGETHER[name] if name in TOGETHER else _valid(hint, rule))
              for name, (hint, rule) in specs.items()}
    if cls is BenchConfig:
        fields["k"] = st.lists(st.integers(1, 64), min_size=1, max_size=3)
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


@pytest.mark.parametrize("cls", CLASSES, ids=[c.__name__ for c in CLASSES])
@SETTINGS
@given(data=st.data())
def test_valid_configs_round_trip_through_yaml(cls, data, tmp_path):
    config = data.draw(configs(cls))
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(config))
    assert load_yaml(cls, path) == config


@SETTINGS
@given(objective=configs(ObjectiveConfig), seed=st.integers(0, 2**32 - 1), n=st.integers(2, 64))
def test_every_valid_objective_gives_finite_terms(objective, seed, n):
    """The ranges of ObjectiveConfig keep F finite, so selection.json never needs NaN or Infinity."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal(n)
    scores = (scores - scores.mean()) / max(scores.std(), 1e-6)  # z-scores, as hfs.select uses
    times = np.sort(rng.uniform(0, 3600, n))
    k = int(rng.integers(1, n + 1))
    sel = create_selector("greedy", objective=objective).select(scores, k, times=times)
    assert all(math.isfinite(v) for v in sel.objective.values()), sel.objective


@SETTINGS
@given(value=st.integers(-(10**12), 10**12), zeros=st.integers(0, 3), sign=st.sampled_from(["", "+"]))
def test_integers_are_yaml_1_2(value, zeros, sign, tmp_path):
    """``k: 010`` is ten (YAML 1.2), never YAML 1.1's octal eight; 0o and 0x say octal and hex."""
    digits = "0" * zeros + str(abs(value))
    text = ("-" if value < 0 else sign) + digits
    assert yaml.load(f"k: {text}", Loader=YamlLoader) == {"k": value}
    assert yaml.load(f"k: 0o{abs(value):o}", Loader=YamlLoader) == {"k": abs(value)}
    assert yaml.load(f"k: 0x{abs(value):X}", Loader=YamlLoader) == {"k": abs(value)}
    # a string that either YAML version would read as a number is written quoted, and read back a string
    assert yaml.load(dump_yaml({"k": text}), Loader=YamlLoader) == {"k": text}
    path = tmp_path / "select.yaml"
    path.write_text(f"k: 0{abs(value) % 50 + 1}\nnum_candidates: 0{abs(value) % 50 + 64}\n")
    config = load_yaml(SelectConfig, path)
    assert (config.k, config.num_candidates) == (abs(value) % 50 + 1, abs(value) % 50 + 64)


def test_yaml_1_1_only_integers_are_strings():
    """Sexagesimal, underscores and 0b are YAML 1.1 integers; in YAML 1.2 they are strings."""
    for text in ("1:30", "1_000", "0b101", "0o8", "0xG"):
        assert yaml.load(f"k: {text}", Loader=YamlLoader) == {"k": text}
