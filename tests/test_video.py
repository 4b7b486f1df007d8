"""Decoding: the candidates are the frames nearest the segment midpoints, on every kind of video."""

from __future__ import annotations

import logging
import wave
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from hfs.errors import VideoError
from hfs.video import FileVideo, FrameFolder, candidate_times, nearest_indices, open_video
from hfs.video.streams import parse_duration_tag
from hfs.video.synth import Scene, read_counter, write_video


def test_candidate_times_are_segment_midpoints():
    times = candidate_times(10.0, 4)
    assert np.allclose(times, [1.25, 3.75, 6.25, 8.75])


def test_nearest_indices_prefers_earlier_on_ties():
    frames = np.array([0.0, 1.0, 2.0])
    assert nearest_indices(frames, np.array([0.5, 0.51, 1.49, 5.0, -1.0])).tolist() == [0, 1, 1, 2, 0]


@pytest.mark.parametrize("mode", ["seek", "sequential", "auto"])
def test_constant_rate_frames_are_nearest_the_midpoints(three_scene_video, mode):
    video = open_video(three_scene_video)
    assert video.info.duration == pytest.approx(12.0, abs=0.05)
    assert video.info.fps == pytest.approx(10.0)
    targets = candidate_times(video.info.duration, 32)
    frames = list(video.frames_at(targets, mode=mode))
    assert len(frames) == 32
    interval = 0.1
    for frame in frames:
        assert abs(frame.time - targets[frame.index]) <= interval
        # the pixels are those of the frame with that timestamp (index drawn into the picture)
        assert read_counter(frame.image) == round(frame.time / interval)
        assert frame.image.dtype == np.uint8 and frame.image.shape == (80, 128, 3)


def test_seek_and_sequential_decode_the_same_frames(tmp_path):
    path = write_video(tmp_path / "gop.mp4", [Scene("gray", 8)], fps=25, size=(96, 48), gop=20, frame_counter=True)
    video = open_video(path)
    targets = candidate_times(video.info.duration, 7)
    seek = [read_counter(f.image) for f in video.frames_at(targets, mode="seek")]
    seq = [read_counter(f.image) for f in video.frames_at(targets, mode="sequential")]
    assert seek == seq == [int(round(t * 25 - 1e-9)) for t in targets]


def test_variable_frame_rate(tmp_path):
    rng = np.random.default_rng(1)
    frame_times = np.round(np.cumsum(np.r_[0.0, rng.uniform(0.02, 0.4, 60)]), 3)
    path = write_video(tmp_path / "vfr.mkv", [Scene("green", float(frame_times[-1]) + 0.1)], fps=10,
                       size=(96, 64), frame_times=frame_times, frame_counter=True)
    video = open_video(path)
    targets = candidate_times(video.info.duration, 16)
    frames = list(video.frames_at(targets, mode="seek", unique=False))
    assert len(frames) == 16
    for frame in frames:
        expected = nearest_indices(frame_times, np.array([targets[frame.index]]))[0]
        assert read_counter(frame.image) == expected
        assert frame.time == pytest.approx(frame_times[expected], abs=1e-3)
        # within one (local) frame interval of the midpoint
        local = np.diff(frame_times)[max(expected - 1, 0):expected + 1].max()
        assert abs(frame.time - targets[frame.index]) <= local


def test_rotation_metadata_is_applied(tmp_path):
    def mark_top_left(image, t):
        image[:16, :16] = (255, 255, 255)

    path = write_video(tmp_path / "rot.mp4", [Scene("black", 1, draw=mark_top_left)], fps=10, size=(96, 64),
                       rotation=90)
    video = open_video(path)
    assert video.info.rotation == 90
    assert (video.info.width, video.info.height) == (64, 96)
    frame = next(video.frames_at([0.5]))
    assert frame.image.shape == (96, 64, 3)
    # turned 90 degrees counter-clockwise, the stored top-left corner is shown bottom-left
    assert frame.image[-8:, :8].mean() > 200
    assert frame.image[:8, :8].mean() < 60


def test_odd_size_video_decodes_and_resizes(tmp_path):
    path = write_video(tmp_path / "odd.mkv", [Scene("yellow", 2)], fps=5, size=(97, 61), codec="ffv1",
                       pix_fmt="yuv444p")
    video = open_video(path)
    assert (video.info.width, video.info.height) == (97, 61)
    frames = list(video.frames_at(candidate_times(video.info.duration, 4), short_side=32))
    assert len(frames) == 4
    h, w = frames[0].image.shape[:2]
    assert min(h, w) in (32, 33, 34) and w > h
    assert np.abs(frames[0].image.reshape(-1, 3).mean(0) - (240, 220, 20)).max() < 12


def test_video_shorter_than_n_gives_each_frame_once(tmp_path):
    path = write_video(tmp_path / "short.mp4", [Scene("red", 1)], fps=10, frame_counter=True)
    video = open_video(path)
    frames = list(video.frames_at(candidate_times(video.info.duration, 128)))
    assert [read_counter(f.image) for f in frames] == list(range(10))


