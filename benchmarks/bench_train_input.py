"""Steps per second of `hfs train` with the videos read in the training process or in DataLoader workers.

    python benchmarks/bench_train_input.py                    # 0 (in-process) against 2 workers
    python benchmarks/bench_train_input.py --workers 0,2,4 --steps 30 --json out.json

Tiny student and teacher (as the tests build them) and the weight-free colour encoder, so
decoding dominates: each question has its own generated video (no decoded frames to reuse),
whose candidates the teacher needs at its resolution. The embedding cache is filled first
(`hfs embed`), as a real run would find it. Each variant is a fresh `python -m hfs.train` on the
same config but for ``data.num_workers``; its speed is read from log.jsonl's step times (the
first step, which includes the workers' start, is left out), with the mean seconds per step the
loop waited for its inputs (``data_wait_s``: the stall the workers are there to remove).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

COLOURS = ["red", "blue", "green", "yellow", "white", "black"]


def _videos(root: Path, count: int, seconds: float, size: tuple[int, int]) -> list[Path]:
    from hfs.video.synth import Scene, write_video

    root.mkdir(parents=True, exist_ok=True)
    scene = seconds / len(COLOURS)
    return [write_video(root / f"v{i}.mp4", [Scene(COLOURS[(i + j) % 6], scene) for j in range(6)], fps=25,
                        size=size) for i in range(count)]


def _annotations(path: Path, videos: list[Path]) -> None:
    """LLaVA-Video-178K records: one multiple-choice question per video."""
    records = [{"id": f"q{i}", "video": v.name, "conversations": [
        {"from": "human", "value": "What colour is the screen at first?\n"
         + "\n".join(f"{letter}. {c}" for letter, c in zip("ABCD", COLOURS[:4]))},
        {"from": "gpt", "value": "ABCD"[i % 4] + "."}]} for i, v in enumerate(videos)]
    path.write_text(json.dumps(records))


def run_variant(config: dict, work: Path, workers: int) -> dict:
    """One `hfs train` run with ``workers`` DataLoader workers: steps/s and data wait per step."""
    out = work / f"run-{workers}"
    path = work / f"train-{workers}.yaml"
    path.write_text(yaml.safe_dump({**config, "output_dir": str(out)}))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "hfs.train", str(path), "--num-workers", str(workers)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"hfs train with {workers} workers failed:\n{proc.stderr[-2000:]}")
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    times = [r["time"] for r in log]
    waits = [r["data_wait_s"] for r in log[1:]]
    return {"workers": workers, "steps": len(log), "steps_per_s": (len(log) - 1) / (times[-1] - times[0]),
            "data_wait_s_per_step": sum(waits) / len(waits), "first_step_wait_s": log[0]["data_wait_s"],
            "wall_s": round(wall, 2), "final_loss": log[-1]["loss"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="0,2", help="data.num_workers to try, comma-separated; the first is "
                                                         "the baseline")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("-n", "--num-candidates", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each video")
    parser.add_argument("--size", default="640x360", help="video width x height")
    parser.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    args = parser.parse_args(argv)
    from hfs.cache import EmbeddingCache
    from hfs.embed import embed_corpus
    from hfs.encoders.color import ColorNamesEncoder
    from hfs.reasoning import build_tiny_qwen2_vl
    from hfs.student import build_tiny_qwen2

    work = Path(tempfile.mkdtemp(prefix="hfs-bench-train-input-"))
    width, height = (int(v) for v in args.size.split("x"))
    count = args.steps * args.batch_size
    videos = _videos(work / "videos", count, args.seconds, (width, height))
    _annotations(work / "train.json", videos)
    cache = work / "cache"
    embed_corpus(videos, ColorNamesEncoder(), args.num_candidates, EmbeddingCache(cache), workers=1, progress=False)
    config = {
        "k": 4, "supervision": "ce+kl", "teacher": str(build_tiny_qwen2_vl(work / "teacher", seed=0)),
        "max_steps": args.steps, "batch_size": args.batch_size, "checkpoint_every": 0, "warmup_steps": 1,
        "student": {"base_lm": str(build_tiny_qwen2(work / "student", seed=0)), "frame_dim": 3,
                    "encoder": "color-names"},
        "data": {"format": "llava-video", "files": [str(work / "train.json")], "root": str(work / "videos"),
                 "num_candidates": args.num_candidates, "cache_dir": str(cache)},
    }
    print(f"{count} videos of {args.seconds:g} s at {width}x{height}, N = {args.num_candidates}, {args.steps} steps "
          f"of {args.batch_size}; {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the start")
    results = [run_variant(config, work, int(w)) for w in args.workers.split(",")]
    base = results[0]
    for r in results:
        r["speedup"] = r["steps_per_s"] / base["steps_per_s"]
        print(f"  num_workers={r['workers']}: {r['steps_per_s']:.3f} steps/s ({r['speedup']:.2f}x), waiting "
              f"{r['data_wait_s_per_step']:.3f} s/step for inputs (first step {r['first_step_wait_s']:.2f} s), "
              f"final loss {r['final_loss']:.6f}")
    if args.json:
        report = {"videos": count, "seconds": args.seconds, "size": args.size, "num_candidates": args.num_candidates,
                  "steps": args.steps, "batch_size": args.batch_size, "cpu_cores": os.cpu_count(),
                  "load_average": os.getloadavg()[0], "results": results}
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
