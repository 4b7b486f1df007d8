"""What a killed run left in an output folder: removing it, and telling the user what was dropped.

``hfs.atomic.atomic_file`` writes ``.tmp-*`` files beside their target and
``hfs.atomic.atomic_directory`` writes ``.<name>.XXXXXXXX`` folders beside theirs; a kill
between the write and the rename leaves them. They are never read, so the next run that owns
the folder deletes them.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

TEMP_FILES = ".tmp-*"  # hfs.atomic.atomic_file's prefix


def remove_leftovers(folder: str | Path, folder_patterns: Iterable[str] = ()) -> list[Path]:
    """Delete ``.tmp-*`` files directly under ``folder`` and folders matching ``folder_patterns``
    (e.g. ``".checkpoint-*"``); returns what was removed. A missing ``folder`` is fine."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.glob(TEMP_FILES):
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    for pattern in folder_patterns:
        for path in folder.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def warn(message: str) -> None:
    """One line on stderr, as the CLI prints its errors."""
    print(f"hfs: warning: {message}", file=sys.stderr)
