"""Ctrl-C while the command line's modules load gives one line and exit 130, as ``hfs.cli.main``
gives once it runs: importing ``hfs.cli`` installs the handler (``hfs.cli`` imports this module
before its others) and ``release`` puts the previous one back when those imports are done, so a
program that imports ``hfs.cli`` keeps its own Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def _exit_interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("hfs: interrupted\n")
    sys.stderr.flush()
    os._exit(130)  # nothing has started yet that would need cleaning up


_previous = None
if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
    _previous = signal.signal(signal.SIGINT, _exit_interrupted)


def release() -> None:
    """Put back the Ctrl-C handler that was in place before ``hfs.cli`` started importing."""
    global _previous
    if _previous is not None:
        signal.signal(signal.SIGINT, _previous)
        _previous = None
