"""Exceptions raised by hfs. Every user-facing failure is an ``HfsError`` so the CLI can print
one clear line instead of a traceback."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def warn(message: str) -> None:
    """One warning line on stderr, worded as the CLI words its errors."""
    print(f"hfs: warning: {message}", file=sys.stderr)


class HfsError(Exception):
    """Base class of every error hfs raises on purpose."""


class InputError(HfsError, ValueError):
    """A bad argument: empty question, k out of range, unknown name."""


class VideoError(HfsError):
    """A video file that cannot be used: missing, not a video, corrupt, no video stream."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class EncoderNotAvailableError(HfsError):
    """The requested image-text model cannot be loaded offline (weights not on this machine)."""


class CacheError(HfsError):
    """The embedding cache directory cannot be used."""


class WriteError(HfsError, OSError):
    """A file hfs was asked to write could not be written (a full disk, a read-only folder...).

    Also an ``OSError`` (with the original errno and strerror), so code that treats a failed
    write as a reason to go on without an optional file (the embedding cache) still catches it.
    """

    def __init__(self, path: object, what: str, cause: OSError) -> None:
        OSError.__init__(self, cause.errno, cause.strerror or str(cause), str(path))
        self.path = str(path)
        self.what = what
        self.reason = cause.strerror or str(cause) or type(cause).__name__

    def __str__(self) -> str:
        return f"{self.path}: cannot write {self.what} ({self.reason})"

    def __reduce__(self) -> tuple:  # travels whole between processes (Ray workers, process pools)
        return _write_error, (self.path, self.what, self.errno, self.reason)


def _write_error(path: str, what: str, errno: int | None, reason: str) -> WriteError:
    return WriteError(path, what, OSError(errno, reason))


@contextmanager
def writing(path: object, what: str) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``what`` to ``path`` into one ``WriteError``
    naming both; a ``WriteError`` from an inner write passes through unchanged."""
    try:
        yield
    except WriteError:
        raise
    except Exception as exc:  # noqa: BLE001 - only I/O failures are turned, the rest go on unchanged
        cause = io_cause(exc)
        if cause is None:
            raise
        raise WriteError(path, what, cause) from exc


_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def io_cause(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: itself, or what a library that does not raise OSError reports
    (safetensors' Rust writer: "I/O error: No space left on device (os error 28)"); else None."""
    if isinstance(exc, OSError):
        return exc
    found = _OS_ERROR.search(str(exc)) if type(exc).__name__ == "SafetensorError" else None
    if found is None:
        return None
    number = int(found.group(1))
    return OSError(number, os.strerror(number))


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its type's name when it has none (for a reason in parentheses)."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def describe_os_error(exc: OSError) -> str:
    """One line for an ``OSError`` no hfs code turned into an ``HfsError``: the file, then why."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"
