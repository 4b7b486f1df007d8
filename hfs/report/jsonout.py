"""JSON for people and programs: standard JSON only, so never NaN or Infinity."""

from __future__ import annotations

import json
import math
from typing import Any

from hfs.errors import InputError


def first_non_finite(value: Any, path: str = "") -> tuple[str, float] | None:
    """(dotted path, value) of the first NaN or infinite float inside ``value``, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path or "value", value)
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for sub_path, sub in items:
        found = first_non_finite(sub, sub_path)
        if found is not None:
            return found
    return None


def dumps_finite(data: Any, what: str = "the output", **kwargs: Any) -> str:
    """``json.dumps(data, allow_nan=False)``; a NaN or infinite number is one InputError naming
    where it is in ``what``, instead of the non-standard ``NaN`` most JSON readers refuse."""
    found = first_non_finite(data)
    if found is not None:
        raise InputError(f"{what}: {found[0]} is {found[1]}, which JSON cannot hold; "
                         "check the inputs and objective weights that produced it")
    return json.dumps(data, allow_nan=False, **kwargs)
