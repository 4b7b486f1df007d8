"""Progress bars for long work, shown on stderr only when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hfs.console import console as make_console


class _Bar:
    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)


@contextmanager
def progress_bar(total: int | None, description: str, enabled: bool = True,
                 console: Console | None = None) -> Iterator[_Bar]:
    """A bar of ``total`` steps (None: unknown); a no-op when disabled or stderr (or the
    ``console`` given) is not a terminal. ``description`` is printed as given (file names may
    hold brackets), never read as markup."""
    if not enabled or not (console.is_terminal if console is not None else sys.stderr.isatty()):
        yield _Bar(None, None)
        return
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console or make_console(stderr=True), transient=True) as progress:
        yield _Bar(progress, progress.add_task(description, total=total))
