"""Human-readable timestamps."""

from __future__ import annotations


def format_time(seconds: float) -> str:
    """mm:ss.s, or h:mm:ss.s from one hour on."""
    tenths = int(round(max(seconds, 0.0) * 10))
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    secs = rest / 10
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes:02d}:{secs:04.1f}"
