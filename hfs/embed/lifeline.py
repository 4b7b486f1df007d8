"""Worker processes that end when the process that started them dies.

A pool's workers wait on a queue from their parent; when the parent is killed (kill -9, an OOM
kill) nothing tells them, and they idle on with their decoders' memory. ``die_with_parent`` runs
first in every worker (the pool's initializer): on Linux the kernel sends the worker SIGKILL
when its parent exits (``prctl(PR_SET_PDEATHSIG)``), and everywhere a daemon thread checks once
every ``CHECK_SECONDS`` that the parent is still the same process, exiting at once if not.
Once the workers are gone, multiprocessing's resource tracker sees its last user leave and
exits too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

CHECK_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _kill_on_parent_death() -> None:
    """Ask Linux to SIGKILL this process when its parent exits; nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc to ask: the watching thread still ends the worker
        pass


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_SECONDS)
    os._exit(1)  # the parent is gone: nobody will read what this worker does


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as process ``parent`` (its starter) dies."""
    _kill_on_parent_death()
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="hfs-lifeline", daemon=True).start()
