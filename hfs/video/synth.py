"""Write small synthetic videos with PyAV: scenes of solid colours or drawn shapes at known times.

Tests, benchmarks and the synthetic evidence benchmark use these, so that every claim about
decoding or selection can be checked against a ground truth without downloading anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RGB = tuple[int, int, int]
COLORS: dict[str, RGB] = {
    "red": (220, 20, 20), "green": (20, 180, 40), "blue": (20, 40, 220), "yellow": (240, 220, 20),
    "white": (245, 245, 245), "black": (10, 10, 10), "gray": (128, 128, 128), "orange": (250, 140, 0),
    "purple": (140, 30, 180), "cyan": (20, 200, 220),
}


@dataclass(frozen=True)
class Scene:
    """``duration`` seconds of one background colour, optionally with something drawn on it."""

    color: RGB | str
    duration: float
    draw: Callable[[np.ndarray, float], None] | None = None  # draw(image, t) in place

    @property
    def rgb(self) -> RGB:
        return COLORS[self.color] if isinstance(self.color, str) else self.color


def scene_bounds(scenes: Sequence[Scene]) -> list[tuple[float, float]]:
    """(start, end) seconds of each scene."""
    bounds, t = [], 0.0
    for scene in scenes:
        bounds.append((t, t + scene.duration))
        t += scene.duration
    return bounds


def write_video(
    path: str | Path,
    scenes: Sequence[Scene],
    fps: float = 10.0,
    size: tuple[int, int] = (96, 64),
    codec: str = "libx264",
    rotation: int = 0,
    frame_times: Sequence[float] | None = None,
    gop: int | None = None,
    keyframe_interval: int | None = None,
    frame_counter: bool = False,
    pix_fmt: str = "yuv420p",
    audio_seconds: float = 0.0,
    audio_codec: str | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Write ``scenes`` to ``path`` (container from the suffix) and return the path.

    ``size`` is (width, height) of the stored picture; ``rotation`` sets the display matrix
    (counter-clockwise degrees). ``frame_times`` gives explicit presentation times for a
    variable-frame-rate video (``fps`` is then only the nominal rate). ``frame_counter``
    writes each frame's index as a binary code in the top row of 8x8 blocks, so tests can
    read back exactly which frame they got. Odd sizes need a codec and ``pix_fmt`` without
    chroma subsampling, e.g. ``codec="ffv1", pix_fmt="yuv444p"`` in ``.mkv``.
    ``gop`` caps the frames between keyframes (x264 still adds some at scene cuts);
    ``keyframe_interval`` (libx264) puts a keyframe exactly every that many frames and nowhere else.
    ``audio_seconds`` > 0 adds a silent mono audio track of that length (``audio_codec``, by
    default Opus in WebM, MP2 in AVI, else AAC), e.g. longer than the picture; ``options`` are the muxer's
    (``{"live": "1"}`` makes Matroska state no duration).
    """
    path = Path(path)
    width, height = size
    total = sum(s.duration for s in scenes)
    if frame_times is None:
        frame_times = list(np.arange(int(round(total * fps))) / fps)
    bounds = scene_bounds(scenes)
    rate = Fraction(fps).limit_denominator(1000)
    # AVI has no timestamps, only a frame rate, which is one over its time base: one frame per tick
    time_base = 1 / rate if path.suffix.lower() == ".avi" else Fraction(1, 1000)
    with av.open(str(path), mode="w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if gop is not None:
            stream.codec_context.gop_size = gop
        if keyframe_interval is not None:
            stream.codec_context.gop_size = keyframe_interval
            n = keyframe_interval
            stream.codec_context.options = {"x264-params": f"keyint={n}:min-keyint={n}:scenecut=0"}
        if rotation:
            stream.set_display_rotation(rotation)
        audio = None
        if audio_seconds > 0:
            # AAC's negative start (encoder priming) makes the AVI muxer shift the frames
            default = {".webm": "libopus", ".avi": "mp2"}.get(path.suffix.lower(), "aac")
            audio = _Silence(container, audio_codec or default, audio_seconds)
        for index, t in enumerate(frame_times):
            scene_idx = next((i for i, (a, b) in enumerate(bounds) if a <= t < b), len(scenes) - 1)
            scene = scenes[scene_idx]
            image = np.empty((height, width, 3), dtype=np.uint8)
            image[:] = scene.rgb
            if scene.draw is not None:
                scene.draw(image, t)
            if frame_counter:
                draw_counter(image, index)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(round(t / float(time_base)))
            frame.time_base = time_base
            if audio is not None:
                audio.until(t)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio is not None:
            audio.finish()
    return path


class _Silence:
    """A mono track of ``seconds`` of silence, muxed in step with the video (``until``)."""

    def __init__(self, container: av.container.OutputContainer, codec: str, seconds: float,
                 rate: int = 48000) -> None:
        self.container, self.rate, self.chunk = container, rate, 1024
        self.total, self.next = int(round(seconds * rate)), 0
        self.stream = container.add_stream(codec, rate=rate)
        self.stream.layout = "mono"

    def until(self, t: float) -> None:
        """Mux the silence that starts before ``t`` seconds."""
        while self.next < min(self.total, t * self.rate):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, self.chunk), np.float32), format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = self.rate, self.next, Fraction(1, self.rate)
            self.next += self.chunk
            for packet in self.stream.encode(frame):
                self.container.mux(packet)

    def finish(self) -> None:
        self.until(float("inf"))
        for packet in self.stream.encode():
            self.container.mux(packet)


def draw_counter(image: np.ndarray, value: int, bits: int = 10, block: int = 8) -> None:
    """Write ``value`` as ``bits`` black/white blocks along the top-left edge."""
    for b in range(bits):
        on = (value >> b) & 1
        image[:block, b * block:(b + 1) * block] = 255 if on else 0


def read_counter(image: np.ndarray, bits: int = 10, block: int = 8) -> int:
    """Inverse of ``draw_counter`` on a decoded (lossy) frame of the original size."""
    value = 0
    for b in range(bits):
        patch = image[1:block - 1, b * block + 1:(b + 1) * block - 1]
        if patch.mean() > 127:
            value |= 1 << b
    return value


def draw_square(color: RGB | str, center: tuple[float, float] = (0.5, 0.5), side: float = 0.4):
    """A ``draw`` callback that paints a square of ``color`` (fractions of the frame)."""
    rgb = COLORS[color] if isinstance(color, str) else color

    def draw(image: np.ndarray, t: float) -> None:
        h, w = image.shape[:2]
        half = side * min(h, w) / 2
        cy, cx = center[1] * h, center[0] * w
        image[int(cy - half):int(cy + half), int(cx - half):int(cx + half)] = rgb

    return draw
