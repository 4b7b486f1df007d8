"""Property tests of the frame cache's history: whatever earlier runs left in the cache (another N,
``-n auto`` with the grid or the shot scan, ``hfs embed``, each in any decode mode, in any order
or at the same time), a run gives the same frames and scores as the same run with ``--no-cache``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hfs
from hfs.cache import EmbeddingCache
from hfs.candidates import DEFAULT_POLICY
from hfs.embed.corpus import embed_corpus
from hfs.encoders.color import ColorNamesEncoder
from hfs.video.synth import Scene, write_video

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])
QUESTION = "a white square on green"
POLICIES = {"grid": dataclasses.replace(DEFAULT_POLICY, coarse="grid"),
            "shots": dataclasses.replace(DEFAULT_POLICY, coarse="shots")}
# (name, num_candidates, first pass of -n auto)
RUNS = [("n64", 64, "grid"), ("n128", 128, "grid"), ("n512", 512, "grid"), ("auto-grid", "auto", "grid"),
        ("auto-shots", "auto", "shots")]


def _mover(speed: float):
    def draw(image: np.ndarray, t: float) -> None:  # a white square crossing the screen
        h, w = image.shape[:2]
        x, y = int(t * speed * 10) % (w - 12), int(t * speed * 7) % (h - 12)
        image[y:y + 12, x:x + 12] = 255
    return draw


@pytest.fixture(scope="module")
def moving_video(tmp_path_factory) -> Path:
    """40 s at 10 fps with B-frames (x264's defaults): the shot scan's frames are not exact decodes."""
    scenes = [Scene(c, 8.0, _mover(s)) for c, s in [("red", 1), ("blue", 2), ("green", 3), ("yellow", 1.5),
                                                     ("purple", 2.5)]]
    return write_video(tmp_path_factory.mktemp("history") / "moving.mp4", scenes, fps=10, size=(96, 64))


def _select(video: Path, run: tuple, k: int, mode: str, cache: Path | None):
    name, n, first = run
    return hfs.select(video, QUESTION, k=k, num_candidates=n, encoder=ColorNamesEncoder(), use_cache=cache is not None,
                      cache_dir=cache, decode_mode=mode, policy=POLICIES[first])


def _fingerprint(sel) -> tuple:
    return sel.times.tolist(), sel.candidate_times.tolist(), np.round(sel.raw_scores, 6).tolist()


history_step = st.one_of(
    st.tuples(st.sampled_from(RUNS), st.sampled_from([4, 8]), st.sampled_from(["auto", "seek", "keyframe"])),
    st.tuples(st.just("embed"), st.sampled_from([64, 128, 512]), st.sampled_from(["auto", "keyframe"])),
)


@SETTINGS
@given(history=st.lists(history_step, min_size=1, max_size=3), final=st.sampled_from(RUNS),
       k=st.sampled_from([4, 8]), mode=st.sampled_from(["auto", "seek", "keyframe"]))
def test_a_run_gives_the_uncached_frames_whatever_ran_before(moving_video, history, final, k, mode):
    expected = _fingerprint(_select(moving_video, final, k, mode, None))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for step in history:
            if step[0] == "embed":
                embed_corpus([moving_video], ColorNamesEncoder(), num_candidates=step[1], workers=1,
                             decode_mode=step[2], progress=False, cache=EmbeddingCache(cache))
            else:
                _select(moving_video, step[0], step[1], step[2], cache)
        assert _fingerprint(_select(moving_video, final, k, mode, cache)) == expected
        # and once more, now that this run filled the cache too
        assert _fingerprint(_select(moving_video, final, k, mode, cache)) == expected


_CHILD = """
import json, sys, dataclasses
import hfs
from hfs.candidates import DEFAULT_POLICY
from hfs.encoders.color import ColorNamesEncoder
video, cache, n, first, mode = sys.argv[1:]
n = n if n == "auto" else int(n)
sel = hfs.select(video, {q!r}, k=8, num_candidates=n, encoder=ColorNamesEncoder(), cache_dir=cache, decode_mode=mode,
                 policy=dataclasses.replace(DEFAULT_POLICY, coarse=first))
print(json.dumps([sel.times.tolist(), sel.candidate_times.tolist()]))
""".format(q=QUESTION)


def test_concurrent_runs_give_the_uncached_frames(moving_video, tmp_path):
    cache = tmp_path / "cache"
    jobs = [(run, mode) for run in RUNS for mode in ("auto", "keyframe")][:8]
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(moving_video), str(cache), str(run[1]), run[2], mode],
                              stdout=subprocess.PIPE, text=True) for run, mode in jobs]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    for (run, mode), out in zip(jobs, outputs):
        expected = _select(moving_video, run, 8, mode, None)
        assert json.loads(out) == [expected.times.tolist(), expected.candidate_times.tolist()]
        # what they left behind serves every run as --no-cache would
        assert _fingerprint(_select(moving_video, run, 8, mode, cache)) == _fingerprint(expected)


def test_a_cached_run_takes_the_saved_keyframe_scan_and_gives_the_uncached_frames(tmp_path, monkeypatch):
    """A file whose container lists no complete keyframe index (Matroska) is scanned once: the
    keyframe times are saved with its frames, and a cached run takes them instead of reading the
    whole file again, with the frames of an uncached run."""
    import hfs.video.decode as decode

    scenes = [Scene(c, 8.0, _mover(s)) for c, s in [("red", 1), ("blue", 2), ("green", 3)]]
    video = write_video(tmp_path / "moving.mkv", scenes, fps=10, size=(96, 64), keyframe_interval=15)
    cache = tmp_path / "cache"
    run = ("n64", 64, "grid")
    uncached = _fingerprint(_select(video, run, 8, "auto", None))
    first = _select(video, run, 8, "auto", cache)
    assert hfs.video.FileVideo(video).keyframes.source == "scan"  # the case the saved times are for
    scans = []
    real = decode.read_keyframe_index
    monkeypatch.setattr(decode, "read_keyframe_index", lambda *a, **kw: scans.append(1) or real(*a, **kw))
    again = _select(video, run, 8, "auto", cache)
    assert scans == [] and _fingerprint(again) == _fingerprint(first) == uncached
    # an entry whose saved times are damaged scans again, with the same frames
    path = next(cache.rglob("*.npz"))
    with np.load(path) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays["meta"]))
    assert "keyframe_scan" in json.dumps(meta)
    text = json.dumps(meta).replace('"keyframe_scan": [', '"keyframe_scan": ["x", ')
    arrays["meta"] = np.array(text)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    assert _fingerprint(_select(video, run, 8, "auto", cache)) == uncached and scans == [1]
