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


def temporal_coverage(selected_times: Sequence[float], duration: float, k: int | None = None) -> float:
    """Share of the video within duration / (2k) seconds of a selected frame.

    k evenly spaced frames cover the whole video (1.0); k frames bunched together cover about
    1/k of it per distinct place they look at.
    """
    times = np.sort(np.asarray(selected_times, dtype=np.float64))
    if duration <= 0 or times.size == 0:
        return 0.0
    radius = duration / (2 * (k or times.size))
    starts, ends = np.clip(times - radius, 0, duration), np.clip(times + radius, 0, duration)
    covered, reach = 0.0, 0.0
    for a, b in zip(starts, ends):  # union of sorted intervals
        a = max(a, reach)
        if b > a:
            covered += b - a
            reach = b
    return float(covered / duration)


# kernel bandwidth as a share of the video: the objective's gamma (10 candidates) over N = 128
REDUNDANCY_BANDWIDTH = 10.0 / 128.0


def redundancy(selected_times: Sequence[float], duration: float, bandwidth: float = REDUNDANCY_BANDWIDTH) -> float:
    """Mean Gaussian kernel exp(-d^2 / 2b^2) over pairs of selected frames, d their distance as a
    share of the video: 0 for frames far apart, 1 for frames at the same moment."""
    t = np.asarray(selected_times, dtype=np.float64) / max(duration, 1e-12)
    if t.size < 2:
        return 0.0
    d = t[:, None] - t[None, :]
    kk = np.exp(-(d * d) / (2 * bandwidth * bandwidth))
    return float((kk.sum() - t.size) / (t.size * (t.size - 1)))
