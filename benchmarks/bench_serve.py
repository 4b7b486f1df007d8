"""Per-question latency that ``hfs serve`` adds, on a warm video and a cold one, against a client
that sends the upstream k uniform frames itself; all in the same run, on the same video.

What is measured (median of ``--repeats`` questions each, seconds):

1. **uniform, direct**: the client decodes k uniformly spaced frames (``candidate_times``), encodes
   them as JPEG image parts with their times (``hfs.export.openai_content``'s form) and posts the
   request to the upstream. This is what a client does without hfs.
2. **upstream alone**: posting the very request hfs forwarded for the warm question, straight to
   the upstream (JSON, loopback HTTP, the upstream's own time): the floor of both paths.
3. **hfs serve, warm**: the client posts the video's path and a question to ``hfs serve``, which
   chooses k frames and forwards them. Warm: the video was asked about before (its embeddings are
   in the cache and its candidate frames in memory); every repeat asks a new question.
4. **hfs serve, cold**: the same for a video never seen: the embedding cache and the frames in
   memory are cleared before each repeat, so the candidates are decoded and embedded.

Warm, upstream alone and uniform are interleaved question by question, so that other load on the
machine hits them alike. "Added" is, warm, the median of each question's warm minus upstream-alone
time, and, cold, the cold median minus the upstream-alone median; the ratio is each figure over
"uniform, direct".
The upstream is an OpenAI-compatible server of this script's own that decodes the images it is
sent and answers at once, so its time is the transport's, not a model's: what is left is what hfs
adds. Everything runs in this process (uvicorn servers in threads) on loopback.

Encoder: ``--encoder``, else the default CLIP if its weights are here, else tiny-random-clip (its
"encode" is then not a real CLIP's cost). The video is bench_select.py's synthetic one.

    python benchmarks/bench_serve.py                       # 2 min video, 640x360, k = 16
    python benchmarks/bench_serve.py --minutes 10 --size 1280x720 --json serve.json
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from PIL import Image
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from bench_select import parse_size, pick_encoder, synthetic_video  # noqa: E402

from hfs.config import SelectConfig  # noqa: E402
from hfs.export import image_parts, jpeg_base64  # noqa: E402
from hfs.serve import ServeConfig  # noqa: E402
from hfs.serve.app import create_app  # noqa: E402
from hfs.serve.background import BackgroundServer  # noqa: E402
from hfs.serve.frames import FrameEngine  # noqa: E402
from hfs.video import candidate_times, open_video  # noqa: E402

console = Console(soft_wrap=True)
QUESTIONS = [f"When is the screen {colour}?" for colour in
             ("red", "green", "blue", "yellow", "white", "black", "orange", "purple", "cyan", "magenta", "grey")]


def echo_upstream(last: list[dict[str, Any]]) -> FastAPI:
    """An OpenAI-compatible server that decodes every image it is sent and answers at once; the
    last body it received is kept in ``last``."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        last[:] = [body]
        images = 0
        for message in body["messages"]:
            for part in message["content"] if isinstance(message["content"], list) else []:
                if part["type"] == "image_url":
                    Image.open(io.BytesIO(base64.b64decode(part["image_url"]["url"].split(",", 1)[1]))).load()
                    images += 1
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": f"{images} frames"}}]}

    return app


def uniform_request(path: Path, question: str, k: int, short_side: int) -> dict[str, Any]:
    """What a client sends without hfs: k uniform frames as image parts with their times."""
    source = open_video(path)
    times = candidate_times(source.info.duration, k)
    frames = source.frames_at(times, short_side=short_side, unique=False, tolerance=0)
    parts = image_parts([jpeg_base64(frame.image) for frame in frames], [frame.time for frame in frames])
    parts.append({"type": "text", "text": question})
    return {"model": "m", "messages": [{"role": "user", "content": parts}]}


def hfs_request(path: Path, question: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "video_url", "video_url": {"url": f"file://{path}"}}, {"type": "text", "text": question}]}]}


