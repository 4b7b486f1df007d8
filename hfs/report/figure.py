"""Saving a matplotlib figure as a PNG, atomically, with no display needed."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from hfs.atomic import atomic_file  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int = 110, what: str = "the figure") -> Path:
    """Write ``fig`` to ``path`` (a half-written PNG is never left behind) and close it."""
    path = Path(path)
    fig.tight_layout()
    try:
        with atomic_file(path, what) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path
