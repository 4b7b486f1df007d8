"""Adaptive candidates (-n auto), the per-frame embedding cache, and a variable N downstream."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import hfs
from hfs.candidates import DEFAULT_POLICY, check_num_candidates, refine_targets
from hfs.config import SelectConfig
from hfs.encoders.color import ColorNamesEncoder
from hfs.errors import InputError
from hfs.frame_cache import FrameStore
from hfs.selection import create_selector, list_selectors
from hfs.video import candidate_times, open_video
from hfs.video.synth import Scene, write_video

FPS = 2.0



def _short_event_outside_the_128_grid(duration: float, length: float) -> float:
    """Start of an event ``length`` s long around a coarse midpoint of the default policy that lies
    farther than ``length`` from every N = 128 midpoint (times on the 2 fps frame grid)."""
    coarse = candidate_times(duration, DEFAULT_POLICY.coarse_count(duration))
    grid = candidate_times(duration, 128)
    far = [t for t in coarse if np.min(np.abs(grid - t)) > length + 1.0 and 60 < t < duration - 60]
    return float(np.floor((far[len(far) // 2] - length / 2) * FPS) / FPS)


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """30 minutes of gray, 64x64 at 2 fps, with one 1.5 s red event that N = 128 cannot reach."""
    duration, length = 1800.0, 1.5
    start = _short_event_outside_the_128_grid(duration, length)
    path = write_video(tmp_path_factory.mktemp("long") / "long.mp4",
                       [Scene("gray", start), Scene("red", length), Scene("gray", duration - start - length)],
                       fps=FPS, size=(64, 64), gop=20)
    return path, (start, start + length)


GRID = dataclasses.replace(DEFAULT_POLICY, coarse="grid")


def test_default_finds_a_short_event_that_n128_misses(long_video):
    video, (a, b) = long_video
    kwargs = dict(k=4, encoder=ColorNamesEncoder(), use_cache=False)
    fixed = hfs.select(video, "a red screen", num_candidates=128, **kwargs)
    auto = hfs.select(video, "a red screen", **kwargs)  # the default is "auto": a shot scan here
    inside = lambda times: bool(np.any((times >= a) & (times < b)))  # noqa: E731
    assert not inside(fixed.candidate_times) and not inside(fixed.times)
    assert inside(auto.times)
    names = [p["name"] for p in auto.passes]
    assert names[0] == "shots" and all(name.startswith("refine") for name in names[1:])
    assert sum(p["candidates"] for p in auto.passes) == auto.num_candidates == len(np.unique(auto.candidate_times))
    # the scan keeps the event's first frame (a cut) and at least the floor of coarse_min frames
    assert a in auto.candidate_times.tolist() and auto.passes[0]["candidates"] >= DEFAULT_POLICY.coarse_min
    assert auto.timing["decode"] > 0


def test_grid_pass_refines_around_a_short_event_that_n128_misses(long_video):
    video, (a, b) = long_video
    auto = hfs.select(video, "a red screen", k=4, encoder=ColorNamesEncoder(), use_cache=False, policy=GRID)
    inside = lambda times: bool(np.any((times >= a) & (times < b)))  # noqa: E731
    assert inside(auto.times)
    assert auto.num_candidates > 128
    names = [p["name"] for p in auto.passes]
    assert names[0] == "coarse" and len(names) >= 2 and all(name.startswith("refine") for name in names[1:])
    assert sum(p["candidates"] for p in auto.passes) == auto.num_candidates
    assert auto.to_dict()["passes"] == auto.passes
    assert int(auto.refined.sum()) == auto.num_candidates - auto.passes[0]["candidates"]
    # refining split both gaps next to the red candidate: its neighbours are new, half a coarse step away
    i = int(np.flatnonzero((auto.candidate_times >= a) & (auto.candidate_times < b))[0])
    step = 1800.0 / auto.passes[0]["candidates"]
    neighbours = [i - 1, i + 1]
    assert np.all(auto.refined[neighbours])
    assert np.all(np.abs(auto.candidate_times[neighbours] - auto.candidate_times[i]) <= step / 2 + 1 / FPS)


def test_cache_reuses_frames_across_n_and_passes(long_video, tmp_path, counting_encoder):
    video, _ = long_video
    enc = counting_encoder()
    kwargs = dict(k=4, encoder=enc, cache_dir=tmp_path / "cache")
    coarse_n = DEFAULT_POLICY.coarse_count(open_video(video).info.duration)
    first = hfs.select(video, "a red screen", num_candidates=coarse_n, **kwargs)
    assert enc.frames == first.num_candidates and not first.cached
    enc.frames = 0
    auto = hfs.select(video, "a red screen", policy=GRID, **kwargs)
    # the coarse pass is the grid just embedded: only the refining rounds' frames are new
    assert enc.frames == auto.num_candidates - coarse_n == int(auto.refined.sum()) > 0
    enc.frames = 0
    again = hfs.select(video, "a red screen", policy=GRID, **kwargs)
    assert enc.frames == 0 and again.cached
    assert np.array_equal(again.candidate_times, auto.candidate_times)
    # another N embeds only the frames no earlier run embedded
    seen = set(auto.candidate_times.tolist())
    other = hfs.select(video, "a blue screen", num_candidates=300, **kwargs)
    assert enc.frames == len(set(other.candidate_times.tolist()) - seen)
    seen |= set(other.candidate_times.tolist())
    # the shot scan's frames are not exact decodes: it embeds all of its own, kept apart from the
    # exact frames; a second question embeds nothing new
    enc.frames = 0
    shots = hfs.select(video, "a red screen", **kwargs)
    assert shots.passes[0]["name"] == "shots"
    assert enc.frames == shots.num_candidates > len(set(shots.candidate_times.tolist()) - seen)
    enc.frames = 0
    shots_again = hfs.select(video, "a red screen", **kwargs)
    assert enc.frames == 0 and shots_again.cached
    assert np.array_equal(shots_again.candidate_times, shots.candidate_times)


def test_adaptive_run_never_embeds_a_frame_twice(long_video, counting_encoder):
    video, _ = long_video
    enc = counting_encoder()
    auto = hfs.select(video, "a red screen", k=4, encoder=enc, use_cache=False)
    assert enc.frames == auto.num_candidates == len(np.unique(auto.candidate_times))


def test_n128_keeps_the_paper_times_exactly_even_with_other_frames_cached(three_scene_video, tmp_path):
    enc = ColorNamesEncoder()
    kwargs = dict(k=4, encoder=enc, cache_dir=tmp_path / "cache")
    hfs.select(three_scene_video, "a red screen", num_candidates=50, **kwargs)
    hfs.select(three_scene_video, "a red screen", num_candidates=200, **kwargs)
    source = open_video(three_scene_video)
    expected = [f.time for f in source.frames_at(candidate_times(source.info.duration, 128),
                                                 short_side=enc.short_side)]
    got = hfs.select(three_scene_video, "a blue screen", num_candidates=128, **kwargs)
    assert got.candidate_times.tolist() == expected
    assert got.passes == [{"name": "fixed", "candidates": len(expected)}]
    assert got.cached  # 12 s at 10 fps: the earlier runs already embedded all 120 frames


def test_store_covers_a_target_by_its_nearest_frame_and_remembers_far_ones():
    store = FrameStore.empty(2, {"fps": 10.0})
    store.add(np.array([0.0, 0.1, 0.5]), np.eye(3, 2, dtype=np.float32))
    assert store.rows_for(np.array([0.04, 0.05, 0.051, 0.3, 0.46])).tolist() == [0, 0, 1, -1, 2]
    store.add_aliases(np.array([0.9]), np.array([0.5]))  # e.g. a target past the last frame
    assert store.rows_for(np.array([0.9, 0.8])).tolist() == [2, -1]
    store.add(np.array([0.1 + 1e-9, 0.2]), np.ones((2, 2), np.float32))  # an existing time keeps its row
    assert store.times.tolist() == [0.0, 0.1, 0.2, 0.5] and store.embeddings[1].tolist() == [0.0, 1.0]


def test_refine_targets_split_promising_and_widest_gaps():
    times = np.arange(10, dtype=np.float64) * 10 + 5  # 5, 15, ..., 95 in a 100 s video
    scores = np.zeros(10)
    scores[3] = 3.0  # 35 s matches the question
    extra = refine_targets(times, scores, 100.0, 4, min_gap=0.5, explore_share=0.5, promising_z=1.0)
    assert {30.0, 40.0} <= set(extra.tolist())  # both gaps next to 35 s
    assert len(extra) == 4 and np.all(np.diff(extra) > 0)
    spread = refine_targets(times, np.zeros(10), 100.0, 3, min_gap=0.5, explore_share=1.0)
    assert np.ptp(spread) > 40  # equal gaps: picks spread over the video, not piled at its start
    assert len(refine_targets(times, scores, 100.0, 5, min_gap=6.0)) == 0  # no gap is 12 s wide


@pytest.mark.parametrize("value, ok", [("auto", "auto"), (1, 1), (4096, 4096)])
def test_num_candidates_accepts_positive_ints_and_auto(value, ok):
    assert check_num_candidates(value, "n", 4096) == ok
    assert SelectConfig(num_candidates=value, k=1).num_candidates == ok
    assert check_num_candidates("64", "n", 4096) == 64  # the CLI's text


@pytest.mark.parametrize("value, problem", [(0, "must be between 1 and 4096"), (4097, "must be between 1 and 4096"),
                                            ("many", "must be one of auto"), (2.5, "expected"), (None, "expected")])
def test_num_candidates_refuses_the_rest_in_one_line(value, problem):
    with pytest.raises(InputError, match=f"SelectConfig.num_candidates: {problem}") as exc:
        SelectConfig(num_candidates=value)
    assert "\n" not in str(exc.value)
    with pytest.raises(InputError, match="or 'auto', got"):
        check_num_candidates(value, "n", 4096)


def test_select_config_default_is_auto_and_k_is_checked_only_against_a_fixed_n():
    assert SelectConfig().num_candidates == "auto"
    assert SelectConfig(k=64).k == 64
    with pytest.raises(InputError, match="k=64 is larger"):
        SelectConfig(k=64, num_candidates=32)


@pytest.mark.parametrize("n", [8, 200, 3000])
@pytest.mark.parametrize("name", list_selectors())
def test_every_selector_takes_any_number_of_candidates(name, n):
    k = 8
    rng = np.random.default_rng(n)
    scores = rng.normal(size=n)
    times = np.sort(rng.uniform(0, 3600, size=n)) + np.arange(n) * 1e-3
    embeddings = rng.normal(size=(n, 16))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    selector = create_selector(name, seed=0)
    result = selector.select(scores, k, times=times, embeddings=embeddings)
    assert (len(result.indices) == k if selector.exact_k else 1 <= len(result.indices) <= k)
    assert np.all(np.diff(result.indices) > 0)
    assert result.indices.min() >= 0 and result.indices.max() < n
    if n == k and selector.exact_k:
        assert result.indices.tolist() == list(range(n))


def test_cli_select_auto_reports_passes_and_draws_the_refined(long_video, tmp_path, capsys):
    from hfs.cli import main

    video, _ = long_video
    out = tmp_path / "out"
    assert main(["select", str(video), "-q", "a red screen", "--encoder", "color-names", "-k", "4", "--json",
                 "--no-cache", "--out", str(out)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["passes"][0]["name"] == "shots"
    assert sum(p["candidates"] for p in shown["passes"]) == shown["num_candidates"]
    assert json.loads((out / "selection.json").read_text())["passes"] == shown["passes"]
    assert (out / "timeline.png").stat().st_size > 0
    with pytest.raises(SystemExit) as exit_:
        main(["select", str(video), "-q", "a red screen", "--encoder", "color-names", "-n", "lots"])
    assert exit_.value.code == 2 and "expected a positive integer or 'auto', got 'lots'" in capsys.readouterr().err


def test_timeline_with_thousands_of_candidates_marks_the_refined(tmp_path):
    from PIL import Image

    from hfs.report.timeline import save_timeline

    n = 3000
    times = np.arange(n) * 1.2
    refined = np.zeros(n, bool)
    refined[1000:1100] = True
    path = save_timeline(tmp_path / "t.png", times, np.sin(times / 50), np.array([5, 1050, 2900]), refined=refined)
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
        width = image.width
    blue = np.sum((np.abs(pixels - [0x1F, 0x77, 0xB4]).sum(axis=1) < 40))
    assert width > 1300 and blue > 50  # the wide layout, and the refined candidates drawn in blue


@pytest.fixture(scope="module")
def video_300_frames(tmp_path_factory):
    scenes = [Scene(c, 6.0) for c in ("red", "blue", "green", "yellow", "white")]
    return write_video(tmp_path_factory.mktemp("grow") / "v300.mp4", scenes, fps=10, size=(32, 32))


@pytest.mark.parametrize("first", ["grid", "shots"])
@pytest.mark.parametrize("k", [170, 231, 300])
def test_auto_grows_its_candidates_to_any_k_the_video_has_frames_for(video_300_frames, counting_encoder, first, k):
    enc = counting_encoder()
    sel = hfs.select(video_300_frames, "a red screen", k=k, encoder=enc, use_cache=False,
                     policy=dataclasses.replace(DEFAULT_POLICY, coarse=first))
    assert len(sel.indices) == k == len(np.unique(sel.times))
    assert sel.passes[0]["name"] == first.replace("grid", "coarse") and sel.passes[-1]["name"] == "grow"
    assert sum(p["candidates"] for p in sel.passes) == sel.num_candidates >= k
    assert sel.passes[-1]["candidates"] > 0 and len(np.unique(sel.candidate_times)) == sel.num_candidates
    # every candidate is a distinct frame of the 300, each embedded once
    assert np.allclose(sel.candidate_times * 10, np.round(sel.candidate_times * 10))
    assert enc.frames == sel.num_candidates


def test_k_above_the_frame_count_is_refused_before_decoding(video_300_frames, counting_encoder, monkeypatch):
    from hfs.video.decode import FileVideo

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(FileVideo, "frames_at", no_decoding)
    monkeypatch.setattr(FileVideo, "decoded_frames", no_decoding)
    with pytest.raises(InputError, match=r"v300.mp4: k=301 is larger than the 300 frames this video has; "
                                         r"ask for k <= 300"):
        hfs.select(video_300_frames, "a red screen", k=301, encoder=counting_encoder(), use_cache=False)


def test_eval_grows_auto_candidates_to_the_largest_k(video_300_frames):
    from hfs.eval.runner import _CurrentVideo

    video = _CurrentVideo(ColorNamesEncoder(), "auto", 32)
    entry = video.candidates(video_300_frames, lambda embeddings: np.zeros(len(embeddings)), 250)
    assert len(entry.times) >= 250 and len(np.unique(entry.times)) == len(entry.times)
