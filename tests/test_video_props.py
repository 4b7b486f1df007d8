"""Properties of opening and decoding on generated odd videos: any size (odd ones too), frame
rate, codec and container PyAV can write here, sometimes with an audio track that outlasts the
picture. The video opens, its duration is the picture's, the candidate times are ascending,
unique and inside the video, and the frames nearest them decode with the right size and colour."""

from __future__ import annotations

import re

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfs.video import candidate_times, open_video
from hfs.video.frames import scaled_size
from hfs.video.synth import COLORS, Scene, write_video


def _can_write(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "w")
    except (av.FFmpegError, ValueError):
        return False
    return True


# codec -> (containers it goes in, pixel format for even sizes, for odd sizes or None: even only)
CODECS = {
    "libx264": ((".mp4", ".mkv", ".mov"), "yuv420p", "yuv444p"),
    "mpeg4": ((".mp4", ".avi", ".mkv"), "yuv420p", None),
    "mjpeg": ((".avi", ".mkv"), "yuvj420p", "yuvj444p"),
    "libvpx-vp9": ((".webm", ".mkv"), "yuv420p", "yuv444p"),
    "ffv1": ((".mkv", ".avi"), "yuv420p", "yuv444p"),
}
CODECS = {name: spec for name, spec in CODECS.items() if _can_write(name)}
FPS = [1.0, 5.0, 7.5, 10.0, 12.5, 24000 / 1001, 25.0, 30000 / 1001, 60.0]


@st.composite
def odd_videos(draw):
    codec = draw(st.sampled_from(sorted(CODECS)))
    containers, even_fmt, odd_fmt = CODECS[codec]
    suffix = draw(st.sampled_from(containers))
    width, height = draw(st.integers(8, 72)), draw(st.integers(8, 72))
    if odd_fmt is None:
        width, height = width // 2 * 2, height // 2 * 2
    pix_fmt = odd_fmt if width % 2 or height % 2 else even_fmt
    fps = draw(st.sampled_from(FPS))
    frames = draw(st.integers(1, 24))
    audio = draw(st.sampled_from([0.0, 0.0, 0.5, 2.0]))  # seconds of audio past the picture's end
    return dict(codec=codec, suffix=suffix, size=(width, height), pix_fmt=pix_fmt, fps=fps, frames=frames,
                audio=audio)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(spec=odd_videos(), n=st.integers(1, 40), short_side=st.sampled_from([None, 12, 32]),
       mode=st.sampled_from(["auto", "seek", "sequential"]))
def test_odd_videos_open_and_their_candidates_decode(tmp_path_factory, spec, n, short_side, mode):
    fps, frames = spec["fps"], spec["frames"]
    length = frames / fps
    half = (frames // 2) / fps  # red, then blue from this frame on
    path = tmp_path_factory.mktemp("odd") / f"v{spec['suffix']}"
    write_video(path, [Scene("red", half), Scene("blue", length - half)], fps=fps, size=spec["size"],
                codec=spec["codec"], pix_fmt=spec["pix_fmt"], frame_times=list(np.arange(frames) / fps),
                audio_seconds=length + spec["audio"] if spec["audio"] else 0.0)
    video = open_video(path)
    info = video.info
    assert (info.width, info.height) == spec["size"]
    # the picture's own length (one frame interval per frame; timestamps are in milliseconds)
    assert info.duration == pytest.approx(length, abs=1.5 / fps + 0.002)

    targets = candidate_times(info.duration, n)
    assert targets.shape == (n,) and np.all(np.diff(targets) > 0) and len(np.unique(targets)) == n
    assert targets[0] >= 0 and targets[-1] <= info.duration

    decoded = list(video.frames_at(targets, short_side=short_side, mode=mode))
    assert 1 <= len(decoded) <= min(n, frames)
    times = np.array([f.time for f in decoded])
    assert np.all(np.diff(times) > 0)  # unique frames, in order
    assert times[0] >= -1e-6 and times[-1] <= info.duration + 1e-6
    assert [f.index for f in decoded] == sorted({f.index for f in decoded})
    expected_shape = scaled_size(info.width, info.height, short_side)[::-1] + (3,)
    red, blue = np.array(COLORS["red"], float), np.array(COLORS["blue"], float)
    for frame in decoded:
        # the frame nearest its candidate time (ties and millisecond rounding aside)
        assert abs(frame.time - targets[frame.index]) <= 0.5 / fps + 0.002
        assert frame.image.dtype == np.uint8 and frame.image.shape == expected_shape
        colour = frame.image.reshape(-1, 3).mean(0)
        want = red if frame.time < half - 0.25 / fps else blue
        assert np.abs(colour - want).max() < 40, (frame.time, colour, want)


def _noise(image: np.ndarray, t: float) -> None:  # every frame its own bytes: a cut lands inside the stream
    image[:] = np.random.default_rng(int(t * 1000)).integers(0, 256, image.shape, dtype=np.uint8)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(codec=st.sampled_from([c for c in ("libx264", "libvpx-vp9", "mpeg4") if c in CODECS]),
       suffix=st.sampled_from([".mkv", ".webm", ".mp4", ".avi"]), frames=st.integers(20, 60),
       cut=st.floats(0.02, 0.98), k=st.sampled_from([1, 4, 16]))
def test_a_cut_file_fails_the_same_way_in_every_pass_and_mode(tmp_path_factory, codec, suffix, frames, cut, k):
    import dataclasses

    import hfs
    from hfs.candidates import DEFAULT_POLICY
    from hfs.encoders.color import ColorNamesEncoder
    from hfs.video.decode import end_slack

    if suffix not in CODECS[codec][0]:
        suffix = CODECS[codec][0][0]
    folder = tmp_path_factory.mktemp("cut")
    full = write_video(folder / f"full{suffix}", [Scene("red", frames / 10, _noise)], fps=10, size=(64, 48),
                       codec=codec, pix_fmt=CODECS[codec][1])
    data = full.read_bytes()
    path = folder / f"cut{suffix}"
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    outcomes = set()
    for first in ("grid", "shots"):
        for mode in ("auto", "seek", "sequential", "keyframe"):
            try:
                sel = hfs.select(path, "red", k=k, encoder=ColorNamesEncoder(), use_cache=False, decode_mode=mode,
                                 policy=dataclasses.replace(DEFAULT_POLICY, coarse=first))
            except hfs.HfsError as exc:
                outcomes.add(str(exc))
                continue
            # served: never silently a prefix of what the video claims to be
            duration = sel.info["duration"]
            assert sel.candidate_times[-1] >= duration - end_slack(sel.info["fps"]) - 1.0 / sel.info["fps"]
            outcomes.add(f"served {duration:.3f} s")
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    if "frames stop at" in outcome:  # where the frames stop: well before the stated end
        stop, stated = (float(x) for x in re.findall(r"(\d+\.\d+) s", outcome)[:2])
        assert stop < stated - 0.5 and stated == pytest.approx(frames / 10, abs=0.15)
