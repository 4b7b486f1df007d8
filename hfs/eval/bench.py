"""``hfs bench``: every selector on the synthetic evidence benchmark, same candidates and scores.

Each video is decoded and embedded once (through the embedding cache), each question's frame
scores computed once, and then every selector chooses k frames for every k, so differences in
the table come from the selection rule alone. Quality is measured against the known evidence
(recall, coverage, redundancy); speed as the median selection time per video.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfs.cache import EmbeddingCache, default_cache_dir
from hfs.config import MAX_CANDIDATES, ObjectiveConfig
from hfs.data.evidence import make_evidence_set
from hfs.encoders import ImageTextEncoder, create_encoder
from hfs.errors import InputError
from hfs.eval.metrics import evidence_recall, redundancy, temporal_coverage
from hfs.pipeline import cached_candidates
from hfs.progress import progress_bar
from hfs.scoring import query_scores, standardize
from hfs.selection import create_selector, resolve_selectors
from hfs.validation import SEED, Checked, Rule, above, at_least
from hfs.video import open_video

QUESTION_KINDS = ("all", "single", "multi")
# The generated set is written frame by frame and each video's frame times are held in memory:
# refuse sets above this many frames in all (the default set has 12 x 24 s x 4 fps = 1152).
MAX_BENCH_FRAMES = 1_000_000
MIN_VIDEO_FRAMES = 40  # fewer and the scenes of a video cannot all be seen (hfs.data.evidence)


@dataclass
class BenchConfig(Checked):
    """What ``hfs bench`` generates and compares; every field is checked when set."""

    videos: int = 12
    seed: int = 0
    duration: float = 24.0  # seconds per video
    fps: float = 4.0
    size: list[int] = field(default_factory=lambda: [64, 48])  # width, height
    multi_share: float = 0.5  # share of questions with two evidence events
    k: list[int] = field(default_factory=lambda: [8, 16, 32])
    selectors: list[str] = field(default_factory=list)  # empty: every registered selector
    encoder: str | None = None  # None: the default image-text model
    num_candidates: int = 128
    repeats: int = 3  # timing: the fastest of this many runs per video
    data_dir: str | None = None  # where the videos go; default under the hfs cache
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)

    RULES = {
        "videos": at_least(1, 10_000), "seed": SEED, "duration": above(0, 24 * 3600), "fps": at_least(0.1, 240),
        "size": at_least(16, 1920), "multi_share": at_least(0, 1), "k": at_least(1, MAX_CANDIDATES),
        "selectors": Rule(allow_empty=True), "num_candidates": at_least(1, MAX_CANDIDATES),
        "repeats": at_least(1, 100),
    }

    def check(self) -> None:
        if len(self.size) != 2:
            raise InputError(f"BenchConfig.size: expected [width, height], got {self.size}")
        per_video = self.duration * self.fps
        if per_video < MIN_VIDEO_FRAMES:
            raise InputError(f"a {self.duration:g}s video at {self.fps:g} fps has {per_video:.0f} frames, too short "
                             f"for the benchmark: give at least {MIN_VIDEO_FRAMES} frames per video "
                             f"(duration x fps >= {MIN_VIDEO_FRAMES})")
        total = self.videos * per_video
        if total > MAX_BENCH_FRAMES:
            raise InputError(f"the set would have {self.videos} videos x {self.duration:g} s x {self.fps:g} fps = "
                             f"{total:.3g} frames, above the limit of {MAX_BENCH_FRAMES:,}; use fewer videos, "
                             "a shorter duration or a lower fps")

    def resolved_selectors(self) -> list[str]:
        return resolve_selectors(self.selectors)

    def set_dir(self) -> Path:
        if self.data_dir:
            return Path(self.data_dir)
        w, h = self.size
        tag = f"seed{self.seed}-n{self.videos}-d{self.duration:g}-fps{self.fps:g}-{w}x{h}-m{self.multi_share:g}"
        return default_cache_dir() / "bench" / tag


@dataclass
class BenchResult:
    """The table rows, every per-question record, and what produced them."""

    rows: list[dict[str, Any]]
    records: list[dict[str, Any]]
    meta: dict[str, Any]

    def row(self, selector: str, k: int, kind: str = "all") -> dict[str, Any]:
        for r in self.rows:
            if r["selector"] == selector and r["k"] == k and r["questions"] == kind:
                return r
        raise KeyError((selector, k, kind))


def run_bench(config: BenchConfig, encoder: ImageTextEncoder | None = None, progress: bool = True,
              allow_download: bool = False) -> BenchResult:
    """Generate (or reuse) the set, score it once, run every selector at every k, aggregate."""
    names = config.resolved_selectors()
    ks = sorted({int(k) for k in config.k})
    if not ks or ks[0] < 1:
        raise InputError(f"k must be positive integers, got {config.k}")
    enc = encoder or create_encoder(config.encoder, allow_download=allow_download)
    root = config.set_dir()
    items = make_evidence_set(root, config.videos, config.seed, config.duration, config.fps,
                              tuple(config.size), config.multi_share)
    cache = EmbeddingCache()
    selectors = {n: create_selector(n, objective=config.objective, seed=config.seed) for n in names}
    records, skipped, counts = [], [], []
    t_start = time.perf_counter()
    with progress_bar(len(items), "bench", progress) as bar:
        for item in items:
            entry, _, _, _ = cached_candidates(open_video(root / item.video), enc, config.num_candidates, cache)
            raw = query_scores(enc, entry.embeddings, item.question, item.options)
            scores = standardize(raw)
            counts.append(int(scores.size))
            for k in ks:
                if k > scores.size:
                    skipped.append({"id": item.id, "k": k, "candidates": int(scores.size)})
                    continue
                for name, selector in selectors.items():
                    best = np.inf
                    for _ in range(max(1, config.repeats)):
                        t0 = time.perf_counter()
                        sel = selector.select(scores, k, times=entry.times, embeddings=entry.embeddings,
                                              raw_scores=raw)
                        best = min(best, time.perf_counter() - t0)
                    times = sel.times.tolist()
                    records.append({
                        "id": item.id, "kind": item.kind, "selector": name, "k": k,
                        "recall": evidence_recall(times, item.evidence),
                        "coverage": temporal_coverage(times, item.duration, k),
                        "redundancy": redundancy(times, item.duration),
                        "time_us": best * 1e6, "indices": sel.indices.tolist(),
                    })
            bar.advance()
    rows = aggregate(records, names, ks)
    meta = {
        "config": asdict(config), "encoder": enc.name, "videos": len(items), "data_dir": str(root),
        "questions": {kind: sum(i.kind == kind for i in items) for kind in ("single", "multi")},
        "candidates_per_video": int(np.median(counts)),
        "skipped": skipped, "seconds": round(time.perf_counter() - t_start, 2),
    }
    return BenchResult(rows, records, meta)


def aggregate(records: list[dict[str, Any]], selectors: list[str], ks: list[int]) -> list[dict[str, Any]]:
    """Mean recall, coverage, redundancy and median time per selector x k x question kind."""
    rows = []
    for name in selectors:
        for k in ks:
            for kind in QUESTION_KINDS:
                sub = [r for r in records if r["selector"] == name and r["k"] == k and kind in ("all", r["kind"])]
                if not sub:
                    continue
                rows.append({
                    "selector": name, "k": k, "questions": kind, "n": len(sub),
                    "recall": float(np.mean([r["recall"] for r in sub])),
                    "coverage": float(np.mean([r["coverage"] for r in sub])),
                    "redundancy": float(np.mean([r["redundancy"] for r in sub])),
                    "time_us": float(np.median([r["time_us"] for r in sub])),
                })
    return rows
