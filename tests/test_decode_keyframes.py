"""Keyframe-aware decoding: keyframes stand in for nearby targets, the rest is decoded exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from hfs.cli import main
from hfs.errors import InputError
from hfs.video import DECODE_MODES, FileVideo, candidate_times, open_video
from hfs.video.keyframes import KEYFRAME_TOLERANCE, plan_keyframes
from hfs.video.synth import Scene, draw_counter, read_counter, write_video

FPS = 10


def _gray(seconds: float) -> list[Scene]:
    return [Scene("gray", seconds / 2), Scene("blue", seconds / 2)]


@pytest.fixture(scope="module")
def short_gop(tmp_path_factory):
    """40 s at 10 fps, a keyframe exactly every 15 frames (1.5 s), frame index drawn in."""
    path = tmp_path_factory.mktemp("kf") / "gop15.mp4"
    return write_video(path, _gray(40), fps=FPS, size=(96, 64), keyframe_interval=15, frame_counter=True)


@pytest.fixture(scope="module")
def one_per_minute(tmp_path_factory):
    """150 s at 5 fps with one keyframe a minute (0, 60, 120 s)."""
    path = tmp_path_factory.mktemp("kf") / "minute.mp4"
    return write_video(path, _gray(150), fps=5, size=(96, 64), keyframe_interval=300, frame_counter=True)


def _nearest(t: float, fps: float) -> int:
    """Index of the frame nearest ``t`` seconds (the earlier one on a tie)."""
    return math.ceil(t * fps - 0.5 - 1e-9)


def _decoded(video: FileVideo, targets, **kwargs) -> list[tuple[int, float, int]]:
    """(target index, reported time, frame index read from the picture) of each frame."""
    return [(f.index, f.time, read_counter(f.image)) for f in video.frames_at(targets, **kwargs)]


def _check_true_times(rows, fps: float) -> None:
    times = [t for _, t, _ in rows]
    assert all(t == pytest.approx(n / fps, abs=1e-6) for _, t, n in rows)  # each frame's own time
    assert all(b > a for a, b in zip(times, times[1:]))  # ascending, unique


def test_the_container_index_read_at_open_is_the_keyframe_index(short_gop, monkeypatch):
    """An indexed file's keyframes come from the open's own read: no second open of the file,
    and the same times a fresh read of the index gives."""
    from hfs.video.keyframes import read_keyframe_index

    video = FileVideo(short_gop)
    fresh = read_keyframe_index(video._open, video.info.stream_index, video._first_time, video.info.fps)
    monkeypatch.setattr(video, "_open", lambda: pytest.fail("the keyframe index opened the file again"))
    assert video.keyframes.source == fresh.source == "index"
    assert np.array_equal(video.keyframes.times, fresh.times)


def test_keyframe_mode_uses_keyframes_within_tolerance_and_exact_frames_elsewhere(short_gop):
    video = FileVideo(short_gop)
    assert video.keyframes.source == "index"
    assert np.allclose(video.keyframes.times, np.arange(0, 40, 1.5), atol=1e-6)
    # 0.2 s from keyframe 1.5, 0.7 s from any, 0.1 s from 4.5, midway between 6.0 and 7.5, 0.5 s from 19.5
    targets = [1.3, 3.7, 4.6, 6.75, 9.05, 20.0]
    rows = _decoded(video, targets, mode="keyframe", tolerance=0.3)
    _check_true_times(rows, FPS)
    exact = {i: n for i, _, n in _decoded(video, targets, mode="seek")}
    for i, t, n in rows:
        keyframe = np.abs(video.keyframes.times - targets[i]).min()
        if keyframe <= 0.3:
            assert n % 15 == 0 and abs(t - targets[i]) <= 0.3  # the keyframe stands in
        else:
            assert n == exact[i] == _nearest(targets[i], FPS)  # decoded exactly
    assert [n for _, _, n in rows] == [15, 37, 45, 67, 90, 200]  # 6.75: the earlier of two; 9.05: keyframe 9.0


def test_default_tolerance_is_half_the_target_spacing(short_gop):
    video = FileVideo(short_gop)
    targets = candidate_times(video.info.duration, 32)  # spacing 1.25 s: tolerance 0.625 s
    tolerance = KEYFRAME_TOLERANCE * 1.25
    rows = _decoded(video, targets, mode="keyframe", unique=False)
    assert len(rows) == 32 and video.last_mode == "keyframe"
    assert all(t == pytest.approx(n / FPS, abs=1e-6) for _, t, n in rows)
    assert len({n for _, _, n in rows}) == 32  # strictly within half the spacing: no keyframe serves two
    _check_true_times(rows, FPS)
    for i, t, n in rows:
        near = np.abs(video.keyframes.times - targets[i]).min() < tolerance - 1e-6
        assert (n % 15 == 0) if near else (n == _nearest(targets[i], FPS))
        assert abs(t - targets[i]) <= (tolerance if near else 0.05) + 1e-9
    assert sum(n % 15 == 0 for _, _, n in rows) >= 20  # most candidates come from keyframes


def test_two_targets_on_one_keyframe_give_one_frame_when_unique(short_gop):
    video = FileVideo(short_gop)
    targets = [2.9, 3.1, 4.8]
    assert [n for _, _, n in _decoded(video, targets, mode="keyframe", tolerance=0.5)] == [30, 45]
    rows = _decoded(video, targets, mode="keyframe", tolerance=0.5, unique=False)
    assert [(i, n) for i, _, n in rows] == [(0, 30), (1, 30), (2, 45)]


def test_one_keyframe_a_minute_decodes_the_right_frames(one_per_minute):
    video = FileVideo(one_per_minute)
    assert np.allclose(video.keyframes.times, [0.0, 60.0, 120.0], atol=1e-6)
    targets = candidate_times(video.info.duration, 20)  # every 7.5 s: tolerance 3.75 s
    for mode in ("keyframe", "seek", "auto"):
        rows = _decoded(video, targets, mode=mode)
        _check_true_times(rows, 5)
        for i, t, n in rows:
            if mode == "keyframe" and np.abs(video.keyframes.times - targets[i]).min() < 3.75 - 1e-6:
                assert n in (0, 300, 600)
            else:
                assert n == _nearest(targets[i], 5), (mode, targets[i])
    # frames just before a keyframe need the whole minute before it decoded
    late = [59.8, 119.8, 149.8]
    assert [n for _, _, n in _decoded(video, late, mode="keyframe", tolerance=0.1)] == [299, 599, 749]


def test_auto_chooses_keyframes_on_short_gops_and_not_on_long_ones(short_gop, one_per_minute):
    short, long = FileVideo(short_gop), FileVideo(one_per_minute)
    assert short.choose_mode(16) == "keyframe"  # every candidate has a keyframe within 1.25 s of it
    assert long.choose_mode(16) == "sequential"  # most are minutes from a keyframe: one pass is cheaper
    assert short.choose_mode(400) == "sequential"  # a candidate every 2 frames
    list(short.frames_at(candidate_times(short.info.duration, 16)))
    assert short.last_mode == "keyframe"
    # tolerance 0: only exact frames, so auto never lets a keyframe stand in for another frame
    times = [1.7, 8.3, 21.1, 33.3]
    assert short.choose_mode(times, tolerance=0) != "keyframe"
    assert [n for _, _, n in _decoded(short, times, tolerance=0)] == [17, 83, 211, 333]


@pytest.mark.parametrize("suffix", [".ts", ".mkv"])
def test_keyframe_index_without_a_container_index_scans_the_packets(tmp_path, suffix):
    path = write_video(tmp_path / f"gop{suffix}", _gray(12), fps=FPS, size=(96, 64), keyframe_interval=20,
                       frame_counter=True)
    video = FileVideo(path)
    assert video.keyframes.source == "scan"
    assert np.allclose(video.keyframes.times - video.keyframes.times[0], np.arange(0, 12, 2.0), atol=1e-6)
    targets = [0.3, 1.1, 2.4, 5.0, 7.9, 10.7]
    rows = _decoded(video, targets, mode="keyframe", tolerance=0.45)
    _check_true_times(rows, FPS)
    assert [n for _, _, n in rows] == [0, 11, 20, 50, 80, 107]
    for i, _, n in rows:
        near = np.abs(np.arange(0, 12, 2.0) - targets[i]).min() < 0.45
        assert n % 20 == 0 if near else n == _nearest(targets[i], FPS)


def test_plan_keyframes():
    keys = np.array([0.0, 2.0, 4.0])
    plan = plan_keyframes(np.array([0.2, 1.0, 1.7, 3.0, 5.0]), keys, tolerance=0.5)
    assert np.array_equal(np.isnan(plan), [False, True, False, True, True])
    assert plan[0] == 0.0 and plan[2] == 2.0
    assert np.isnan(plan_keyframes(np.array([0.5]), np.array([]), 1.0)).all()


def test_bad_mode_and_tolerance_are_input_errors(short_gop):
    video = FileVideo(short_gop)
    with pytest.raises(InputError, match="decode mode"):
        list(video.frames_at([1.0], mode="fast"))
    with pytest.raises(InputError, match="tolerance"):
        list(video.frames_at([1.0], mode="keyframe", tolerance=-1))


def test_image_folder_keyframe_mode_is_exact(tmp_path):
    for i in range(6):
        image = np.full((64, 96, 3), 128, np.uint8)
        draw_counter(image, i)
        Image.fromarray(image).save(tmp_path / f"f{i}.png")
    folder = open_video(tmp_path, image_fps=2.0)
    frames = list(folder.frames_at([0.4, 1.1, 2.6], mode="keyframe", tolerance=10))
    assert [read_counter(f.image) for f in frames] == [1, 2, 5] and folder.last_mode == "keyframe"


def test_cli_decode_mode_keyframe_is_reported(short_gop, capsys):
    assert "keyframe" in DECODE_MODES
    args = ["select", str(short_gop), "-q", "a blue screen", "--encoder", "color-names", "-k", "3", "-n", "16",
            "--json"]
    assert main([*args, "--decode-mode", "keyframe"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["decode_mode"] == "keyframe" and not data["cached"]
    assert all(round(f["time"] * FPS) % 15 == 0 for f in data["frames"])  # every candidate was a keyframe
    assert main(args) == 0  # the same candidates from the cache: nothing decoded, no mode to report
    data = json.loads(capsys.readouterr().out)
    assert data["cached"] and "decode_mode" not in data
