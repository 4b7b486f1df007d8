"""Speed of ``hfs.select`` on a long video, against the uniform-sampling baseline.

What is measured, and why:

1. The greedy pipeline at N candidates, k frames (``hfs.select(..., selector="greedy",
   use_cache=False)``): decode, encode, select and total seconds, median of ``--repeats``.
   The embedding cache is off so every repeat decodes and embeds; the encoder object is
   built beforehand so model loading is not timed. This is the cost a user pays on the
   first question about a video.
2. Uniform sampling, the baseline HFS is compared with: it decodes only k frames and embeds
   nothing. The ratio greedy_total / uniform_total is the price of looking at N frames.
3. The decode of the N candidates by mode (seek, sequential, auto), since decoding usually
   dominates and ``FileVideo.choose_mode`` picks between the two strategies.
4. The selectors alone (greedy, topk, uniform) on random z-scores at N = 128, 1000, 10000,
   to show that the set-level greedy stays cheap when N grows.

The video is synthetic (``hfs.video.synth``: coloured scenes, some with a still or moving
square), written once and reused from ``--workdir``. Nothing is downloaded: without the
default CLIP weights the tiny random CLIP is used, so "encode" is then not a real figure.

    python benchmarks/bench_select.py                      # 10 min, 1280x720, 25 fps
    python benchmarks/bench_select.py --minutes 1 --size 640x360 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

import hfs
from hfs.encoders import ImageTextEncoder, create_encoder
from hfs.errors import EncoderNotAvailableError
from hfs.scoring import standardize
from hfs.selection import create_selector
from hfs.video import FileVideo, candidate_times
from hfs.video.synth import COLORS, Scene, draw_square, write_video

Draw = Callable[[np.ndarray, float], None]
console = Console(soft_wrap=True)


# -- the video -----------------------------------------------------------------------------
def moving_square(color: str, side: float, speed: float) -> Draw:
    """A square crossing the frame left to right every ``1 / speed`` seconds."""

    def draw(image: np.ndarray, t: float) -> None:
        x = 0.2 + 0.6 * ((t * speed) % 1.0)
        draw_square(color, center=(x, 0.5), side=side)(image, t)

    return draw


def make_scenes(total: float, num_scenes: int, seed: int) -> list[Scene]:
    """``num_scenes`` scenes of random lengths summing to ``total`` seconds: plain colour,
    a still square or a moving square on a random background."""
    rng = np.random.default_rng(seed)
    names = list(COLORS)
    durations = rng.dirichlet(np.full(num_scenes, 2.0)) * total
    scenes = []
    for duration in durations:
        bg, fg = rng.choice(names, size=2, replace=False)
        kind = int(rng.integers(3))
        side = float(rng.uniform(0.2, 0.6))
        draw = None
        if kind == 1:
            draw = draw_square(str(fg), center=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))), side=side)
        elif kind == 2:
            draw = moving_square(str(fg), side, speed=float(rng.uniform(0.05, 0.5)))
        scenes.append(Scene(str(bg), float(duration), draw))
    return scenes


def with_progress(scenes: Sequence[Scene], total: float, label: str) -> list[Scene]:
    """The same scenes, printing progress every 10% as ``write_video`` draws them."""
    start = time.perf_counter()
    next_mark = [0.1]

    def wrap(inner: Draw | None) -> Draw:
        def draw(image: np.ndarray, t: float) -> None:
            if inner is not None:
                inner(image, t)
            if t >= next_mark[0] * total:
                elapsed = time.perf_counter() - start
                console.print(f"  {label}: {next_mark[0]:4.0%} ({elapsed:5.1f} s)", highlight=False)
                next_mark[0] += 0.1

        return draw

    return [Scene(s.color, s.duration, wrap(s.draw)) for s in scenes]


def synthetic_video(workdir: Path, minutes: float, size: tuple[int, int], fps: float, gop: int,
                    num_scenes: int, seed: int) -> Path:
    """The cached video for these settings, written first if it is not there."""
    w, h = size
    path = workdir / f"synth_{minutes:g}min_{w}x{h}_{fps:g}fps_gop{gop}_{num_scenes}sc_seed{seed}.mp4"
    if path.is_file():
        console.print(f"reusing {path}")
        return path
    workdir.mkdir(parents=True, exist_ok=True)
    total = minutes * 60.0
    console.print(f"writing {path} ({int(round(total * fps))} frames; takes minutes at 720p on a few cores)")
    scenes = with_progress(make_scenes(total, num_scenes, seed), total, path.name)
    tmp = path.with_name(path.stem + ".partial.mp4")
    t0 = time.perf_counter()
    write_video(tmp, scenes, fps=fps, size=size, codec="libx264", gop=gop)
    tmp.replace(path)  # a half-written file is never reused
    console.print(f"written in {time.perf_counter() - t0:.1f} s")
    return path


# -- measuring -----------------------------------------------------------------------------
def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds per call of ``fn``, ``repeats`` times."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def pick_encoder(name: str | None) -> tuple[ImageTextEncoder, str | None]:
    """The requested encoder; without a name the default, else the tiny random CLIP."""
    if name:
        return create_encoder(name), None
    try:
        return create_encoder(None), None
    except EncoderNotAvailableError:
        note = ("default CLIP weights not on this machine: using tiny-random-clip, so 'encode' is for the tiny "
                "model, not a real CLIP (and frames are decoded at its short side)")
        return create_encoder("tiny-random-clip"), note


def bench_pipeline(path: Path, question: str, enc: ImageTextEncoder, n: int, k: int, repeats: int,
                   warmup: int) -> dict[str, Any]:
    """Greedy pipeline vs uniform sampling, and the N-candidate decode by mode."""
    run = lambda: hfs.select(path, question, k=k, num_candidates=n, selector="greedy",  # noqa: E731
                             encoder=enc, use_cache=False)
    for _ in range(warmup):
        run()
    runs = [run() for _ in range(repeats)]
    greedy = {key: statistics.median(r.timing[key] for r in runs) for key in ("decode", "encode", "select", "total")}

    duration = FileVideo(path).info.duration
    uniform = timed(lambda: list(FileVideo(path).frames_at(candidate_times(duration, k),
                                                             short_side=enc.short_side)), repeats)
    source = FileVideo(path)
    targets = candidate_times(duration, n)
    mode_runs = {m: timed(lambda: list(source.frames_at(targets, short_side=enc.short_side, mode=m)), repeats)
                 for m in ("seek", "sequential", "auto")}
    return {
        "greedy": greedy, "greedy_runs": [r.timing for r in runs], "distinct_candidates": runs[0].num_candidates,
        "uniform_total": statistics.median(uniform), "uniform_runs": uniform,
        "ratio_greedy_over_uniform": greedy["total"] / statistics.median(uniform),
        "decode_modes": {m: statistics.median(r) for m, r in mode_runs.items()}, "decode_mode_runs": mode_runs,
        "auto_mode_chose": source.choose_mode(n),
        "info": source.info.to_dict(), "short_side": enc.short_side,
    }


def bench_selectors(sizes: Sequence[int], k: int, repeats: int, seed: int) -> dict[int, dict[str, float]]:
    """Median milliseconds of each selector on random z-scores of length N."""
    rng = np.random.default_rng(seed)
    out: dict[int, dict[str, float]] = {}
    for n in sizes:
        scores = standardize(rng.standard_normal(n))
        row = {}
        for name in ("greedy", "topk", "uniform"):
            selector = create_selector(name, seed=seed)
            selector.select(scores, k)  # warm-up
            row[name] = 1e3 * statistics.median(timed(lambda: selector.select(scores, k), repeats))
        row["greedy_over_topk"] = row["greedy"] / row["topk"]
        out[n] = row
    return out


# -- reporting -----------------------------------------------------------------------------
def report(res: dict[str, Any]) -> None:
    cfg, p = res["config"], res["pipeline"]
    info = p["info"]
    console.print(f"\nvideo: {info['duration']:.1f} s, {info['width']}x{info['height']}, {info['fps']:g} fps, "
                  f"{info['num_frames']} frames, gop {cfg['gop']}; encoder {cfg['encoder']} "
                  f"(frames decoded at short side {p['short_side']})", highlight=False)
    if cfg["encoder_note"]:
        console.print(f"note: {cfg['encoder_note']}", style="yellow")

    t = Table(title=f"End to end, N={cfg['n']}, k={cfg['k']}, no cache, median of {cfg['repeats']} (seconds)")
    for col in ("", "decode", "encode", "select", "total"):
        t.add_column(col, justify="right" if col else "left")
    g = p["greedy"]
    t.add_row("greedy (hfs.select)", *(f"{g[c]:.3f}" for c in ("decode", "encode", "select", "total")))
    t.add_row(f"uniform ({cfg['k']} frames)", f"{p['uniform_total']:.3f}", "-", "-", f"{p['uniform_total']:.3f}")
    t.add_row("ratio greedy / uniform", "", "", "", f"{p['ratio_greedy_over_uniform']:.1f}x")
    console.print(t)

    t = Table(title=f"Decoding the N={cfg['n']} candidates by mode, median of {cfg['repeats']} (seconds)")
    t.add_column("mode")
    t.add_column("seconds", justify="right")
    for mode, secs in p["decode_modes"].items():
        t.add_row(mode + (f" (chose {p['auto_mode_chose']})" if mode == "auto" else ""), f"{secs:.3f}")
    console.print(t)

    t = Table(title=f"Selector alone, k={cfg['k']}, random z-scores, median of {cfg['select_repeats']} (ms)")
    for col in ("N", "greedy", "topk", "uniform", "greedy / topk"):
        t.add_column(col, justify="right")
    for n, row in res["selectors"].items():
        t.add_row(str(n), f"{row['greedy']:.3f}", f"{row['topk']:.3f}", f"{row['uniform']:.3f}",
                  f"{row['greedy_over_topk']:.1f}x")
    console.print(t)


def parse_size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hfs-bench",
                    help="where the synthetic video is written once and reused (default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=10.0, help="video length (default: %(default)s)")
    ap.add_argument("--size", type=parse_size, default=(1280, 720), help="WxH (default: 1280x720)")
    ap.add_argument("--fps", type=float, default=25.0, help="(default: %(default)s)")
    ap.add_argument("--gop", type=int, default=250, help="keyframe interval in frames (default: %(default)s)")
    ap.add_argument("--scenes", type=int, default=30, help="number of scenes (default: %(default)s)")
    ap.add_argument("--encoder", default=None, help="encoder name (default: the default CLIP, else tiny-random-clip)")
    ap.add_argument("--question", default="when does the blue square appear?")
    ap.add_argument("-n", "--num-candidates", type=int, default=128, help="(default: %(default)s)")
    ap.add_argument("-k", type=int, default=16, help="(default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each video measurement (default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed pipeline runs first (default: %(default)s)")
    ap.add_argument("--select-sizes", type=int, nargs="+", default=[128, 1000, 10000],
                    help="N for the selector-alone timings (default: %(default)s)")
    ap.add_argument("--select-repeats", type=int, default=50, help="(default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--video-only", action="store_true", help="only write (or find) the video, then stop")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    args = ap.parse_args(argv)

    path = synthetic_video(args.workdir, args.minutes, args.size, args.fps, args.gop, args.scenes, args.seed)
    if args.video_only:
        return 0
    enc, note = pick_encoder(args.encoder)
    console.print(f"measuring with encoder {enc.name} ...")
    res: dict[str, Any] = {
        "config": {"video": str(path), "minutes": args.minutes, "size": list(args.size), "fps": args.fps,
                   "gop": args.gop, "scenes": args.scenes, "encoder": enc.name, "encoder_note": note,
                   "n": args.num_candidates, "k": args.k, "repeats": args.repeats, "warmup": args.warmup,
                   "select_repeats": args.select_repeats, "seed": args.seed, "question": args.question,
                   "python": sys.version.split()[0], "hfs": hfs.__version__},
        "pipeline": bench_pipeline(path, args.question, enc, args.num_candidates, args.k, args.repeats, args.warmup),
        "selectors": bench_selectors(args.select_sizes, args.k, args.select_repeats, args.seed),
    }
    report(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2))
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