def test_image_folder_is_a_video(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):  # frame_2 must sort before frame_10
        Image.new("RGB", (40, 30), (i * 20, 0, 0)).save(folder / f"frame_{i}.png")
    video = open_video(folder, image_fps=2.0)
    assert isinstance(video, FrameFolder)
    assert video.info.duration == pytest.approx(6.0) and video.info.kind == "folder"
    frames = list(video.frames_at(candidate_times(6.0, 4)))
    reds = [int(f.image[0, 0, 0]) for f in frames]
    # midpoints 0.75, 2.25, 3.75, 5.25 s fall halfway between images: the earlier one wins
    assert [f.time for f in frames] == [0.5, 2.0, 3.5, 5.0]
    assert reds == [20, 80, 140, 200]


def test_missing_file():
    with pytest.raises(VideoError, match="nope.mp4: file not found"):
        FileVideo("/definitely/nope.mp4")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="empty.mp4: file is empty"):
        open_video(tmp_path / "empty.mp4")


def test_not_a_video(tmp_path):
    (tmp_path / "notes.mp4").write_text("this is text, not a video\n" * 50)
    with pytest.raises(VideoError, match="notes.mp4: not a readable video file"):
        open_video(tmp_path / "notes.mp4")


def test_no_video_stream(tmp_path):
    path = tmp_path / "sound.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.zeros(8000, dtype=np.int16).tobytes())
    with pytest.raises(VideoError, match="sound.wav: contains no video stream"):
        open_video(path)


def test_truncated_mp4_without_index(tmp_path, three_scene_video):
    data = three_scene_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: gone
    with pytest.raises(VideoError, match="cut.mp4"):
        open_video(cut)


def test_truncated_stream_is_refused_at_open_with_the_true_duration(tmp_path):
    path = write_video(tmp_path / "long.mkv", [Scene("red", 5), Scene("blue", 5)], fps=10, size=(96, 48),
                       frame_counter=True)
    data = path.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    # Matroska states its duration in the header, so the cut file still claims 10 s; its packets say less
    with pytest.raises(VideoError, match=r"cut.mkv: video is truncated: its frames stop at [1-8]\.\d\d s of the "
                                         r"10\.00 s its header states"):
        open_video(cut)


