"""Exact frames on a stream with B-frames: on the way to a target the decoder skips the frames
nothing refers to, and still returns the frame nearest each target (read back from the picture)."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest

from hfs.video import FileVideo
from hfs.video.decode import REF_ONLY_MARGIN_FRAMES
from hfs.video.synth import Scene, read_counter, write_video

FPS = 25


@pytest.fixture(scope="module")
def b_frames_video(tmp_path_factory):
    """40 s at 25 fps, a keyframe every 60 frames (2.4 s), B-frames, frame index drawn in."""
    path = tmp_path_factory.mktemp("refs") / "bframes.mp4"
    return write_video(path, [Scene("gray", 20), Scene("blue", 20)], fps=FPS, size=(96, 64), keyframe_interval=60,
                       frame_counter=True)


def _nearest(t: float) -> int:
    return math.ceil(t * FPS - 0.5 - 1e-9)


def _non_reference_frames(path) -> int:
    """Frames of the stream no other frame refers to: what NONREF skipping leaves out."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        every = sum(1 for _ in container.decode(stream))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONREF"
        return every - sum(1 for _ in container.decode(stream))


def test_the_video_has_frames_that_may_be_skipped(b_frames_video):
    assert FileVideo(b_frames_video).has_b_frames
    assert _non_reference_frames(b_frames_video) > 200  # most B-frames: skipping them is the saving


@pytest.mark.parametrize("mode", ["seek", "sequential"])
def test_exact_frames_are_the_nearest_frames_with_non_reference_frames_skipped(b_frames_video, mode):
    rng = np.random.default_rng(0)
    # random moments, pairs closer than the margin (walked to), and targets just after keyframes
    targets = np.sort(np.concatenate([rng.uniform(0, 39.9, 40), rng.uniform(0, 39.9, 10) + 1 / FPS,
                                      np.arange(1, 16) * 2.4 + 0.05]))
    frames = list(FileVideo(b_frames_video).frames_at(targets, mode=mode, tolerance=0, unique=False))
    assert [f.index for f in frames] == list(range(len(targets)))
    assert [read_counter(f.image) for f in frames] == [_nearest(t) for t in targets]
    assert all(f.time == pytest.approx(_nearest(t) / FPS, abs=1e-6) for f, t in zip(frames, targets))


def test_a_target_far_ahead_decodes_fewer_frames_than_a_full_walk(b_frames_video, monkeypatch):
    """The skipping happens: walking 2 s forward to a target decodes fewer frames than there are."""
    video = FileVideo(b_frames_video)
    decoded = []
    real = av.packet.Packet.decode

    def counting(packet):
        out = real(packet)
        decoded.extend(out)
        return out

    monkeypatch.setattr(av.packet.Packet, "decode", counting)
    frame = next(video.frames_at([2.3], mode="sequential", tolerance=0))
    assert read_counter(frame.image) == _nearest(2.3)
    assert REF_ONLY_MARGIN_FRAMES < len(decoded) < _nearest(2.3)  # 57 frames on the way, the B-frames skipped
