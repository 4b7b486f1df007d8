"""Start-up of the ``hfs`` command against ``python -c pass``, measured in the same run (issue 24).

Each row runs a fresh interpreter ``--repeats`` times and reports the median wall time and its
ratio to the median of ``python -c pass``:

- ``import hfs``; ``hfs --version``; ``hfs --help``; ``hfs select --help``; an argparse error
  (``hfs select`` without ``-q``): none of these should load torch, so each should cost at most
  10x ``python -c pass`` (issue 24's goal: ``hfs --help`` under 0.3 s on a quiet machine);
- ``hfs select --json`` answered from the embedding cache with the weight-free ``color-names``
  encoder (a question on a seen video), beside the same call made in a warm process: the gap is
  what start-up still costs;
- ``python -c "import torch"``, for scale: what every command paid before.

``hfs`` runs as its console script does (``from hfs.cli import main; sys.exit(main())``), with the
hfs that this interpreter imports (set ``PYTHONPATH`` to compare two checkouts). The video is a
generated 12 s clip in ``--workdir``. Bytecode is written (``PYTHONDONTWRITEBYTECODE`` is dropped for
the children) and each row has one untimed run first, as an installed package would have.

    python benchmarks/bench_startup.py                  # 11 runs per row
    python benchmarks/bench_startup.py --repeats 21 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = "import sys; from hfs.cli import main; sys.exit(main())"  # what pip's `hfs` script does


def wall(argv: list[str], repeats: int, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> list[float]:
    """Seconds of each of ``repeats`` runs of ``argv`` after one untimed run (which writes the bytecode
    and warms the disk cache); every run must exit with a status in ``ok``."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in ok:
            raise SystemExit(f"bench_startup: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return times[1:]


def in_process_select(argv: list[str], repeats: int) -> list[float]:
    """Seconds of ``hfs.cli.main(argv)`` in this (warm) process: the library's own cost."""
    import contextlib
    import io

    from hfs.cli import main

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=11, help="runs per row (median reported; default 11)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hfs-bench-startup",
                        help="where the clip and its embedding cache go")
    parser.add_argument("--no-torch-row", action="store_true", help="skip timing `import torch`")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()

    from hfs.video.synth import Scene, write_video

    args.workdir.mkdir(parents=True, exist_ok=True)
    video = args.workdir / "clip.mp4"
    if not video.is_file():
        write_video(video, [Scene("red", 4), Scene("blue", 4), Scene("green", 4)], fps=10, size=(128, 80))
    cache = args.workdir / "cache"
    env = {**os.environ, "HFS_CACHE_DIR": str(args.workdir / "hfs-cache"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed hfs has its bytecode: compiling each run is not start-up
    py = [sys.executable]
    hfs = [*py, "-c", SCRIPT]
    select = ["select", str(video), "-q", "when is the screen red?", "--encoder", "color-names", "-k", "4",
              "--json", "--cache-dir", str(cache)]
    subprocess.run([*hfs, *select], env=env, stdout=subprocess.DEVNULL, check=True)  # fill the cache

    rows: list[tuple[str, list[float]]] = [("python -c pass", wall([*py, "-c", "pass"], args.repeats, env))]
    rows += [
        ("import hfs", wall([*py, "-c", "import hfs"], args.repeats, env)),
        ("hfs --version", wall([*hfs, "--version"], args.repeats, env)),
        ("hfs --help", wall([*hfs, "--help"], args.repeats, env)),
        ("hfs select --help", wall([*hfs, "select", "--help"], args.repeats, env)),
        ("hfs select (argparse error)", wall([*hfs, "select", str(video)], args.repeats, env, ok=(2,))),
        ("hfs select, cache hit, color-names", wall([*hfs, *select], args.repeats, env)),
        ("  the same select in a warm process", in_process_select(select, args.repeats)),
    ]
    if not args.no_torch_row:
        rows.append(("python -c 'import torch' (for scale)", wall([*py, "-c", "import torch"], args.repeats, env)))

    base = statistics.median(rows[0][1])
    results = []
    print(f"{'what':40s} {'median s':>9s} {'x python':>9s}   (median of {args.repeats}; {os.cpu_count()} cores)")
    for name, times in rows:
        median = statistics.median(times)
        results.append({"what": name.strip(), "median_s": median, "ratio": median / base, "runs": times})
        print(f"{name:40s} {median:9.3f} {median / base:9.1f}")
    if args.json:
        args.json.write_text(json.dumps({"repeats": args.repeats, "python": sys.version.split()[0],
                                         "rows": results}, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
