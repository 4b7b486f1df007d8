"""Type and range checks for the config dataclasses, driven by their type hints.

A config class derives from ``Checked`` and may declare per-field ``Rule``s in a class-level
``RULES`` dict next to its fields. Every assignment of a field (in ``__init__``, from YAML or
later) is checked against the field's type hint and rule, and ``check()`` (run after
``__init__``) holds the checks that relate several fields. A bad value raises one ``FieldError``
(an ``InputError``) naming ``Class.field`` and the value.

What a type hint accepts: ``int`` an integer (never a bool); ``float`` a finite real number (an
integer too, stored as a float; never a bool); ``bool`` true or false only; ``str`` a non-empty
string without NUL characters (a path-like object is stored as its string); ``X | None`` also
None; ``X | Y`` either (a value of one of them that breaks the rule is reported by that one); ``list[X]`` a list (or tuple) of X; a dataclass an instance, or a mapping of its fields.
Hints it does not know are not checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import numbers
import os
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from hfs.errors import InputError


class FieldError(InputError):
    """A config field given a value of the wrong type or out of its range."""

    def __init__(self, owner: str, name: str, problem: str, value: Any) -> None:
        self.owner, self.field, self.problem, self.value = owner, name, problem, value
        super().__init__(f"{owner}.{name}: {problem}, got {short_repr(value)}")


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` on one line, cut to about ``limit`` characters."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real problem
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high] (shared by ``hfs`` and ``python -m hfs.train``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


@dataclass(frozen=True)
class Rule:
    """What a field's value may be besides its type. For a list the bounds and choices apply to
    its items and ``allow_empty`` to the list itself."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: low < value, else low <= value
    high_open: bool = False  # True: value < high, else value <= high
    choices: tuple[str, ...] | Callable[[], Iterable[str]] | None = None  # a callable is looked up lazily
    allow_empty: bool = False  # strings and lists

    def allowed(self) -> list[str] | None:
        """The allowed strings, or None when any string is allowed."""
        if self.choices is None:
            return None
        return list(self.choices() if callable(self.choices) else self.choices)

    def describe(self) -> str:
        """e.g. 'must be > 0', 'must be between 0 and 1'."""
        if self.low is not None and self.high is not None:
            if not (self.low_open or self.high_open):
                return f"must be between {self.low:g} and {self.high:g}"
            return (f"must be {'>' if self.low_open else '>='} {self.low:g} "
                    f"and {'<' if self.high_open else '<='} {self.high:g}")
        if self.low is not None:
            return f"must be {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"must be {'<' if self.high_open else '<='} {self.high:g}"
        return ""

    def contains(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))


def at_least(low: float, high: float | None = None) -> Rule:
    """low <= value (<= high)."""
    return Rule(low=low, high=high)


def above(low: float, high: float | None = None) -> Rule:
    """low < value (<= high)."""
    return Rule(low=low, high=high, low_open=True)


def one_of(*choices: str, lookup: Callable[[], Iterable[str]] | None = None) -> Rule:
    """One of ``choices``, or of what ``lookup()`` returns when the value is checked."""
    return Rule(choices=lookup if lookup is not None else tuple(choices))


SEED = at_least(0, 2**32 - 1)  # numpy's legacy seeding (accelerate's set_seed) takes no more


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _describe(a) for a in args)
    if origin is list:
        return f"a list of {re.sub(r'^an? ', '', _describe(args[0]))} items" if args else "a list"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {hint.__name__} fields"
    return {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}.get(
        hint, getattr(hint, "__name__", str(hint)))


def check_value(owner: str, name: str, hint: Any, value: Any, rule: Rule | None = None) -> Any:
    """``value`` checked against ``hint`` and ``rule`` (and converted: int to float, path to
    str, tuple to list, mapping to dataclass); a bad one raises FieldError for ``owner.name``."""
    rule = rule or Rule()

    def bad(problem: str) -> FieldError:
        return FieldError(owner, name, problem, value)

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise bad(f"expected {_describe(hint)}")
        members = [a for a in args if a is not type(None)]
        errors: list[FieldError] = []
        for member in members:
            try:
                return check_value(owner, name, member, value, rule)
            except FieldError as exc:
                if len(members) == 1:
                    raise
                errors.append(exc)
        # the member of the value's own type says best what is wrong (a range, a choice)
        raise next((e for e in errors if not e.problem.startswith("expected")), errors[-1])
    if hint is bool:
        if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy bools too
            return bool(value)
        raise bad("expected true or false")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise bad("expected an integer")
        value = int(value)
        if not rule.contains(value):
            raise bad(rule.describe())
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad("expected a number")
        try:
            number = float(value)
        except OverflowError:
            raise bad("expected a finite number") from None
        if not math.isfinite(number):
            raise bad("expected a finite number")
        if not rule.contains(number):
            raise bad(rule.describe())
        return number
    if hint is str:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str):
            raise bad("expected a string")
        if "\x00" in value:
            raise bad("contains a NUL character")
        if not value.strip() and not rule.allow_empty:
            raise bad("must not be empty")
        allowed = rule.allowed()
        if allowed is not None and value not in allowed:
            raise bad(f"must be one of {', '.join(allowed)}")
        return value
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise bad(f"expected {_describe(hint)}")
        if not value and not rule.allow_empty:
            raise bad("must not be empty")
        item_hint = args[0] if args else Any
        item_rule = dataclasses.replace(rule, allow_empty=False)
        return [check_value(owner, f"{name}[{i}]", item_hint, v, item_rule) for i, v in enumerate(value)]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if isinstance(value, dict):
            from hfs.config import from_dict

            return from_dict(hint, value)
        raise bad(f"expected {_describe(hint)}")
    return value


class Checked:
    """Mixin for config dataclasses: fields are checked on every assignment (see the module
    docstring); ``check()`` runs after ``__init__`` for rules that relate several fields."""

    RULES: ClassVar[dict[str, Rule]] = {}
    _specs_cache: ClassVar[dict[type, dict[str, tuple[Any, Rule | None]]]] = {}

    @classmethod
    def field_specs(cls) -> dict[str, tuple[Any, Rule | None]]:
        """{field name: (resolved type hint, rule or None)} of this dataclass."""
        specs = Checked._specs_cache.get(cls)
        if specs is None:
            hints = typing.get_type_hints(cls)
            names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
            unknown = set(cls.RULES) - set(names)
            if unknown:  # a typo in RULES would silently drop a check
                raise TypeError(f"{cls.__name__}.RULES names no field: {', '.join(sorted(unknown))}")
            specs = {n: (hints[n], cls.RULES.get(n)) for n in names}
            Checked._specs_cache[cls] = specs
        return specs

    def __setattr__(self, name: str, value: Any) -> None:
        spec = type(self).field_specs().get(name)
        if spec is not None:
            value = check_value(type(self).__name__, name, spec[0], value, spec[1])
        object.__setattr__(self, name, value)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Checks across fields; subclasses override (and raise InputError)."""
