"""Decoding the candidates by mode, against decoding uniform sampling's k frames.

What is measured, and why:

Once the model runs on a GPU, decoding the N candidates is most of ``hfs select``'s time. For
each generated video (a keyframe every ``--gops`` frames) this times
``FileVideo.frames_at(candidate_times(duration, N), short_side=...)``:

- the baseline: uniform sampling's k frames (``candidate_times(duration, k)``) in seek mode,
  the cheapest exact mode for a few frames of a long video;
- the N candidates, for each N of ``-n``, in each mode: seek, sequential, keyframe, auto
  (and what auto chose), as seconds and as the ratio to the baseline measured in the same run.

- the default ``-n auto`` candidates as ``hfs select`` decodes them (the first pass the cost
  model of ``hfs.video.cost`` picks, shot scan or grid, then the refining rounds), with the
  weight-free ``color-names`` encoder at the same short side: ``timing["decode"]``, which counts
  opening the file too.

Each figure is the median of ``--repeats`` runs (sequential, which decodes every frame whatever
N is, runs ``--sequential-repeats`` times, default 1), in wall seconds and in CPU seconds of
all the process's threads (steadier on a shared machine). The file is opened (and its keyframe
index read) outside the timing. For keyframe and auto it also reports how many frames came
from keyframes and how far the frames lie from their targets.

The videos: ``--minutes`` of ``--size`` at ``--fps`` (default 10 min, 1280x720, 30 fps), H.264
(libx264, ``--preset``, default veryfast: B-frames and CABAC as in common files), scenes of a
still textured background with a bar moving across, so that they are cheap to write; written
once into ``--data-dir`` and reused (the name records the settings).

    python benchmarks/bench_decode.py                         # 10 min 720p, keyframe every 60 and 250 frames
    python benchmarks/bench_decode.py --minutes 2 -n 128,256 --json decode.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
from rich.console import Console
from rich.table import Table

from hfs.video import FileVideo, candidate_times

MODES = ("seek", "sequential", "keyframe", "auto")
console = Console(soft_wrap=True)


# -- the videos ----------------------------------------------------------------------------
def scene_planes(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """One scene's still background as a yuv420p picture [H * 3 / 2, W]: a textured ramp in Y
    (so keyframes cost real bits) and flat chroma."""
    width, height = size
    texture = rng.normal(0, 18, size=(height // 8, width // 8)).repeat(8, 0).repeat(8, 1)
    luma = np.clip(rng.uniform(60, 190) + texture + np.linspace(-30, 30, width)[None, :], 16, 235)
    chroma = np.full((height // 2, width), rng.uniform(80, 176), dtype=np.float64)  # U then V rows
    chroma[height // 4:] = rng.uniform(80, 176)
    return np.concatenate([luma, chroma]).astype(np.uint8)


def make_video(data_dir: Path, minutes: float, size: tuple[int, int], fps: float, gop: int, preset: str,
               seed: int) -> Path:
    """The benchmark video with a keyframe every ``gop`` frames, written once and reused.

    Scenes of 10-40 s, each a still background with a bar crossing it. Frames are built as
    yuv420p planes, so no colour conversion slows the writing (minutes at 720p on 2 cores).
    """
    name = f"decode_{minutes:g}min_{size[0]}x{size[1]}_{fps:g}fps_gop{gop}_{preset}_s{seed}.mp4"
    path = data_dir / name
    if path.exists():
        return path
    width, height = size
    rng = np.random.default_rng(seed)
    frames = int(round(minutes * 60 * fps))
    console.print(f"writing {path} ({frames} frames)...")
    tmp = path.with_suffix(".partial.mp4")
    t0, scene_end, bar = time.perf_counter(), -1, width // 16
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.options = {"preset": preset, "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        for i in range(frames):
            if i > scene_end:
                background, speed = scene_planes(rng, size), rng.uniform(0.1, 0.4)
                scene_end, shade = i + int(rng.uniform(10, 40) * fps), int(rng.integers(16, 235))
            picture = background.copy()
            x = int(((i / fps * speed) % 1.0) * (width - bar))
            picture[:height, x:x + bar] = shade
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = i
            container.mux(stream.encode(frame))
            if (i + 1) * 10 // frames > i * 10 // frames:
                console.print(f"  {(i + 1) * 100 // frames}% ({time.perf_counter() - t0:.0f} s)")
        container.mux(stream.encode())
    tmp.rename(path)
    return path


# -- timing --------------------------------------------------------------------------------
def timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], list[float], Any]:
    """Wall and CPU seconds (all threads) per call of ``fn`` over ``repeats`` calls, and the last
    call's result. On a shared machine CPU seconds measure the work; wall seconds include waiting."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, result


def decode_row(video: FileVideo, targets: np.ndarray, mode: str, short_side: int, repeats: int) -> dict[str, Any]:
    """Median seconds to decode ``targets`` in ``mode``, with what the frames were."""
    runs, cpu, frames = timed(lambda: list(video.frames_at(targets, short_side=short_side, mode=mode)), repeats)
    keys = video.keyframes.times - video._start
    times = np.array([f.time for f in frames])
    offsets = np.abs(times - targets[[f.index for f in frames]])
    on_key = np.isin(np.round(times, 4), np.round(keys, 4))
    return {
        "mode": mode, "used": video.last_mode, "seconds": statistics.median(runs), "runs": runs,
        "cpu_seconds": statistics.median(cpu), "cpu_runs": cpu,
        "frames": len(frames), "from_keyframes": int(on_key.sum()),
        "mean_offset": float(offsets.mean()), "max_offset": float(offsets.max()),
    }


