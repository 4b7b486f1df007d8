"""Exceptions raised by hfs. Every user-facing failure is an ``HfsError`` so the CLI can print
one clear line instead of a traceback."""

from __future__ import annotations


import sys


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
