"""The synthetic evidence benchmark: generated videos whose evidence frames are known.

Each video is a sequence of scenes of nameable content: long "filler" scenes (white, gray or
black backgrounds, some with a small coloured square), distractors that resemble the evidence
(a short full-screen flash of a similar colour, a filler with a square of the asked colour), and
the evidence: the whole screen turning the asked colour. Two kinds of question:
- single: "When does the whole screen turn red?" — one short evidence event;
- multi: "How many times does the whole screen turn red?" — one long and one short event; both
  must be seen, so a selector that spends its budget on the long one misses the answer.
Scenes have different lengths and everything follows from the seed, so a selector is scored by
evidence recall against ground truth with no download.

Beside the videos and ``items.json`` the set keeps ``manifest.json``: the generation parameters
and each video's content hash. A video is reused only when the manifest says it was made with
the same parameters and its bytes are unchanged; otherwise it is generated again, so the videos
always match the ground truth written with them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hfs.atomic import atomic_file, write_text_atomic
from hfs.cache import content_hash
from hfs.errors import HfsError, InputError
from hfs.video.synth import Scene, draw_square, write_video

# each asked colour and the colours that resemble it (its distractors)
SIMILAR = {
    "red": ("orange", "purple"), "orange": ("red", "yellow"), "yellow": ("orange", "green"),
    "green": ("cyan", "yellow"), "cyan": ("green", "blue"), "blue": ("purple", "cyan"),
    "purple": ("blue", "red"),
}
FILLERS = ("white", "gray", "black")
THIRDS = ("in the first third", "in the middle third", "in the last third")
COUNTS = ("once", "twice", "three times", "never")
MANIFEST = "manifest.json"
GENERATOR_VERSION = 1  # bump when the same parameters would draw different videos


@dataclass
class EvidenceItem:
    """One generated video, its question and the [start, end) seconds of each evidence event."""

    id: str
    video: str  # file name under the set's folder
    duration: float
    kind: str  # "single" or "multi"
    color: str
    question: str
    options: list[str]
    answer: int
    evidence: list[tuple[float, float]]


def _pieces(rng: np.random.Generator, color: str, kind: str, duration: float) -> tuple[list[tuple], list[int]]:
    """(scene, length) pieces in playing order, and which pieces are evidence."""
    others = [c for c in SIMILAR if c != color and c not in SIMILAR[color]]
    events = [("flash", color, rng.uniform(0.03, 0.05) * duration)]
    if kind == "multi":
        events.append(("flash", color, rng.uniform(0.15, 0.25) * duration))
    distractors = [("flash", str(rng.choice(SIMILAR[color])), rng.uniform(0.03, 0.06) * duration),
                   ("square", color, rng.uniform(0.04, 0.08) * duration)]
    special = events + distractors
    num_fillers = int(rng.integers(len(special), len(special) + 4))
    rest = duration - sum(p[2] for p in special)
    filler_len = rng.dirichlet(np.full(num_fillers, 2.0)) * rest
    fillers = [("filler", str(rng.choice(others)) if rng.random() < 0.5 else "", length) for length in filler_len]
    # one special piece per gap between fillers (gap 0 is before the first), never two adjacent
    gaps = rng.choice(num_fillers + 1, size=len(special), replace=False)
    order = rng.permutation(len(special))
    slots: dict[int, tuple] = {int(g): special[int(o)] for g, o in zip(gaps, order)}
    pieces, evidence = [], []
    for g in range(num_fillers + 1):
        if g in slots:
            if slots[g] in events:
                evidence.append(len(pieces))
            pieces.append(slots[g])
        if g < num_fillers:
            pieces.append(fillers[g])
    return pieces, evidence


def _scene(rng: np.random.Generator, piece: tuple) -> Scene:
    what, color, length = piece
    if what == "flash":
        return Scene(color, length)
    background = str(rng.choice(FILLERS))
    if what == "square":
        return Scene(background, length, draw_square(color, (rng.uniform(0.3, 0.7), 0.5), side=0.35))
    if color:
        return Scene(background, length, draw_square(color, (rng.uniform(0.3, 0.7), 0.5), side=0.25))
    return Scene(background, length)


def generation_params(seed: int, duration: float, fps: float, size: tuple[int, int],
                      multi_share: float) -> dict[str, object]:
    """Everything that decides the videos' pixels and their ground truth (``manifest.json``)."""
    return {"format": "hfs-evidence", "version": GENERATOR_VERSION, "seed": int(seed), "duration": float(duration),
            "fps": float(fps), "size": [int(v) for v in size], "multi_share": float(multi_share)}


