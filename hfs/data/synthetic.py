"""A generated video-QA set whose answers depend on a few known evidence frames.

Each video is gray with short coloured flashes: one flash of the asked colour (the evidence)
and distractor flashes of other colours. The question asks when the asked colour flashes
("in the first / middle / last third"), so only the evidence frames answer it. Everything is
deterministic from the seed, so training and selection can be checked against ground truth
with no download.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hfs.atomic import atomic_file, write_text_atomic
from hfs.data.instruct import TrainingQuestion
from hfs.video.synth import Scene, write_video

FLASH_COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "cyan")
THIRDS = ("in the first third", "in the middle third", "in the last third")


@dataclass
class SyntheticItem:
    """One generated video with its question, options, answer and evidence intervals (s)."""

    id: str
    video: str
    duration: float
    question: str
    options: list[str]
    answer: int
    evidence: list[tuple[float, float]]

    def to_question(self, root: Path) -> TrainingQuestion:
        return TrainingQuestion(self.id, (root / self.video).resolve(), self.question, self.options, self.answer,
                                self.options[self.answer], "synthetic")


def _layout(rng: np.random.Generator, duration: float, flashes: int, flash_len: tuple[float, float]):
    """Non-overlapping flash intervals, one per slot of the video, in random order."""
    slot = duration / flashes
    spans = []
    for i in range(flashes):
        length = rng.uniform(*flash_len)
        start = i * slot + rng.uniform(0.1 * slot, max(0.1 * slot, slot - length - 0.1 * slot))
        spans.append((round(start, 2), round(start + length, 2)))
    return spans


def make_synthetic_set(root: str | Path, num_videos: int, seed: int = 0, duration: float = 16.0, fps: float = 4.0,
                       size: tuple[int, int] = (64, 48), distractors: int = 2,
                       flash_len: tuple[float, float] = (0.75, 1.5)) -> list[SyntheticItem]:
    """Write ``num_videos`` videos under ``root`` (reused if already there) and their annotations."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    items = []
    for n in range(num_videos):
        colors = rng.choice(len(FLASH_COLORS), size=distractors + 1, replace=False)
        spans = _layout(rng, duration, distractors + 1, flash_len)
        target = int(rng.integers(len(spans)))
        scenes, t = [], 0.0
        for (start, end), c in zip(spans, np.roll(colors, target)):
            scenes += [Scene("gray", start - t), Scene(FLASH_COLORS[c], end - start)]
            t = end
        scenes.append(Scene("gray", duration - t))
        asked = FLASH_COLORS[colors[0]]
        evidence = spans[target]
        answer = min(int((evidence[0] + evidence[1]) / 2 // (duration / 3)), 2)
        name = f"synthetic_{seed}_{n:04d}.mp4"
        if not (root / name).is_file():
            with atomic_file(root / name, "a generated video") as tmp:  # never a half-written video to reuse
                write_video(tmp, scenes, fps=fps, size=size)
        items.append(SyntheticItem(f"synthetic-{seed}-{n}", name, duration, f"When does the screen flash {asked}?",
                                   list(THIRDS), answer, [evidence]))
    write_text_atomic(root / f"synthetic_{seed}.json", json.dumps([asdict(i) for i in items], indent=1),
                      "the generated set's questions")
    return items
