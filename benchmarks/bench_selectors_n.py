"""Selection time against the number of candidates N, for every registered selector.

An hour of video at about 3 frames per second is N = 10,000 candidates; every selector must
handle it. Each selector runs on the same random z-scores and unit embeddings (512-d, like
CLIP ViT-B/32) at each N; the figure is the median of ``--repeats`` runs, and the ratio is
against top-k measured in the same run, so the growth with N is visible per selector.

    python benchmarks/bench_selectors_n.py                       # N = 128, 1000, 10000; k = 16
    python benchmarks/bench_selectors_n.py --sizes 128,1000,10000,30000 -k 32 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from hfs.selection import create_selector, list_selectors


def time_selector(name: str, scores: np.ndarray, emb: np.ndarray, k: int, repeats: int) -> float:
    """Median seconds of ``create_selector(name).select`` (selector built outside the timing)."""
    selector = create_selector(name)
    times = np.arange(scores.size) / 3.0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        selector.select(scores, k, times=times, embeddings=emb)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="128,1000,10000", help="candidate counts N, comma-separated")
    parser.add_argument("-k", type=int, default=16)
    parser.add_argument("--dim", type=int, default=512, help="embedding size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write every figure here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    names = list_selectors()
    ms: dict[str, dict[int, float]] = {name: {} for name in names}
    for n in sizes:
        scores = rng.normal(size=n)
        emb = rng.normal(size=(n, args.dim))
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        for name in names:
            ms[name][n] = 1e3 * time_selector(name, scores, emb, args.k, args.repeats)
    table = Table(title=f"selection time (ms, median of {args.repeats}), k = {args.k}, {args.dim}-d embeddings")
    table.add_column("selector")
    for n in sizes:
        table.add_column(f"N={n}", justify="right")
        table.add_column("÷ topk", justify="right")
    table.add_column(f"growth {sizes[0]}→{sizes[-1]}", justify="right")
    for name in names:
        cells = []
        for n in sizes:
            cells += [f"{ms[name][n]:.2f}", f"{ms[name][n] / ms['topk'][n]:.1f}x"]
        table.add_row(name, *cells, f"{ms[name][sizes[-1]] / ms[name][sizes[0]]:.1f}x")
    Console().print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"k": args.k, "dim": args.dim, "repeats": args.repeats, "ms": ms}, f, indent=1)


if __name__ == "__main__":
    main()