def timed(calls: Sequence[Callable[[], Any]], before: Callable[[], None] | None = None) -> list[float]:
    out = []
    for call in calls:
        if before is not None:
            before()
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def post(client: httpx.Client, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{url}/chat/completions", json=body, timeout=600)
    response.raise_for_status()
    return response.json()


def run(args: argparse.Namespace) -> dict[str, Any]:
    video = synthetic_video(Path(args.workdir), args.minutes, parse_size(args.size), args.fps, args.gop, args.scenes,
                            args.seed)
    encoder, note = pick_encoder(args.encoder)
    if note:
        console.print(f"note: {note}")
    cache = Path(tempfile.mkdtemp(prefix="hfs-bench-serve-"))
    questions = (QUESTIONS * (args.repeats // len(QUESTIONS) + 1))[:args.repeats]
    last: list[dict[str, Any]] = []
    with BackgroundServer(echo_upstream(last)) as upstream, httpx.Client() as client:
        config = ServeConfig(upstream=upstream.url, video_root=str(video.parent), short_side=args.short_side,
                             select=SelectConfig(k=args.k, num_candidates=args.num_candidates,
                                                 cache_dir=str(cache / "embeddings")))
        engine = FrameEngine(config, encoder=encoder)
        with BackgroundServer(create_app(config, engine=engine)) as proxy:
            def clear() -> None:
                shutil.rmtree(cache / "embeddings", ignore_errors=True)
                engine.jpegs.clear()

            # warm-up: imports, first connections, then a cold run whose result is discarded
            post(client, upstream.url, uniform_request(video, questions[0], args.k, args.short_side))
            post(client, proxy.url, hfs_request(video, questions[0]))
            cold = timed([lambda q=q: post(client, proxy.url, hfs_request(video, q)) for q in questions], before=clear)
            post(client, proxy.url, hfs_request(video, "warm-up"))
            time.sleep(0.5)
            while engine.prefetching:  # the candidates' JPEGs, kept for the next question
                time.sleep(0.05)
            warm, alone, uniform = [], [], []
            for q in questions:  # interleaved, so that load on the machine hits all three alike
                warm += timed([lambda: post(client, proxy.url, hfs_request(video, q))])
                forwarded = dict(last[0])  # what hfs sent: the same request, straight to the upstream
                alone += timed([lambda: post(client, upstream.url, forwarded)])
                uniform += timed([lambda: post(client, upstream.url,
                                               uniform_request(video, q, args.k, args.short_side))])
            answer = post(client, proxy.url, hfs_request(video, questions[0]))
    shutil.rmtree(cache, ignore_errors=True)
    med = {name: statistics.median(values) for name, values in
           {"uniform_direct": uniform, "upstream_alone": alone, "hfs_warm": warm, "hfs_cold": cold}.items()}
    return {"video": str(video), "duration": open_video(video).info.duration, "k": args.k,
            "num_candidates": answer["hfs"]["num_candidates"], "encoder": encoder.name, "repeats": args.repeats,
            "median_seconds": med,
            "added_seconds": {"hfs_warm": statistics.median(w - a for w, a in zip(warm, alone)),
                              "hfs_cold": med["hfs_cold"] - med["upstream_alone"]},
            "ratio_to_uniform_direct": {n: med[n] / med["uniform_direct"] for n in med}, "note": note}


def report(res: dict[str, Any]) -> None:
    table = Table(title=f"{Path(res['video']).name} ({res['duration']:.0f} s): k={res['k']}, "
                        f"{res['num_candidates']} candidates, encoder {res['encoder']}, median of {res['repeats']}")
    for col in ("path", "ms", "added ms", "x uniform"):
        table.add_column(col, justify="left" if col == "path" else "right", no_wrap=True)
    labels = {"uniform_direct": "uniform, direct", "upstream_alone": "upstream alone",
              "hfs_warm": "hfs serve, warm", "hfs_cold": "hfs serve, cold"}
    for name, label in labels.items():
        added = res["added_seconds"].get(name)
        table.add_row(label, f"{1000 * res['median_seconds'][name]:.1f}",
                      "" if added is None else f"{1000 * added:.1f}", f"{res['ratio_to_uniform_direct'][name]:.2f}")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--gop", type=int, default=250)
    ap.add_argument("--scenes", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-k", type=int, default=16)
    ap.add_argument("-n", "--num-candidates", default="auto", help="auto (default) or N")
    ap.add_argument("--short-side", type=int, default=448, help="px of the frames sent upstream (default 448)")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--encoder", default=None)
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "hfs-bench"))
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if args.num_candidates != "auto":
        args.num_candidates = int(args.num_candidates)
    res = run(args)
    report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
