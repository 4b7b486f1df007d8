"""Processes hfs starts end with it: ``hfs embed``'s decoding workers when it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hfs.video.synth import Scene, write_video

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # after "pid (name) "
            out[int(entry.name)] = (int(fields[1]), fields[0])
    return out


def _descendants(pid: int) -> set[int]:
    procs, found, todo = _processes(), set(), [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, (pp, _) in procs.items() if pp == parent and p not in found]
        found.update(children)
        todo.extend(children)
    return found


def _alive(pids: set[int]) -> set[int]:
    procs = _processes()
    return {p for p in pids if p in procs and procs[p][1] not in ("Z", "X")}  # a zombie has ended


def _noise(image: np.ndarray, t: float) -> None:  # frames that take a while to decode
    image[:] = np.random.default_rng(int(t * 1000)).integers(0, 256, image.shape, dtype=np.uint8)


def test_embed_workers_end_when_hfs_embed_is_killed(tmp_path):
    videos = [write_video(tmp_path / f"v{i}.mp4", [Scene("red", 12.0, _noise)], fps=10, size=(96 + 2 * i, 64))
              for i in range(12)]
    manifest = tmp_path / "videos.txt"
    manifest.write_text("".join(f"{v}\n" for v in videos))
    cmd = [sys.executable, "-c", "from hfs.cli import main; raise SystemExit(main())", "embed", str(manifest),
           "--encoder", "color-names", "-n", "120", "--workers", "2", "--out", str(tmp_path / "cache")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: set[int] = set()
    deadline = time.monotonic() + 120
    while len(children) < 3 and time.monotonic() < deadline and proc.poll() is None:
        children |= _descendants(proc.pid)  # two workers and the resource tracker
        time.sleep(0.02)
    assert proc.poll() is None and len(children) >= 3, "hfs embed ended before its workers were seen"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(children)
    for pid in left:  # leave nothing behind whatever happens
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(children)} child processes outlived hfs embed"
