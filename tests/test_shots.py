"""The shot scan (hfs.video.shots), its cost model (hfs.video.cost) and its use as -n auto's first pass."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import hfs
from hfs.candidates import DEFAULT_POLICY, AdaptivePolicy
from hfs.candidates.coarse import coarse_pass
from hfs.errors import InputError
from hfs.video import FileVideo, candidate_times, open_video
from hfs.video.cost import SCAN_FACTOR, grid_seconds, scan_is_cheap, scan_seconds, snapped_share
from hfs.video.shots import CutDetector, ShotScan, scan_shots
from hfs.video.synth import Scene, draw_square, scene_bounds, write_video

# scenes of 0.3 to 8.7 s; every neighbour differs in colour, one only by a square in the middle
SCENES = [Scene("gray", 5.0), Scene("red", 0.3), Scene("white", 6.0), Scene("blue", 2.0),
          Scene("black", 7.0), Scene("black", 3.0, draw_square("yellow", side=0.5)), Scene("green", 1.0),
          Scene("gray", 5.7)]


@pytest.fixture(scope="module")
def scenes_video(tmp_path_factory):
    """30 s at 10 fps, 96x64, x264 with its default B-frames."""
    return write_video(tmp_path_factory.mktemp("shots") / "scenes.mp4", SCENES, fps=10, size=(96, 64))


def _scan(video, fill=1000.0, cap=1000, minimum=0, short_side=32):
    found = ShotScan()
    frames = list(scan_shots(video, short_side, fill, cap, minimum, found))
    return found, frames


def test_scan_finds_every_cut_at_its_time_and_nothing_else(scenes_video):
    video = FileVideo(scenes_video)
    found, frames = _scan(video)
    starts = [a for a, _ in scene_bounds(SCENES)]
    assert found.cuts[0] == 0.0 and len(found.cuts) == len(starts)
    for start, cut in zip(starts, found.cuts):
        assert start - 1e-6 <= cut < start + 0.35  # the first decoded frame of the new scene
    # with fill cells wider than the video, the kept frames are exactly the shots' first frames
    assert [f.time for f in frames] == found.cuts
    assert [f.index for f in frames] == list(range(len(frames)))


def test_scan_decodes_reference_frames_only_with_true_ascending_times(scenes_video):
    video = FileVideo(scenes_video)
    assert video.has_b_frames
    found, frames = _scan(video, fill=2.0)
    decoded = np.array(found.decoded)
    all_times = np.array([t for _, t in video.decoded_frames()])
    assert 0 < len(decoded) < len(all_times) == found.frames_total == 300
    assert np.all(np.diff(decoded) > 0) and np.all(np.isin(decoded, all_times))
    kept = np.array([f.time for f in frames])
    assert np.all(np.diff(kept) > 0) and np.all(np.isin(kept, decoded))
    # a fill frame at the first decoded frame 2 s or more after the last kept one
    assert kept[0] == 0.0 and np.diff(kept).max() <= 2.0 + np.diff(decoded).max() and kept[-1] > 28.0 - 2.0
    # each kept frame is the very frame an exact decode gives at its time, converted the same way
    exact = {f.time: f.image for f in video.frames_at(kept, short_side=32, mode="seek", tolerance=0.0)}
    for frame in frames:
        assert frame.image.shape == exact[frame.time].shape == (32, 48, 3)
        assert np.abs(frame.image.astype(int) - exact[frame.time]).max() <= 1


def test_scan_caps_its_frames_and_spreads_them_over_the_video(scenes_video):
    found, frames = _scan(FileVideo(scenes_video), fill=0.1, cap=20)
    assert len(frames) == 20 < len(found.decoded)
    assert frames[-1].time > 25.0  # the cap does not run out in the first seconds


def test_scan_fills_in_up_to_a_minimum_counting_the_cuts(scenes_video):
    found, frames = _scan(FileVideo(scenes_video), fill=1000.0, minimum=40)
    kept = np.array([f.time for f in frames])
    assert 38 <= len(kept) <= 40 + len(found.cuts) and set(found.cuts) <= set(kept.tolist())
    assert np.diff(kept).max() < 2.0 and kept[-1] > 28.0  # spread over the whole video


def test_scan_reads_tiny_and_non_yuv_frames_through_a_small_copy(tmp_path):
    scenes = [Scene("red", 1.0), Scene("blue", 1.0), Scene("yellow", 1.0)]
    tiny = write_video(tmp_path / "tiny.mp4", scenes, fps=10, size=(32, 24))
    rgb = write_video(tmp_path / "rgb.mkv", scenes, fps=10, size=(80, 64), codec="ffv1", pix_fmt="bgr0")
    for path in (tiny, rgb):
        found, _ = _scan(FileVideo(path))
        assert len(found.cuts) == 3 and abs(found.cuts[1] - 1.0) < 0.35 and abs(found.cuts[2] - 2.0) < 0.35
    assert len(_scan(FileVideo(rgb))[0].decoded) == 30  # no B-frames: every frame decoded


def test_cut_detector_ignores_steady_change_and_flags_a_jump():
    rng = np.random.default_rng(0)
    detector = CutDetector(min_change=12.0, ratio=3.0, window=5)
    base = rng.integers(60, 200, size=(1, 48))
    noisy = np.clip(base + rng.integers(-20, 21, size=(20, 48)), 0, 255)  # distances about 13: motion
    jump = noisy.copy()
    jump[12:] = np.clip(jump[12:] + 120, 0, 255)
    cuts, distance = detector.update(jump.astype(np.uint8))
    assert np.isinf(distance[0]) and cuts[0]  # the first frame starts the first shot
    assert distance[1:12].mean() >= 12.0  # above min_change on average, yet typical for this video
    # the second frame has no history and counts as a cut on its distance alone; after it, only the jump
    assert cuts.tolist() == [True, True] + [False] * 10 + [True] + [False] * 7
    # batches continue where the last one stopped
    cuts2, _ = detector.update(np.repeat(jump[-1:], 3, axis=0).astype(np.uint8))
    assert not cuts2.any()


def test_cost_model_picks_the_grid_at_720p_and_the_scan_for_long_low_resolution():
    # bench_decode.py's video: 10 min 1280x720 at 30 fps, a keyframe every 60 frames, 128 targets
    targets = candidate_times(600.0, 128)
    share = snapped_share(float(np.diff(targets)[0]), 0.5 * np.diff(targets)[0], 2.0)
    hd_scan = scan_seconds(18000, 1280, 720, has_b_frames=True)
    hd_grid = grid_seconds(128, 18000, 1280, 720, 60.0, share)
    assert share == 1.0 and not scan_is_cheap(hd_scan, hd_grid) and hd_scan > 10 * hd_grid
    # the long-video benchmark's: 55 min of 64x64 at 2 fps, a keyframe every 10 s, 330 targets
    targets = candidate_times(3300.0, 330)
    share = snapped_share(10.0, 5.0, 10.0)
    low_scan = scan_seconds(6600, 64, 64, has_b_frames=True)
    low_grid = grid_seconds(330, 6600, 64, 64, 20.0, share)
    assert scan_is_cheap(low_scan, low_grid) and low_scan < SCAN_FACTOR * low_grid
    # a stream without B-frames decodes every frame in the scan
    assert scan_seconds(6600, 64, 64, has_b_frames=False) > low_scan


def test_coarse_pass_follows_the_policy_and_the_source(scenes_video, tmp_path):
    video = open_video(scenes_video)
    assert coarse_pass(video, DEFAULT_POLICY) == "shots"  # 300 small frames: scanning is cheap
    assert coarse_pass(video, dataclasses.replace(DEFAULT_POLICY, coarse="grid")) == "grid"
    folder = tmp_path / "frames"
    folder.mkdir()
    from PIL import Image

    Image.new("RGB", (8, 8)).save(folder / "0.png")
    assert coarse_pass(open_video(folder), dataclasses.replace(DEFAULT_POLICY, coarse="shots")) == "grid"


@pytest.mark.parametrize("field, value, problem", [
    ("coarse", "scenes", "must be one of auto, grid, shots"), ("shot_fill_seconds", 0, "must be a finite number > 0"),
    ("shot_fill_seconds", float("inf"), "must be a finite number > 0"),
    ("shot_refine_fraction", -0.1, "must be a finite number >= 0"),
    ("shot_refine_fraction", True, "must be a finite number >= 0")])
def test_policy_refuses_bad_shot_fields_in_one_line(field, value, problem):
    with pytest.raises(InputError, match=f"AdaptivePolicy.{field}: {problem}") as exc:
        AdaptivePolicy(**{field: value})
    assert "\n" not in str(exc.value)


def test_default_hits_a_one_second_event_that_n128_misses(tmp_path):
    """20 minutes of filler scenes at 64x64, 2 fps, with one red second far from N = 128's midpoints."""
    duration, fps = 1200.0, 2.0
    grid = candidate_times(duration, 128)
    start = float(np.floor((grid[70] + grid[71]) / 2 * fps) / fps)  # midway between two midpoints
    fillers = [Scene(colour, 100.0) for colour in ("gray", "white", "black") * 4]
    before = int(start // 100)
    scenes = fillers[:before] + [Scene(fillers[before].color, start - 100.0 * before), Scene("red", 1.0),
                                 Scene(fillers[before].color, 100.0 * (before + 1) - start - 1.0)] + fillers[before + 1:]
    video = write_video(tmp_path / "long.mp4", scenes, fps=fps, size=(64, 64), gop=20)
    kwargs = dict(k=4, encoder="color-names", use_cache=False)
    fixed = hfs.select(video, "a red screen", num_candidates=128, **kwargs)
    auto = hfs.select(video, "a red screen", **kwargs)
    inside = lambda times: bool(np.any((times >= start) & (times < start + 1.0)))  # noqa: E731
    assert not inside(fixed.candidate_times) and not inside(fixed.times)
    assert auto.passes[0]["name"] == "shots" and inside(auto.times)
    assert auto.num_candidates >= DEFAULT_POLICY.coarse_min


def test_a_later_question_takes_the_saved_shot_scan_without_scanning(tmp_path, monkeypatch, counting_encoder):
    from hfs.candidates import coarse

    scenes = [Scene(colour, 20.0) for colour in ("gray", "red", "white", "blue", "black", "green")] * 2
    video = write_video(tmp_path / "v.mp4", scenes, fps=2.0, size=(64, 64), gop=20)
    scans = []
    real = coarse.scan_shots

    def counted(*args, **kwargs):  # the real scan, counted
        scans.append(args[2:])
        yield from real(*args, **kwargs)

    monkeypatch.setattr(coarse, "scan_shots", counted)
    enc = counting_encoder()
    kwargs = dict(k=4, encoder=enc, cache_dir=tmp_path / "cache")
    first = hfs.select(video, "a red screen", **kwargs)
    assert len(scans) == 1 and first.passes[0]["name"] == "shots" and enc.frames == first.num_candidates
    enc.frames = 0
    second = hfs.select(video, "a blue screen", **kwargs)
    assert len(scans) == 1 and enc.frames == 0 and second.cached
    assert np.array_equal(second.candidate_times, first.candidate_times)
    assert second.timing["decode"] < first.timing["decode"]
    # other scan settings scan again and embed all they keep (a scan's frames serve only its settings)
    other = hfs.select(video, "a blue screen", policy=dataclasses.replace(DEFAULT_POLICY, shot_fill_seconds=5.0),
                       **kwargs)
    assert len(scans) == 2 and enc.frames == other.num_candidates


def test_saved_shot_scans_round_trip_apart_from_the_exact_frames(tmp_path):
    from hfs.cache import CachedEmbeddings, EmbeddingCache
    from hfs.frame_cache import FrameStore, load_store, save_store, scan_key

    cache = EmbeddingCache(tmp_path)
    store = FrameStore.empty(3, {"fps": 2.0})
    store.add(np.array([0.0, 5.0]), np.eye(2, 3, dtype=np.float32))
    store.keep_scan("a", CachedEmbeddings(np.array([0.0, 2.5]), np.eye(3, dtype=np.float32)[1:], {}))
    save_store(cache, "k", store)
    loaded = load_store(cache, "k", 3, {"fps": 2.0})
    assert loaded.scan("a").times.tolist() == [0.0, 2.5] and loaded.scan("b") is None
    # the scan's frame at 0 s never replaces the exact one, nor is 2.5 s an exact frame
    assert np.array_equal(loaded.embeddings, np.eye(2, 3, dtype=np.float32)) and loaded.times.tolist() == [0.0, 5.0]
    # a damaged scan entry is a miss (and removed), the exact frames stay
    cache.path(scan_key("k", "a")).write_bytes(b"not an npz")
    again = load_store(cache, "k", 3, {"fps": 2.0})
    assert again.scan("a") is None and len(again) == 2


def test_cli_first_pass_chooses_the_grid_or_the_scan(scenes_video, capsys):
    import json

    from hfs.cli import main

    base = ["select", str(scenes_video), "-q", "a red screen", "--encoder", "color-names", "-k", "4", "--json",
            "--no-cache"]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["passes"][0]["name"] == "shots"
    assert main([*base, "--first-pass", "grid"]) == 0
    assert json.loads(capsys.readouterr().out)["passes"][0]["name"] == "coarse"
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--first-pass", "scenes"])
    assert exit_.value.code == 2 and "invalid choice: 'scenes'" in capsys.readouterr().err


def test_first_pass_comes_from_a_yaml_config_and_the_flag_wins(scenes_video, tmp_path, capsys):
    import json

    from hfs.cli import main

    config = tmp_path / "sel.yaml"
    config.write_text("first_pass: grid\nk: 4\n")
    base = ["select", str(scenes_video), "-q", "a red screen", "--encoder", "color-names", "--json", "--no-cache",
            "--config", str(config)]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["passes"][0]["name"] == "coarse"
    assert main([*base, "--first-pass", "shots"]) == 0
    assert json.loads(capsys.readouterr().out)["passes"][0]["name"] == "shots"
    config.write_text("first_pass: scenes\n")
    assert main(base) == 1
    assert "first_pass: must be one of auto, grid, shots" in capsys.readouterr().err
