"""Atomic writes: a crash never leaves a half-written file or folder under its final name.

Work in progress lives beside its target under a name that says who is writing it:
``.tmp-<host>-<pid>-<random><suffix>`` for a file, ``.<name>.tmp-<host>-<pid>-<random>`` for a
folder (``host`` is a short hash of the machine's name). A process killed mid-write leaves that
behind; ``clean_stale`` removes it later. A leftover counts as stale when the process named in it
is no longer running on this machine, or, whatever its name says, once it is older than
``STALE_SECONDS`` (so a writer on another machine sharing the folder, or a recycled pid, keeps its
work for that long). Files and folders are created with the user's umask, like any other file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hfs.errors import InputError, writing

STALE_SECONDS = 30 * 60
_HOST = hashlib.blake2b(socket.gethostname().encode(), digest_size=3).hexdigest()
# what follows ".tmp-" in every temporary name: host tag, pid, random part
_OWNER = re.compile(r"\.tmp-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[0-9a-f]+")


def _tag() -> str:
    return f".tmp-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return False
    return True


def is_stale(path: Path, now: float | None = None, max_age: float = STALE_SECONDS) -> bool:
    """Whether the temporary ``path`` was left by a writer that is gone (see module docstring)."""
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return False
    if age > max_age:
        return True
    owner = _OWNER.search(path.name)
    if owner is None or owner["host"] != _HOST:
        return False
    pid = int(owner["pid"])
    return pid != os.getpid() and not _pid_alive(pid)


def clean_stale(folder: str | Path, max_age: float = STALE_SECONDS, legacy_name: str | None = None) -> list[Path]:
    """Remove the stale temporary files and folders of killed writers in ``folder``.

    Only names this module creates are touched: ``.tmp-*`` files and ``.<name>.tmp-*`` folders;
    with ``legacy_name``, also ``.<legacy_name>.XXXXXXXX`` folders of older versions (random
    name, no owner: removed past ``max_age``). Returns what was removed; errors (a read-only or
    missing folder...) are ignored.
    """
    folder = Path(folder)
    legacy = re.compile(re.escape(f".{legacy_name}.") + r"[a-z0-9_]{8}") if legacy_name else None
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        ours = entry.name.startswith(".tmp-") if not is_dir else (
            entry.name.startswith(".") and (".tmp-" in entry.name
                                            or (legacy is not None and legacy.fullmatch(entry.name) is not None)))
        path = folder / entry.name
        if not ours or not is_stale(path, now, max_age):
            continue
        try:
            shutil.rmtree(path) if is_dir else path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


@contextmanager
def atomic_file(path: str | Path, what: str = "the file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it into place.

    The rename replaces whatever ``path`` was, a symlink planted there included: the link goes,
    its target is never written. A failed write (a full disk...) leaves ``path`` as it was and
    is one ``WriteError`` naming ``path`` and ``what``.
    """
    path = Path(path)
    with writing(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f"{_tag()}{path.suffix}"
        # O_EXCL: never another writer's file. Mode 0o666 less the umask, as open() creates files
        # (tempfile.mkstemp would make it 0o600, and the entry would stay private to its writer).
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            yield tmp
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def own_folder(path: str | Path) -> Path:
    """``path`` as a real folder hfs may write into: created if missing; a symlink planted
    there is removed (the link only, never what it points to) and a folder made in its place;
    any other non-folder is an ``InputError``."""
    path = Path(path)
    if path.is_symlink():
        path.unlink()
    elif path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def regular_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file itself (not a symlink to one)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


@contextmanager
def atomic_directory(path: str | Path, what: str = "the folder") -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success rename it to ``path``.

    If ``path`` appeared meanwhile (another process built the same thing), that one is kept.
    Stale leftovers of killed builds beside ``path`` are removed first.
    """
    path = Path(path)
    with writing(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent, legacy_name=path.name)
    tmp = path.parent / f".{path.name}{_tag()}"
    try:
        with writing(path, what):
            tmp.mkdir(mode=0o777)  # the umask applies, as for any folder
            yield tmp
            if not path.exists():
                os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: str | Path, text: str, what: str = "the file") -> Path:
    """Write ``text`` to ``path`` through ``atomic_file``: readers see the old file or the new one."""
    with atomic_file(path, what) as tmp:
        tmp.write_text(text)
    return Path(path)
