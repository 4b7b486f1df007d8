"""Frame selectors, chosen by name: ``create_selector("greedy")``."""

from __future__ import annotations

from collections.abc import Callable

from hfs.config import ObjectiveConfig
from hfs.errors import InputError
from hfs.selection.base import Selection, Selector
from hfs.selection.aks import AKSSelector
from hfs.selection.bolt import BoltSelector
from hfs.selection.greedy import GreedySelector
from hfs.selection.mdp3 import MDP3Selector
from hfs.selection.mmr import MMRSelector
from hfs.selection.objective import kernel, objective_terms, positions_for
from hfs.selection.qframe import QFrameSelector
from hfs.selection.topk import TopKSelector
from hfs.selection.uniform import UniformSelector, uniform_indices

DEFAULT_SELECTOR = "greedy"
_REGISTRY: dict[str, Callable[..., Selector]] = {}


def register_selector(name: str) -> Callable[[Callable[..., Selector]], Callable[..., Selector]]:
    """Decorator: make a Selector class or factory available as ``create_selector(name)``."""

    def wrap(factory: Callable[..., Selector]) -> Callable[..., Selector]:
        _REGISTRY[name] = factory
        return factory

    return wrap


for _cls in (UniformSelector, TopKSelector, GreedySelector, AKSSelector, BoltSelector, MDP3Selector, MMRSelector,
             QFrameSelector):
    register_selector(_cls.name)(_cls)


def list_selectors() -> list[str]:
    return sorted(_REGISTRY)


def resolve_selectors(names: list[str] | None) -> list[str]:
    """``names`` checked against the registry; empty or None means every registered selector."""
    known = list_selectors()
    names = list(names or known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown selector(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def create_selector(name: str = DEFAULT_SELECTOR, objective: ObjectiveConfig | None = None, **params) -> Selector:
    """The selector called ``name``, configured by ``objective`` and its own ``params``."""
    if name not in _REGISTRY:
        raise InputError(f"unknown selector {name!r}; choose one of {', '.join(list_selectors())}")
    try:
        return _REGISTRY[name](objective=objective, **params)
    except TypeError as exc:
        raise InputError(f"selector {name!r}: {exc}") from exc


__all__ = [
    "AKSSelector", "BoltSelector", "MDP3Selector", "MMRSelector", "QFrameSelector", "DEFAULT_SELECTOR", "GreedySelector", "ObjectiveConfig", "Selection", "Selector", "TopKSelector",
    "UniformSelector", "create_selector", "kernel", "list_selectors", "objective_terms", "positions_for",
    "register_selector", "resolve_selectors", "uniform_indices",
]
