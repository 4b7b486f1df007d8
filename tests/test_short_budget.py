"""Short videos: ``-n auto`` plans its candidates under a decoding budget of a few times uniform
sampling's 16 frames (``hfs.candidates.budget``), by the cost model of ``hfs.video.cost``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import hfs
from hfs.candidates import DEFAULT_POLICY, AdaptivePolicy
from hfs.candidates.budget import UNIFORM_FRAMES, short_plan
from hfs.errors import InputError
from hfs.video import FileVideo, candidate_times
from hfs.video.cost import frame_seconds, targets_seconds
from hfs.video.keyframes import default_tolerance
from hfs.video.synth import Scene, write_video

FPS = 25


@pytest.fixture(scope="module")
def dense_gop(tmp_path_factory):
    """90 s at 25 fps, 320x180, a keyframe every 60 frames (2.4 s), B-frames."""
    path = tmp_path_factory.mktemp("short") / "gop60.mp4"
    scenes = [Scene(c, 15) for c in ("gray", "red", "blue", "gray", "green", "gray")]
    return write_video(path, scenes, fps=FPS, size=(320, 180), keyframe_interval=60)


def _model(video: FileVideo, targets: np.ndarray) -> float:
    info = video.info
    return targets_seconds(targets, video.keyframes.times - video.start, default_tolerance(targets), info.num_frames,
                           info.width, info.height, video.keyframes.interval(info.duration) * info.fps,
                           video.has_b_frames)


def test_the_plan_fits_its_budget_of_uniform_sampling_times_the_factor(dense_gop):
    video = FileVideo(dense_gop)
    plan = short_plan(video, DEFAULT_POLICY)
    uniform = _model(video, candidate_times(video.info.duration, UNIFORM_FRAMES))
    assert plan.budget == pytest.approx(DEFAULT_POLICY.short_cost_factor * uniform)
    assert plan.spent == pytest.approx(_model(video, plan.targets)) and plan.spent <= plan.budget
    assert plan.spent + plan.refine_cap() * plan.exact <= plan.budget
    # the full grid of -n auto does not fit on this video, so the plan takes fewer candidates
    grid = candidate_times(video.info.duration, DEFAULT_POLICY.coarse_count(video.info.duration))
    assert _model(video, grid) > plan.budget and UNIFORM_FRAMES <= len(plan.targets) < len(grid)


def test_a_bigger_budget_buys_the_full_grid_and_no_budget_gives_no_plan(dense_gop):
    video = FileVideo(dense_gop)
    rich = short_plan(video, dataclasses.replace(DEFAULT_POLICY, short_cost_factor=1000.0))
    assert np.array_equal(rich.targets, candidate_times(video.info.duration, DEFAULT_POLICY.coarse_count(90.0)))
    assert short_plan(video, dataclasses.replace(DEFAULT_POLICY, short_cost_factor=0.0)) is None
    assert short_plan(video, dataclasses.replace(DEFAULT_POLICY, short_seconds=60.0)) is None  # a "long" video


def test_select_takes_the_plans_candidates_and_refines_within_the_budget(dense_gop):
    video = FileVideo(dense_gop)
    plan = short_plan(video, DEFAULT_POLICY)
    sel = hfs.select(dense_gop, "a red screen", k=8, encoder="color-names", use_cache=False)
    names = [p["name"] for p in sel.passes]
    assert names[0] == "coarse" and sel.passes[0]["candidates"] <= len(plan.targets)
    refined = sum(p["candidates"] for p in sel.passes[1:])
    assert refined <= min(plan.refine_cap(), DEFAULT_POLICY.refine_budget(len(plan.targets)))
    unbudgeted = hfs.select(dense_gop, "a red screen", k=8, encoder="color-names", use_cache=False,
                            policy=dataclasses.replace(DEFAULT_POLICY, short_cost_factor=0.0, coarse="grid"))
    assert unbudgeted.num_candidates > sel.num_candidates  # the old default: 128 + refined


@pytest.mark.parametrize("field", ["short_seconds", "short_cost_factor", "short_refine_share"])
@pytest.mark.parametrize("value", [-1.0, float("inf"), float("nan"), True])
def test_budget_fields_are_checked(field, value):
    with pytest.raises(InputError, match=f"AdaptivePolicy.{field}"):
        AdaptivePolicy(**{field: value})


def test_the_cost_model_charges_seeks_exact_frames_and_caps_at_one_pass():
    keys = np.arange(0.0, 100.0, 2.0)  # a keyframe every 2 s, 25 fps: 50 frames a keyframe interval
    args = dict(frames=2500, width=640, height=360, gop_frames=50, has_b_frames=True)
    walked = targets_seconds(keys[:20], keys, 0.5, **args)  # 20 keyframes in a row: one seek
    spread = targets_seconds(keys[::2][:20], keys, 0.5, **args)  # every other one: a seek each
    assert walked < spread
    between = targets_seconds(keys[:20] + 1.0, keys, 0.5, **args)  # midway: every frame exact
    assert between > spread
    every = targets_seconds(np.arange(0.02, 100.0, 0.04), keys, 0.0, **args)  # every frame: one pass
    assert every == pytest.approx(2500 * frame_seconds(640, 360))


def test_a_refine_share_keeps_part_of_the_budget_for_refining(dense_gop):
    video = FileVideo(dense_gop)
    whole = short_plan(video, DEFAULT_POLICY)
    shared = short_plan(video, dataclasses.replace(DEFAULT_POLICY, short_refine_share=0.5))
    assert shared.budget == pytest.approx(whole.budget)
    assert shared.spent <= 0.5 * shared.budget < whole.spent
    assert len(shared.targets) < len(whole.targets) and shared.refine_cap() > whole.refine_cap()
    with pytest.raises(InputError, match="below 1"):
        AdaptivePolicy(short_refine_share=1.0)
