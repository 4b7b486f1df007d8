"""``hfs.select`` end to end, with scores that mean something (a colour encoder) and without."""

from __future__ import annotations

import numpy as np
import pytest

import hfs
from hfs.config import SelectConfig, load_yaml
from hfs.errors import InputError
from hfs.video.synth import Scene, write_video


def test_select_returns_a_full_selection(three_scene_video, tiny_encoder):
    sel = hfs.select(three_scene_video, "what colour is the screen?", options=["red", "blue"], k=6,
                     num_candidates=24, encoder=tiny_encoder)
    assert isinstance(sel, hfs.Selection)
    assert len(sel.indices) == 6 and np.all(np.diff(sel.indices) > 0)
    assert sel.num_candidates == 24 and len(sel.candidate_scores) == 24
    assert sel.candidate_scores.mean() == pytest.approx(0, abs=1e-9)  # standardised per video
    assert sel.candidate_scores.std() == pytest.approx(1, abs=1e-9)
    assert sel.options == ["red", "blue"] and sel.encoder == tiny_encoder.name
    assert set(sel.timing) >= {"decode", "encode", "select"}
    assert np.allclose(sel.times, sel.candidate_times[sel.indices])


def test_relevant_scene_is_chosen(three_scene_video, color_encoder):
    from hfs.config import ObjectiveConfig

    # the paper's objective (temporal redundancy only) spends every frame on the blue scene
    paper = hfs.select(three_scene_video, "when is the screen blue?", k=4, num_candidates=32, encoder=color_encoder,
                       objective=ObjectiveConfig.preset("paper"))
    assert np.all((paper.times >= 4.0) & (paper.times < 8.0))
    # the calibrated default picks the blue scene first, and counts further frames of the same
    # still shot as redundant (within-shot visual redundancy), so it also looks elsewhere
    sel = hfs.select(three_scene_video, "when is the screen blue?", k=4, num_candidates=32, encoder=color_encoder)
    blue = (sel.times >= 4.0) & (sel.times < 8.0)
    assert blue.any() and blue[np.argmax(sel.scores)]


def test_greedy_covers_a_short_event_that_topk_misses(tmp_path, color_encoder):
    """A long red scene and a brief, slightly darker red flash later on."""
    scenes = [Scene("gray", 3), Scene("red", 20), Scene("gray", 25), Scene((200, 20, 20), 1.5), Scene("gray", 10)]
    video = write_video(tmp_path / "events.mp4", scenes, fps=5, size=(64, 48))
    kwargs = dict(k=8, num_candidates=128, encoder=color_encoder)
    topk = hfs.select(video, "a red screen", selector="topk", **kwargs)
    greedy = hfs.select(video, "a red screen", selector="greedy", **kwargs)
    in_flash = lambda t: (t >= 48.0) & (t < 49.5)  # noqa: E731
    assert not np.any(in_flash(topk.times))
    assert np.any(in_flash(greedy.times))
    assert greedy.objective["F"] > topk.objective["F"]


def test_same_inputs_same_frames(three_scene_video, tiny_encoder):
    a = hfs.select(three_scene_video, "a red screen", k=5, num_candidates=20, encoder=tiny_encoder, use_cache=False)
    b = hfs.select(three_scene_video, "a red screen", k=5, num_candidates=20, encoder=tiny_encoder, use_cache=False)
    assert a.indices.tolist() == b.indices.tolist()
    assert np.array_equal(a.candidate_scores, b.candidate_scores)


def test_short_video_has_fewer_candidates_and_says_so(tmp_path, tiny_encoder):
    video = write_video(tmp_path / "short.mp4", [Scene("red", 1)], fps=10)
    sel = hfs.select(video, "a red screen", k=4, num_candidates=128, encoder=tiny_encoder)
    assert sel.num_candidates == 10
    out = sel.to_dict()
    assert out["num_candidates"] == 10 and out["requested_candidates"] == 128
    assert "only 10 distinct frames" in out["note"]
    with pytest.raises(InputError, match="short.mp4: k=16 is larger than the 10 frames this video has; ask for k <= 10"):
        hfs.select(video, "a red screen", k=16, num_candidates=128, encoder=tiny_encoder)


@pytest.mark.parametrize("kwargs, message", [
    (dict(question=""), "question is empty"),
    (dict(k=0), "k must be a positive integer"),
    (dict(k=200, num_candidates=128), "k=200 is larger"),
])
def test_bad_arguments_fail_before_any_work(three_scene_video, kwargs, message):
    args = dict(question="a red screen", encoder="definitely-not-loaded")
    args.update(kwargs)
    with pytest.raises(InputError, match=message):
        hfs.select(three_scene_video, **args)


def test_config_from_yaml(tmp_path):
    path = tmp_path / "sel.yaml"
    path.write_text("k: 8\nselector: topk\nobjective:\n  lambda_red: 0.5\n  positions: seconds\n")
    config = load_yaml(SelectConfig, path)
    assert config.k == 8 and config.selector == "topk" and config.num_candidates == "auto"
    assert config.objective.lambda_red == 0.5 and config.objective.positions == "seconds"
    path.write_text("k: 8\nlambda_red: 0.5\n")
    with pytest.raises(InputError, match="unknown key"):
        load_yaml(SelectConfig, path)
