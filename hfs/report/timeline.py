"""A timeline plot: every candidate's score over time, the chosen frames marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from hfs.report.figure import save_figure  # noqa: E402
from hfs.report.timefmt import format_time  # noqa: E402

# above this many candidates the score curve is drawn without per-candidate markers
_DENSE = 400


def save_timeline(
    path: str | Path,
    candidate_times: np.ndarray,
    candidate_scores: np.ndarray,
    chosen: np.ndarray,
    title: str = "",
    selector: str = "",
    refined: np.ndarray | None = None,
) -> Path:
    """Write a PNG of score (z) against time with the ``chosen`` candidate indices marked.

    ``refined`` [N] marks the candidates a refining pass of the adaptive candidates added (drawn
    in blue). With many candidates (thousands) the scores are a thin line without markers and the
    figure is wider, so the chosen frames stay visible.
    """
    path = Path(path)
    n = len(candidate_times)
    dense = n > _DENSE
    fig, ax = plt.subplots(figsize=(16 if dense else 11, 3.4), dpi=110)
    ax.plot(candidate_times, candidate_scores, color="#7a7a7a", lw=0.6 if dense else 1.2, marker="" if dense else ".",
            ms=4, label=f"candidates ({n})")
    if refined is not None and np.any(refined):
        mask = np.asarray(refined, bool)
        ax.scatter(candidate_times[mask], candidate_scores[mask], color="#1f77b4", s=4 if dense else 12, zorder=2,
                   label=f"refined ({int(mask.sum())})")
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
    return save_figure(fig, path, dpi=fig.dpi, what="the timeline")
