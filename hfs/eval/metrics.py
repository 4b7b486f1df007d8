"""Scoring a selection against known evidence (the synthetic benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def evidence_recall(selected_times: Sequence[float], events: Sequence[tuple[float, float]]) -> float:
    """Share of evidence events [start, end) hit by at least one selected frame."""
    if not events:
        return 0.0
    times = np.asarray(selected_times, dtype=np.float64)
    hit = [bool(np.any((times >= a) & (times < b))) for a, b in events]
    return float(np.mean(hit))
