"""Frame selectors, chosen by name: ``create_selector("greedy")``.

The registry is light: it names each built-in selector's class, which (with numpy) is imported
when the selector is first created, so configs and the CLI parser list the names for free.
Other names load on first use (``hfs.lazy``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from hfs.errors import InputError
from hfs.lazy import lazy_exports

DEFAULT_SELECTOR = "greedy"

_CLASSES = {  # built-in name -> the class's module and name; its ``name`` attribute is the same key
    "aks": ("aks", "AKSSelector"), "bolt": ("bolt", "BoltSelector"), "greedy": ("greedy", "GreedySelector"),
    "mdp3": ("mdp3", "MDP3Selector"), "mmr": ("mmr", "MMRSelector"), "qframe": ("qframe", "QFrameSelector"),
    "topk": ("topk", "TopKSelector"), "uniform": ("uniform", "UniformSelector"),
}
# a factory, or the (module, class) of a built-in not imported yet
_REGISTRY: dict[str, Callable[..., Selector] | tuple[str, str]] = dict(_CLASSES)

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    **{cls: f".{module}" for module, cls in _CLASSES.values()},
    "ObjectiveConfig": "hfs.config", "Selection": ".base", "Selector": ".base",
    **dict.fromkeys(("kernel", "objective_terms", "positions_for"), ".objective"),
    "uniform_indices": ".uniform",
})

if TYPE_CHECKING:
    from hfs.config import ObjectiveConfig
    from hfs.selection.aks import AKSSelector
    from hfs.selection.base import Selection, Selector
    from hfs.selection.bolt import BoltSelector
    from hfs.selection.greedy import GreedySelector
    from hfs.selection.mdp3 import MDP3Selector
    from hfs.selection.mmr import MMRSelector
    from hfs.selection.objective import kernel, objective_terms, positions_for
    from hfs.selection.qframe import QFrameSelector
    from hfs.selection.topk import TopKSelector
    from hfs.selection.uniform import UniformSelector, uniform_indices


def register_selector(name: str) -> Callable[[Callable[..., Selector]], Callable[..., Selector]]:
    """Decorator: make a Selector class or factory available as ``create_selector(name)``."""

    def wrap(factory: Callable[..., Selector]) -> Callable[..., Selector]:
        _REGISTRY[name] = factory
        return factory

    return wrap


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


def _factory(name: str) -> Callable[..., Selector]:
    entry = _REGISTRY[name]
    if isinstance(entry, tuple):
        module, cls = entry
        entry = _REGISTRY[name] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return entry


def create_selector(name: str = DEFAULT_SELECTOR, objective: ObjectiveConfig | None = None, **params) -> Selector:
    """The selector called ``name``, configured by ``objective`` and its own ``params``."""
    if name not in _REGISTRY:
        raise InputError(f"unknown selector {name!r}; choose one of {', '.join(list_selectors())}")
    try:
        return _factory(name)(objective=objective, **params)
    except TypeError as exc:
        raise InputError(f"selector {name!r}: {exc}") from exc


__all__ = [
    "AKSSelector", "BoltSelector", "MDP3Selector", "MMRSelector", "QFrameSelector", "DEFAULT_SELECTOR", "GreedySelector", "ObjectiveConfig", "Selection", "Selector", "TopKSelector",
    "UniformSelector", "create_selector", "kernel", "list_selectors", "objective_terms", "positions_for",
    "register_selector", "resolve_selectors", "uniform_indices",
]
