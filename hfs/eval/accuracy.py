"""Accuracy tables from per-question records: per selector x k, overall and by group."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def accuracy_table(records: list[dict[str, Any]], by: str | None = None) -> dict[str, dict[str, Any]]:
    """{"selector@k": {"selector", "k", "n", "correct", "accuracy", "groups": {g: {n, accuracy}}}}.

    ``by`` names a record field ("duration_group", "category") to break the accuracy down by.
    """
    cells: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        cells[(r["selector"], int(r["k"]))].append(r)
    table = {}
    for (selector, k), rows in cells.items():
        correct = sum(bool(r["correct"]) for r in rows)
        entry: dict[str, Any] = {"selector": selector, "k": k, "n": len(rows), "correct": correct,
                                 "accuracy": correct / len(rows)}
        if by:
            groups: dict[str, list[bool]] = defaultdict(list)
            for r in rows:
                groups[str(r.get(by) or "-")].append(bool(r["correct"]))
            entry["groups"] = {g: {"n": len(v), "accuracy": sum(v) / len(v)} for g, v in sorted(groups.items())}
        table[f"{selector}@{k}"] = entry
    return table