def reusable_videos(root: Path, params: dict[str, object]) -> dict[str, str]:
    """{video name: content hash} recorded under ``root`` for these exact ``params``, else {}."""
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("params") != params or not isinstance(manifest.get("videos"), dict):
        return {}
    return {str(k): str(v) for k, v in manifest["videos"].items()}


def make_evidence_set(
    root: str | Path,
    num_videos: int = 12,
    seed: int = 0,
    duration: float = 24.0,
    fps: float = 4.0,
    size: tuple[int, int] = (64, 48),
    multi_share: float = 0.5,
) -> list[EvidenceItem]:
    """Write ``num_videos`` videos under ``root``, ``items.json`` and ``manifest.json``.

    Videos already there are kept only if ``manifest.json`` records them with the same
    generation parameters and content; any other video of the same name is generated again.
    """
    if num_videos < 1:
        raise InputError(f"num_videos must be >= 1, got {num_videos}")
    if duration * fps < 40:
        raise InputError(f"a {duration:g}s video at {fps:g} fps is too short for the benchmark; "
                         f"use at least {40 / fps:g}s")
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HfsError(f"{root}: cannot create the benchmark folder ({exc.strerror or exc})") from exc
    params = generation_params(seed, duration, fps, size, multi_share)
    known = reusable_videos(root, params)
    rng = np.random.default_rng(seed)
    items, hashes = [], {}
    for n in range(num_videos):
        color = str(rng.choice(list(SIMILAR)))
        kind = "multi" if rng.random() < multi_share else "single"
        pieces, evidence_at = _pieces(rng, color, kind, duration)
        scenes = [_scene(rng, p) for p in pieces]
        starts = np.concatenate([[0.0], np.cumsum([p[2] for p in pieces])])
        evidence = [(round(float(starts[i]), 4), round(float(starts[i + 1]), 4)) for i in evidence_at]
        name = f"evidence_{seed}_{n:04d}.mp4"
        hashes[name] = _reuse_or_write(root / name, known.get(name), scenes, fps, size)
        if kind == "single":
            mid = (evidence[0][0] + evidence[0][1]) / 2
            question = f"When does the whole screen turn {color}?"
            options, answer = list(THIRDS), min(int(mid // (duration / 3)), 2)
        else:
            question = f"How many times does the whole screen turn {color}?"
            options, answer = list(COUNTS), 1
        items.append(EvidenceItem(f"evidence-{seed}-{n}", name, duration, kind, color, question, options, answer,
                                  evidence))
    try:
        write_text_atomic(root / "items.json", json.dumps([asdict(i) for i in items], indent=1))
        with atomic_file(root / MANIFEST) as tmp:  # last: it vouches for the videos written above
            tmp.write_text(json.dumps({"params": params, "videos": {**known, **hashes}}, indent=1))
    except OSError as exc:
        raise HfsError(f"{root}: cannot write the benchmark's ground truth ({exc.strerror or exc})") from exc
    return items


def _reuse_or_write(path: Path, recorded: str | None, scenes: list[Scene], fps: float,
                    size: tuple[int, int]) -> str:
    """The content hash of ``path``, after generating it unless it is the recorded video."""
    if recorded is not None and path.is_file() and content_hash(path) == recorded:
        return recorded
    try:
        with atomic_file(path) as tmp:
            write_video(tmp, scenes, fps=fps, size=size)
    except OSError as exc:
        raise HfsError(f"{path}: cannot write the benchmark video ({exc.strerror or exc})") from exc
    return content_hash(path)
