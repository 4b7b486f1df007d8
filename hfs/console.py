"""Printing through Rich without letting it rewrite the user's text.

Rich reads ``[...]`` as markup and ``:name:`` as emoji codes, so a file called
``clip [dQw4w9WgXcQ].mp4`` would print as ``clip .mp4`` and a question holding ``[/]`` would
raise ``MarkupError``. Everything a user gave (file names, questions, options, folder names,
model names) goes through ``text`` before it meets markup (or ``styled``, when it is to be
styled), and ``console`` turns emoji codes off.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text


def text(value: Any) -> str:
    """``value`` as Rich markup that prints exactly as given, where no markup tag follows it.

    ``rich.markup.escape`` doubles a trailing backslash so that a tag after it stays a tag; in
    hfs's output none follows user text (styled user text goes through ``styled``), and a
    doubled backslash would print twice, so it is undone here.
    """
    raw = str(value)
    escaped = escape(raw)
    if escaped != raw and escaped.endswith("\\\\") and not raw.endswith("\\\\"):
        escaped = escaped[:-1]
    return escaped


def styled(value: Any, style: str) -> Text:
    """``value`` in ``style``, never read as markup."""
    return Text(str(value), style=style)


def console(stderr: bool = False, **kwargs: Any) -> Console:
    """A Console for hfs's own output: no emoji codes, and lines longer than the terminal are
    left whole (a long path stays one line that can be copied)."""
    kwargs.setdefault("soft_wrap", True)
    return Console(stderr=stderr, emoji=False, **kwargs)
