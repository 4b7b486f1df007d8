"""A timeline plot: every candidate's score over time, the chosen frames marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from hfs.report.timefmt import format_time  # noqa: E402


def save_timeline(
    path: str | Path,
    candidate_times: np.ndarray,
    candidate_scores: np.ndarray,
    chosen: np.ndarray,
    title: str = "",
    selector: str = "",
) -> Path:
    """Write a PNG of score (z) against time with the ``chosen`` candidate indices marked."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(11, 3.4), dpi=110)
    ax.plot(candidate_times, candidate_scores, color="#7a7a7a", lw=1.2, marker=".", ms=4, label="candidates")
    for t in candidate_times[chosen]:
        ax.axvline(t, color="#d62728", alpha=0.18, lw=1)
    ax.scatter(candidate_times[chosen], candidate_scores[chosen], color="#d62728", s=36, zorder=3,
               label=f"chosen ({len(chosen)}{', ' + selector if selector else ''})")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_time(v)))
    ax.set_xlabel("time")
    ax.set_ylabel("score (z)")
    if title:
        ax.set_title(title if len(title) < 110 else title[:107] + "...", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
