"""Videos per minute of `hfs embed` (local process pool, Ray Data in local mode) against one `hfs.select` per video.

    PYTHONPATH=. python benchmarks/bench_embed.py                 # 12 one-minute 640x360 videos, N = 128
    PYTHONPATH=. python benchmarks/bench_embed.py --videos 24 --encoder clip-vit-b-32 --ray-actors 1,2

Every variant starts from an empty cache, so each decodes and embeds every video once. Ray is
started before its timings (as a cluster would be); its times include starting the actors.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import hfs
from hfs.cache import EmbeddingCache
from hfs.embed import embed_corpus, embed_corpus_ray
from hfs.embed.ray_engine import init_ray
from hfs.encoders import create_encoder
from hfs.video.synth import Scene, write_video

COLOURS = ["red", "blue", "green", "yellow", "white", "black"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each video")
    parser.add_argument("-n", "--num-candidates", type=int, default=128)
    parser.add_argument("--encoder", default="tiny-random-clip")
    parser.add_argument("--workers", default="1,2", help="decoding processes to try, comma-separated")
    parser.add_argument("--ray-actors", default="1,2",
                        help="Ray embedding actors to try, comma-separated ('' for none)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hfs-bench-embed-"))
    scene = args.seconds / len(COLOURS)
    videos = [write_video(root / f"v{i}.mp4", [Scene(COLOURS[(i + j) % 6], scene) for j in range(6)], fps=25,
                          size=(640, 360)) for i in range(args.videos)]
    encoder = create_encoder(args.encoder)
    t0 = time.perf_counter()
    for video in videos:
        hfs.select(video, "a red screen", k=16, num_candidates=args.num_candidates, encoder=encoder,
                   cache_dir=root / "one-by-one")
    base = 60.0 * len(videos) / (time.perf_counter() - t0)
    print(f"{len(videos)} videos of {args.seconds:g} s at 640x360, N = {args.num_candidates}, encoder {encoder.name}")
    print(f"  hfs.select one by one: {base:.1f} videos/min (1.00x)")
    for workers in (int(w) for w in args.workers.split(",")):
        report = embed_corpus(videos, encoder, args.num_candidates, EmbeddingCache(root / f"pool-{workers}"),
                              workers=workers, progress=False)
        rate = report.videos_per_minute
        print(f"  hfs embed, {workers} decoding process(es): {rate:.1f} videos/min ({rate / base:.2f}x)")
    actors = [int(a) for a in args.ray_actors.split(",") if a]
    if actors:
        init_ray(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    for n in actors:
        report = embed_corpus_ray(videos, encoder, args.num_candidates, EmbeddingCache(root / f"ray-{n}"), actors=n,
                                  progress=False)
        rate = report.videos_per_minute
        print(f"  hfs embed --engine ray (local), {n} actor(s): {rate:.1f} videos/min ({rate / base:.2f}x)")


if __name__ == "__main__":
    main()
