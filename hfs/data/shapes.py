"""The synthetic shape task: a video-QA set whose answer can only be read from short evidence frames.

Each video is gray with a few short coloured "screens", each showing one white shape. The
question names a screen by its colour ("What shape is on the red screen?"); the other screens
show other shapes, so a model that does not look at the asked screen answers at chance. The
evidence is the asked screen's interval (about a second of a 16 s video). Everything is
deterministic from the seed. ``write_llava_annotations`` writes the set as a LLaVA-Video-178K
annotation file, so ``hfs train`` reads it like any training set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hfs.atomic import atomic_file, write_text_atomic
from hfs.data.synthetic import SyntheticItem
from hfs.query.prompt import LETTERS
from hfs.video.synth import Scene, write_video

SCREEN_COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "cyan")
SHAPES = ("square", "circle", "triangle", "cross")
SHAPE_RGB = (245, 245, 245)


def _shape_mask(shape: str, h: int, w: int, size: float = 0.7) -> np.ndarray:
    """Boolean [h, w] mask of a centred ``shape`` whose height is ``size`` of the frame's."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    half = size * min(h, w) / 2
    dy, dx = (yy - h / 2) / half, (xx - w / 2) / half  # [-1, 1] inside the shape's box
    if shape == "square":
        return (np.abs(dy) <= 0.8) & (np.abs(dx) <= 0.8)
    if shape == "circle":
        return dy * dy + dx * dx <= 1.0
    if shape == "triangle":  # apex up, base at the bottom of the box
        return (dy <= 1.0) & (np.abs(dx) <= (dy + 1.0) / 2)
    if shape == "cross":
        return ((np.abs(dy) <= 0.3) & (np.abs(dx) <= 1.0)) | ((np.abs(dx) <= 0.3) & (np.abs(dy) <= 1.0))
    raise ValueError(f"unknown shape {shape!r}")


def draw_shape(shape: str):
    """A ``Scene.draw`` callback painting a white ``shape`` in the middle of the frame."""

    def draw(image: np.ndarray, t: float) -> None:
        image[_shape_mask(shape, *image.shape[:2])] = SHAPE_RGB

    return draw


def _random_spans(rng: np.random.Generator, duration: float, count: int,
                  length: tuple[float, float]) -> list[tuple[float, float]]:
    """``count`` non-overlapping intervals placed uniformly at random: the gray gaps between
    them are a random split of the time left, so no place in the video is favoured (a regular
    layout would line the evidence up with uniform sampling's grid)."""
    lengths = rng.uniform(*length, size=count)
    gaps = rng.dirichlet(np.ones(count + 1)) * (duration - lengths.sum())
    spans, t = [], 0.0
    for gap, size in zip(gaps, lengths):
        start = t + gap
        spans.append((round(float(start), 2), round(float(start + size), 2)))
        t = start + size
    return spans


def make_shapes_set(root: str | Path, num_videos: int, seed: int = 0, duration: float = 16.0, fps: float = 4.0,
                    size: tuple[int, int] = (96, 72), screens: int = 4,
                    screen_len: tuple[float, float] = (0.75, 1.25)) -> list[SyntheticItem]:
    """Write ``num_videos`` videos under ``root`` (reused if already there) and return their items.

    Each video has ``screens`` coloured screens (distinct colours, distinct shapes) at random
    places; the question asks for one of them.
    """
    if not 2 <= screens <= len(SHAPES):
        raise ValueError(f"screens must be 2..{len(SHAPES)}, got {screens}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    items = []
    for n in range(num_videos):
        colors = rng.choice(len(SCREEN_COLORS), size=screens, replace=False)
        shapes = rng.choice(len(SHAPES), size=screens, replace=False)
        spans = _random_spans(rng, duration, screens, screen_len)
        target = int(rng.integers(screens))
        scenes, t = [], 0.0
        for (start, end), c, s in zip(spans, colors, shapes):
            scenes += [Scene("gray", start - t), Scene(SCREEN_COLORS[c], end - start, draw_shape(SHAPES[s]))]
            t = end
        scenes.append(Scene("gray", duration - t))
        name = f"shapes_{seed}_{n:04d}.mp4"
        if not (root / name).is_file():
            with atomic_file(root / name) as tmp:  # tmp keeps the .mp4 suffix PyAV needs
                write_video(tmp, scenes, fps=fps, size=size)
        question = f"What shape is on the {SCREEN_COLORS[colors[target]]} screen?"
        items.append(SyntheticItem(f"shapes-{seed}-{n}", name, duration, question, list(SHAPES),
                                   int(shapes[target]), [spans[target]]))
    return items


def write_llava_annotations(path: str | Path, items: Sequence[SyntheticItem]) -> Path:
    """The items as a LLaVA-Video-178K annotation file (``data.format: llava-video``)."""
    records = [{"id": item.id, "video": item.video, "conversations": [
        {"from": "human", "value": item.question + "\n" + "\n".join(
            f"{LETTERS[i]}. {option}" for i, option in enumerate(item.options))},
        {"from": "gpt", "value": f"{LETTERS[item.answer]}."}]} for item in items]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(records, indent=1))
    return path


def write_items(path: str | Path, items: Sequence[SyntheticItem]) -> Path:
    """The items with their evidence intervals as JSON (for evaluation)."""
    from dataclasses import asdict

    path = Path(path)
    write_text_atomic(path, json.dumps([asdict(i) for i in items], indent=1))
    return path


def read_items(path: str | Path) -> list[SyntheticItem]:
    """Inverse of ``write_items``."""
    return [SyntheticItem(**{**r, "evidence": [tuple(e) for e in r["evidence"]]})
            for r in json.loads(Path(path).read_text())]
