"""Attributes of a package that load on first use (PEP 562), so ``import hfs`` and the CLI's parser
stay cheap: a package re-exports names from its heavy modules (numpy, av, torch, matplotlib) without
importing those modules until a name is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, namespace: dict, table: dict[str, str]) -> tuple[Callable[[str], object],
                                                                                Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``table`` maps each exported name to the module
    (absolute, or relative to ``package`` when it starts with a dot) that defines it.

    A name is imported once and then stored in the package's ``namespace``, so later lookups are
    plain attribute reads. A submodule of the same name (``hfs.export``) is imported as itself.
    """

    def __getattr__(name: str) -> object:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(table[name], package)
        value = module if module.__name__ == f"{package}.{name}" else getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
