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
    python benchmarks/bench_decode.py --short --size 640x360 --fps 25    # issue 24's short-video table

``--short``: one video per length (``--short-minutes``, default 1, 3, 10) and keyframe interval
(``--short-gops`` seconds, default 1, 2.4, 10); for each, uniform sampling's 16 frames as
``hfs select --selector uniform -n 16`` decodes them (the baseline; seek mode for reference) and the
default ``-n auto`` candidates with and without the short-video budget (``hfs.candidates.budget``),
in CPU seconds spent decoding (and of the whole ``hfs.select``), each as a ratio to the baseline of
the same run.
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


class DecodeClock:
    """CPU seconds spent inside ``FileVideo``'s decoding generators (``frames_at``, ``decoded_frames``:
    demuxing, decoding, converting), so the default's decoding is measured apart from opening the
    file, embedding and selecting. Installed for the ``with`` block only."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed_frames(*args: Any, **kwargs: Any) -> Any:
            frames = method(*args, **kwargs)
            while True:
                t0 = time.process_time()
                try:
                    frame = next(frames)
                except StopIteration:
                    self.seconds += time.process_time() - t0
                    return
                self.seconds += time.process_time() - t0
                yield frame

        return timed_frames

    def __enter__(self) -> "DecodeClock":
        self._saved = FileVideo.frames_at, FileVideo.decoded_frames
        FileVideo.frames_at, FileVideo.decoded_frames = (self._wrap(m) for m in self._saved)
        return self

    def __exit__(self, *exc: Any) -> None:
        FileVideo.frames_at, FileVideo.decoded_frames = self._saved


def short_row(path: Path, short_side: int, repeats: int) -> dict[str, Any]:
    """A short video: uniform sampling's 16 frames (auto mode, as ``hfs select --selector uniform -n 16``
    decodes them; seek for reference) against the default ``-n auto`` candidates with and without the
    short-video budget (``AdaptivePolicy.short_cost_factor`` 0), in decode CPU seconds (``DecodeClock``)
    and in CPU seconds of the whole ``hfs.select`` (the same call with ``selector="uniform", num_candidates=16``
    for the baseline). Medians of ``repeats``; the methods take turns."""
    import dataclasses

    import hfs
    from hfs.candidates import DEFAULT_POLICY
    from hfs.encoders.color import ColorNamesEncoder

    encoder = ColorNamesEncoder()
    encoder.short_side = short_side
    video = FileVideo(path)
    duration = video.info.duration
    uniform = candidate_times(duration, 16)
    policies = {"default": DEFAULT_POLICY, "no budget": dataclasses.replace(DEFAULT_POLICY, short_cost_factor=0.0)}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ("uniform", "uniform seek", *policies)}
    passes = {}
    for _ in range(repeats):
        for name in runs:
            with DecodeClock() as clock:
                c0 = time.process_time()
                if name == "uniform seek":
                    list(FileVideo(path).frames_at(uniform, short_side=short_side, mode="seek"))
                elif name == "uniform":
                    hfs.select(path, "a red screen", k=16, num_candidates=16, selector="uniform", encoder=encoder,
                               use_cache=False)
                else:
                    sel = hfs.select(path, "a red screen", k=16, encoder=encoder, use_cache=False,
                                     policy=policies[name])
                    passes[name] = sel.passes
            runs[name].append((clock.seconds, time.process_time() - c0))
    out: dict[str, Any] = {"video": str(path), "duration": duration, "size": [video.info.width, video.info.height],
                           "keyframe_interval": video.keyframes.interval(duration), "fps": video.info.fps}
    base = statistics.median(d for d, _ in runs["uniform"])
    base_total = statistics.median(t for _, t in runs["uniform"])
    for name, pairs in runs.items():
        decode, total = statistics.median(d for d, _ in pairs), statistics.median(t for _, t in pairs)
        out[name] = {"decode_cpu": decode, "select_cpu": total, "ratio": decode / base,
                     "select_ratio": total / base_total, "passes": passes.get(name), "runs": pairs}
    return out


def print_short_table(rows: Sequence[dict[str, Any]]) -> None:
    table = Table(title="short videos: decode CPU seconds, ratio to uniform's 16 frames in the same run")
    for col in ("video", "keyframe every", "uniform 16", "default", "x uniform", "candidates", "select x uniform",
                "no budget", "x uniform ", "candidates "):
        table.add_column(col, justify="left" if col == "video" else "right")
    for r in rows:
        d, nb = r["default"], r["no budget"]
        table.add_row(f"{r['duration']:.0f} s {r['size'][0]}x{r['size'][1]}", f"{r['keyframe_interval']:.1f} s",
                      f"{r['uniform']['decode_cpu']:.3f}", f"{d['decode_cpu']:.3f}", f"{d['ratio']:.2f}",
                      " + ".join(f"{p['name']} {p['candidates']}" for p in d["passes"]), f"{d['select_ratio']:.2f}",
                      f"{nb['decode_cpu']:.3f}", f"{nb['ratio']:.2f}",
                      " + ".join(f"{p['name']} {p['candidates']}" for p in nb["passes"]))
    console.print(table)


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
    parser.add_argument("--short", action="store_true",
                        help="the short-video table: one video per --short-minutes x --short-gops (keyframe interval "
                             "in seconds), default -n auto with and without its budget against uniform's 16 frames")
    parser.add_argument("--short-minutes", default="1,3,10")
    parser.add_argument("--short-gops", default="1,2.4,10", help="keyframe intervals in seconds")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every figure here")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.short:
        paths = [make_video(args.data_dir, float(m), args.size, args.fps, int(round(float(g) * args.fps)), args.preset,
                            args.seed)
                 for m in args.short_minutes.split(",") for g in args.short_gops.split(",")]
        if args.video_only:
            return 0
        rows = []
        for path in paths:
            rows.append(short_row(path, args.short_side, args.repeats))
            d = rows[-1]["default"]
            console.print(f"{path.name}: default {d['ratio']:.2f}x uniform-16 decode CPU, no budget "
                          f"{rows[-1]['no budget']['ratio']:.2f}x")
        print_short_table(rows)
        write_json(args, "short", rows)
        return 0
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
    write_json(args, "videos", results)
    return 0


def write_json(args: argparse.Namespace, key: str, results: Any) -> None:
    """Every figure, with the arguments, into ``--json`` when given."""
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, key: results}, indent=2))
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