def test_garbage_after_header_is_an_error_not_a_crash(tmp_path, three_scene_video):
    data = bytearray(three_scene_video.read_bytes())
    rng = np.random.default_rng(0)
    start = len(data) // 5
    data[start:start + len(data) // 2] = rng.integers(0, 256, len(data) // 2, dtype=np.uint8).tobytes()
    bad = tmp_path / "garbled.mp4"
    bad.write_bytes(bytes(data))
    try:
        video = open_video(bad)
        list(video.frames_at(candidate_times(video.info.duration, 16)))
    except VideoError as exc:
        assert "garbled.mp4" in str(exc)
    except av.FFmpegError as exc:  # pragma: no cover - this is the failure the test guards against
        pytest.fail(f"raw PyAV error escaped: {exc!r}")


# -- the video stream's own duration and the choice of stream ------------------------------

def _nearest_at_10fps(targets):
    """Index of the 10 fps frame nearest each time (ties: the earlier frame)."""
    return [int(round(t * 10 - 1e-9)) for t in targets]


def _counted(video, n=16):
    """Decode n candidates of ``video``; (candidate times, frame times, counters read back)."""
    targets = candidate_times(video.info.duration, n)
    frames = list(video.frames_at(targets, unique=False))
    return targets, [f.time for f in frames], [read_counter(f.image) for f in frames]


@pytest.mark.parametrize("name,codec", [("long_audio.webm", "libvpx-vp9"), ("long_audio.mkv", "libx264")])
def test_audio_outlasting_the_video_does_not_count_as_video(tmp_path, name, codec):
    path = write_video(tmp_path / name, [Scene("red", 3)], fps=10, codec=codec, frame_counter=True,
                       audio_seconds=5.0)
    with av.open(str(path)) as container:
        assert container.duration / av.time_base > 4.9  # the container is as long as its audio
    video = open_video(path)
    assert video.info.duration == pytest.approx(3.0, abs=0.01)
    targets, times, counters = _counted(video)
    assert len(times) == 16 and max(times) <= video.info.duration
    assert counters == _nearest_at_10fps(targets)  # the frame nearest each midpoint


def _strip_duration_tags(path):
    """Rename Matroska's per-track DURATION tags so that no stream states its length."""
    data = path.read_bytes()
    assert data.count(b"DURATION") >= 2
    path.write_bytes(data.replace(b"DURATION", b"DURATIOX"))
    return path


def test_untagged_matroska_with_longer_audio_measures_the_video(tmp_path):
    path = _strip_duration_tags(write_video(tmp_path / "untagged.mkv", [Scene("blue", 2.5)], fps=10, gop=5,
                                            frame_counter=True, audio_seconds=4.0))
    with av.open(str(path)) as container:
        assert all(s.duration is None and "DURATION" not in s.metadata for s in container.streams)
        assert container.duration / av.time_base > 3.9
    video = open_video(path)
    assert video.info.duration == pytest.approx(2.5, abs=0.01)
    for mode in ("seek", "sequential"):
        frames = list(video.frames_at(candidate_times(video.info.duration, 8), mode=mode))
        assert [read_counter(f.image) for f in frames] == _nearest_at_10fps(candidate_times(2.5, 8))


def test_a_stream_duration_copied_from_the_container_is_not_trusted(tmp_path):
    # three frames and AAC audio: FFmpeg cannot tell the untagged video's length and gives it the
    # container's, which is the audio's
    path = _strip_duration_tags(write_video(tmp_path / "copied.mkv", [Scene("red", 0.6)], fps=5, size=(16, 16),
                                            audio_seconds=1.1))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration * stream.time_base == pytest.approx(container.duration / av.time_base)
        assert container.duration / av.time_base > 1.0
    video = open_video(path)
    assert video.info.duration == pytest.approx(0.6, abs=0.01)
    assert len(list(video.frames_at(candidate_times(video.info.duration, 6)))) == 3


@pytest.mark.parametrize("audio", [0.0, 3.0])
def test_matroska_without_any_duration_is_measured(tmp_path, audio):
    path = write_video(tmp_path / "live.mkv", [Scene("green", 2)], fps=10, frame_counter=True, audio_seconds=audio,
                       options={"live": "1"})  # a live recording: no duration anywhere, no index
    with av.open(str(path)) as container:
        assert container.duration is None and all(s.duration is None for s in container.streams)
    video = open_video(path)
    assert video.info.duration == pytest.approx(2.0, abs=0.01)
    targets, _, counters = _counted(video, 8)
    assert counters == _nearest_at_10fps(targets)


def _two_video_streams(path, default: int | None):
    """Matroska with two 2 s video streams: stream 0 red, stream 1 blue (the given one marked default)."""
    colours = [(220, 20, 20), (20, 40, 220)]
    with av.open(str(path), "w") as container:
        streams = []
        for j in range(2):
            s = container.add_stream("libx264", rate=10)
            s.width, s.height, s.pix_fmt = 64 + 32 * j, 48, "yuv420p"
            s.disposition = av.stream.Disposition.default if default == j else av.stream.Disposition(0)
            streams.append(s)
        for i in range(20):
            for s, rgb in zip(streams, colours):
                frame = av.VideoFrame.from_ndarray(np.full((s.height, s.width, 3), rgb, np.uint8), format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 10)
                for packet in s.encode(frame):
                    container.mux(packet)
        for s in streams:
            for packet in s.encode():
                container.mux(packet)
    return path


def test_two_video_streams_use_the_default_one_and_say_so(tmp_path, caplog):
    path = _two_video_streams(tmp_path / "two.mkv", default=1)
    with caplog.at_level(logging.WARNING, logger="hfs.video"):
        video = open_video(path)
    assert "two.mkv: has 2 video streams; using stream #1 (the default one)" in caplog.text
    assert (video.info.stream_index, video.info.video_streams, video.info.width) == (1, 2, 96)
    for mode in ("seek", "sequential"):
        frames = list(video.frames_at(candidate_times(video.info.duration, 4), mode=mode))
        assert len(frames) == 4 and all(f.image.shape == (48, 96, 3) for f in frames)
        assert all(f.image[..., 2].mean() > 180 and f.image[..., 0].mean() < 60 for f in frames)  # blue


def test_two_video_streams_without_a_default_use_ffmpegs_best(tmp_path, caplog):
    path = _two_video_streams(tmp_path / "nodefault.mkv", default=None)
    with av.open(str(path)) as container:
        best = container.streams.best("video").index
    with caplog.at_level(logging.WARNING, logger="hfs.video"):
        video = open_video(path)
    assert video.info.stream_index == best and f"using stream #{best}" in caplog.text


def test_one_video_stream_is_used_without_a_warning(three_scene_video, caplog):
    with caplog.at_level(logging.WARNING, logger="hfs.video"):
        video = open_video(three_scene_video)
    assert (video.info.stream_index, video.info.video_streams) == (0, 1) and not caplog.records


def test_matroska_duration_tag():
    assert parse_duration_tag("00:01:02.500000000") == pytest.approx(62.5)
    assert parse_duration_tag("1:00:00") == pytest.approx(3600.0)
    assert parse_duration_tag(None) is None and parse_duration_tag("soon") is None
    assert parse_duration_tag("00:00:00.000") is None


def test_audio_with_a_cover_picture_has_no_video(tmp_path):
    path = tmp_path / "song.mp3"
    with av.open(str(path), "w") as container:
        audio = container.add_stream("libmp3lame", rate=48000)
        cover = container.add_stream("mjpeg")
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
        picture.pts, picture.time_base = 0, Fraction(1, 25)
        for packet in [*cover.encode(picture), *cover.encode()]:
            container.mux(packet)
        for start in range(0, 48000, 1152):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1152), np.float32), format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["audio", "video"]  # FFmpeg lists the cover as video
    with pytest.raises(VideoError, match="song.mp3: contains no video stream \\(only a still cover picture\\)"):
        open_video(path)