def default_row(path: Path, short_side: int, repeats: int) -> dict[str, Any]:
    """Median decode seconds of ``hfs.select``'s default candidates (-n auto), its passes, and
    what the cost model said of the two first passes."""
    import hfs
    from hfs.candidates import DEFAULT_POLICY
    from hfs.candidates.coarse import coarse_costs
    from hfs.encoders.color import ColorNamesEncoder

    encoder = ColorNamesEncoder()
    encoder.short_side = short_side  # decode at the size the other rows use
    video = FileVideo(path)
    duration = video.info.duration
    scan, grid = coarse_costs(video, candidate_times(duration, DEFAULT_POLICY.coarse_count(duration)))
    runs = [hfs.select(path, "a red screen", k=16, encoder=encoder, use_cache=False) for _ in range(repeats)]
    return {"passes": runs[-1].passes, "model_scan_seconds": scan, "model_grid_seconds": grid,
            "decode_runs": [r.timing["decode"] for r in runs],
            "seconds": statistics.median(r.timing["decode"] for r in runs)}


def bench_video(path: Path, sizes: Sequence[int], modes: Sequence[str], k: int, short_side: int, repeats: int,
                seq_repeats: int) -> dict[str, Any]:
    video = FileVideo(path)
    t0 = time.perf_counter()
    keyframes = video.keyframes
    index_seconds = time.perf_counter() - t0
    duration = video.info.duration
    baseline = decode_row(video, candidate_times(duration, k), "seek", short_side, repeats)
    default = default_row(path, short_side, repeats)
    default["ratio"] = default["seconds"] / baseline["seconds"]
    console.print(f"  default -n auto: {default['seconds']:7.3f} s  {default['ratio']:6.2f}x  passes "
                  f"{[(p['name'], p['candidates']) for p in default['passes']]}; cost model: shot scan "
                  f"{default['model_scan_seconds']:.2f} s, grid {default['model_grid_seconds']:.2f} s")
    rows = []
    for n in sizes:
        targets = candidate_times(duration, n)
        for mode in modes:
            row = decode_row(video, targets, mode, short_side, seq_repeats if mode == "sequential" else repeats)
            row.update(n=n, ratio=row["seconds"] / baseline["seconds"],
                       cpu_ratio=row["cpu_seconds"] / baseline["cpu_seconds"])
            rows.append(row)
            console.print(f"  N={n:5d} {mode:10s} {row['seconds']:7.3f} s  {row['ratio']:6.2f}x  "
                          f"cpu {row['cpu_seconds']:7.3f} s  {row['cpu_ratio']:6.2f}x  "
                          f"(used {row['used']}, {row['from_keyframes']}/{row['frames']} keyframes)")
    return {
        "video": str(path), "duration": duration, "fps": video.info.fps,
        "size": [video.info.width, video.info.height], "keyframes": len(keyframes.times),
        "keyframe_interval": keyframes.interval(duration), "keyframe_index": keyframes.source,
        "index_seconds": index_seconds, "baseline": {"k": k, **baseline}, "default": default, "rows": rows,
    }


def print_tables(results: Sequence[dict[str, Any]]) -> None:
    for res in results:
        base = res["baseline"]
        table = Table(title=f"{Path(res['video']).name}: keyframe every {res['keyframe_interval']:.2f} s; "
                            f"uniform {base['k']} frames (seek) {base['seconds']:.3f} s, "
                            f"{base['cpu_seconds']:.3f} cpu s = 1x")
        for col in ("N", "mode", "auto chose", "seconds", "x uniform", "cpu s", "cpu x uniform", "from keyframes",
                    "offset mean/max s"):
            table.add_column(col, justify="right")
        for row in res["rows"]:
            table.add_row(str(row["n"]), row["mode"], row["used"] if row["mode"] == "auto" else "",
                          f"{row['seconds']:.3f}", f"{row['ratio']:.2f}",
                          f"{row['cpu_seconds']:.3f}", f"{row['cpu_ratio']:.2f}",
                          f"{row['from_keyframes']}/{row['frames']}",
                          f"{row['mean_offset']:.2f}/{row['max_offset']:.2f}")
        console.print(table)
        d = res["default"]
        passes = " + ".join(f"{p['name']} {p['candidates']}" for p in d["passes"])
        console.print(f"default -n auto ({passes}): decode {d['seconds']:.3f} s = {d['ratio']:.2f}x uniform; "
                      f"cost model: shot scan {d['model_scan_seconds']:.2f} s against grid "
                      f"{d['model_grid_seconds']:.2f} s")


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "hfs-bench-decode")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", type=_size, default=(1280, 720))
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--gops", default="60,250", help="keyframe intervals in frames, one video each")
    parser.add_argument("--preset", default="veryfast", help="libx264 preset of the generated videos")
    parser.add_argument("-n", "--num-candidates", default="128,256,600")
    parser.add_argument("-k", type=int, default=16, help="uniform sampling's frames (the baseline)")
    parser.add_argument("--short-side", type=int, default=224, help="frames are decoded at this short side")
    parser.add_argument("--modes", default=",".join(MODES), help="decode modes to time (default all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequential-repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video-only", action="store_true", help="only write the videos")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every figure here")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    gops = [int(g) for g in args.gops.split(",")]
    sizes = [int(n) for n in args.num_candidates.split(",")]
    paths = [make_video(args.data_dir, args.minutes, args.size, args.fps, g, args.preset, args.seed) for g in gops]
    if args.video_only:
        return 0
    results = []
    for path in paths:
        console.print(f"[bold]{path.name}[/bold]")
        results.append(bench_video(path, sizes, args.modes.split(","), args.k, args.short_side, args.repeats,
                                   args.sequential_repeats))
    print_tables(results)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "videos": results},
                                        indent=2))
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
