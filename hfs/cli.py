"""The ``hfs`` command: a thin layer over the library API."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hfs import __version__, startup  # startup first: Ctrl-C while the rest loads is one line
from hfs.candidates.policy import COARSE_PASSES
from hfs.config import MAX_CANDIDATES, ObjectiveConfig, SelectConfig, load_yaml
from hfs.data.benchmarks import list_benchmarks
from hfs.encoders import DEFAULT_ENCODER, list_encoders
from hfs.errors import HfsError, InputError, describe_os_error
from hfs.export import FORMATS as EXPORT_FORMATS
from hfs.selection import list_selectors
from hfs.validation import FieldError, short_repr
from hfs.validation import int_in as _int_in
from hfs.video.modes import DECODE_MODES

IMAGE_FPS = (1e-3, 1e3)  # frame rate of an image folder: from one frame in 1000 s to 1000 frames a second
MAX_SEED = 2**32 - 1  # numpy's legacy seeding takes no more
MAX_GENERATED_VIDEOS = 10_000


def _positive_int(text: str) -> int:
    return _int_in(1)(text)


_seed = _int_in(0, MAX_SEED)
_candidates = _int_in(1, MAX_CANDIDATES)


def _candidates_or_auto(text: str) -> int | str:
    """An argparse type: a number of candidates, or "auto" (adaptive candidates)."""
    from hfs.candidates import check_num_candidates

    try:
        return check_num_candidates(text, "", MAX_CANDIDATES)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None


def _float_in(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a number between {low:g} and {high:g}, got {text}")
        return value

    return parse


def _finite_float(text: str) -> float:
    """An argparse type: a finite number (the range is the config's to check)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _int_list(text: str) -> list[int]:
    values = [_candidates(part) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


def _names(text: str, flag: str) -> list[str]:
    """The names of a comma-separated flag value; none at all is an InputError."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InputError(f"{flag}: expected comma-separated names, got {text!r}")
    return names


def _usable_dir(path: str, flag: str) -> Path:
    """``path`` as a folder hfs can write into (created if missing), or one InputError naming the
    flag: it is a file, it lies under a file, or it cannot be created or written."""
    folder = Path(path)
    if "\x00" in path or not path.strip():
        raise InputError(f"{flag} {path!r}: not a usable folder name")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{flag} {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{flag} {folder}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {folder}: the folder is not writable")
    return folder


def _seed_list(text: str) -> list[int]:
    try:
        values = [_seed(part) for part in text.split(",") if part.strip()]
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error on one line (``hfs select: error: ...``), not the whole usage
    block above it; ``--help`` still prints the usage. Subcommand parsers are of this class too."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hfs", description="Pick the frames of a video a multimodal LLM should see to answer a question.",
    )
    parser.add_argument("--version", action="version", version=f"hfs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("select", help="choose the k frames of a video that answer a question",
                       description="Choose the k frames of VIDEO that best answer QUESTION.")
    p.add_argument("video", metavar="VIDEO", help="video file, or a folder of images (one per frame)")
    p.add_argument("-q", "--question", required=True, help="the question to answer")
    p.add_argument("--options", nargs="+", metavar="OPTION", help="answer options, e.g. --options 'a ball' 'a cup'")
    p.add_argument("-k", type=_positive_int, default=None, help="number of frames to choose (default 16)")
    p.add_argument("-n", "--num-candidates", type=_candidates_or_auto, default=None,
                   help="candidate frames: auto (default: a frame per shot, or a grid that follows the video's "
                        "length refined around the best-scoring frames) or N segment midpoints (the paper's 128; "
                        f"at most {MAX_CANDIDATES})")
    p.add_argument("--first-pass", choices=COARSE_PASSES, default=None,
                   help="-n auto's first pass: shots (one pass over the reference frames, a candidate at every cut), "
                        "grid, or auto (default: the cheaper for this video)")
    p.add_argument("--selector", choices=list_selectors(), default=None,
                   help="selection rule (default greedy; topk with --checkpoint)")
    p.add_argument("--checkpoint", metavar="DIR", help="score frames with a trained HFS student saved in DIR")
    p.add_argument("--encoder", default=None,
                   help=f"image-text model: a name ({', '.join(list_encoders())}), a folder or a hub name "
                        f"(default {DEFAULT_ENCODER}, or $HFS_ENCODER)")
    p.add_argument("--out", metavar="DIR", help="write selection.json, frames/, contact_sheet.png, timeline.png")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--format", choices=["table", "json", *EXPORT_FORMATS], default=None,
                   help="what to print: table (default), json (as --json), openai (a chat message's content: "
                        "each frame's time and the frame as a base64 JPEG), vllm (a vLLM request body: the frames "
                        "as one JPEG-sequence video, with media_io_kwargs giving their source indices, the source "
                        "fps, frame count and duration); not with --json")
    p.add_argument("--config", metavar="YAML", help="SelectConfig values (flags given here win)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    p.add_argument("--cache-dir", metavar="DIR", help="embedding cache folder (default ~/.cache/hfs/embeddings)")
    p.add_argument("--image-fps", type=_float_in(*IMAGE_FPS), default=1.0,
                   help="frame rate of an image folder (default 1)")
    p.add_argument("--decode-mode", choices=DECODE_MODES, default=None,
                   help="how candidates are decoded: seek, sequential, keyframe (a keyframe near a candidate "
                        "stands in for it) or auto (default: the cheapest for this video)")
    p.add_argument("--offline", action="store_true", help="never download: use only models already in the Hugging "
                   "Face cache (as HF_HUB_OFFLINE=1); by default a missing model is fetched on first use")
    p.add_argument("--allow-download", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    p.add_argument("--seed", type=_seed, default=None, help="seed for random selectors (default 0)")
    p.add_argument("--objective", choices=sorted(ObjectiveConfig.PRESETS), default=None,
                   help="constants of greedy's objective F (default calibrated; paper: the paper's)")
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("bench", help="rank every selector on the synthetic evidence benchmark",
                       description="Generate videos with known evidence frames and compare every selector on "
                                   "the same candidates and scores: evidence recall, coverage, redundancy, time.")
    # ranges and the cap on the set's size: BenchConfig (hfs.eval.bench), reported with the flag's name
    p.add_argument("--videos", type=_positive_int, default=12, help="number of generated videos (default 12)")
    p.add_argument("--duration", type=_finite_float, default=24.0, help="seconds per video (default 24)")
    p.add_argument("--fps", type=_finite_float, default=4.0,
                   help="frame rate of the generated videos (default 4, from 0.1 to 240)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the generated set (default 0)")
    p.add_argument("--multi-share", type=_finite_float, default=0.5,
                   help="share of questions with two evidence events, 0 to 1 (default 0.5)")
    p.add_argument("-k", "--k", type=_int_list, default=[8, 16, 32], help="budgets, comma-separated (default 8,16,32)")
    p.add_argument("--selector", default="all", help="selectors, comma-separated, or 'all' (default)")
    p.add_argument("-n", "--num-candidates", type=_candidates, default=128, help="candidates per video (default 128)")
    p.add_argument("--encoder", default=None,
                   help=f"image-text model scoring the frames (default {DEFAULT_ENCODER}; offline without weights: "
                        "color-names)")
    p.add_argument("--data-dir", metavar="DIR", help="where the videos are written (default: the hfs cache)")
    p.add_argument("--out", metavar="DIR", default="hfs-bench", help="bench.md, bench.json, bench.png (default hfs-bench)")
    p.add_argument("--traces", action="store_true",
                   help="simulated score traces (evidence laid out as in KFS-Bench) instead of generated videos")
    p.add_argument("--questions", type=_positive_int, default=500, help="--traces: questions per seed (default 500)")
    p.add_argument("--layout", choices=["kfs", "uniform"], default="kfs",
                   help="--traces: evidence layout, KFS-Bench's (default) or 1-3 uniform 2-20 s events")
    p.add_argument("--seeds", type=_seed_list, default=None,
                   help="--traces: report seeds, comma-separated (default 100,101,102,103,104)")
    p.add_argument("--objective", choices=sorted(ObjectiveConfig.PRESETS), default="calibrated",
                   help="constants of greedy's objective F (default calibrated)")
    p.add_argument("--offline", action="store_true", help="never download: use only models already in the Hugging "
                   "Face cache (as HF_HUB_OFFLINE=1); by default a missing model is fetched on first use")
    p.add_argument("--allow-download", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("answer", help="answer a multiple-choice question about a video from the selected frames",
                       description="Select k frames of VIDEO for the question, then let a multimodal LLM "
                                   "(Qwen2-VL, Qwen2.5-VL, LLaVA-OneVision, LLaVA-Video) pick an option from them.")
    p.add_argument("video", metavar="VIDEO", help="video file, or a folder of images")
    p.add_argument("-q", "--question", required=True, help="the question")
    p.add_argument("--options", nargs="+", required=True, metavar="OPTION", help="the answer options")
    p.add_argument("--model", required=True, metavar="NAME_OR_PATH", help="multimodal LLM: a local folder or hub name")
    p.add_argument("-k", type=_positive_int, default=16, help="frames shown to the model (default 16)")
    p.add_argument("-n", "--num-candidates", type=_candidates_or_auto, default="auto",
                   help="candidates: auto (default, adaptive) or N segment midpoints")
    p.add_argument("--selector", choices=list_selectors(), default=None, help="selection rule (default greedy)")
    p.add_argument("--checkpoint", metavar="DIR", help="score frames with a trained HFS student")
    p.add_argument("--encoder", default=None, help=f"image-text model scoring the frames (default {DEFAULT_ENCODER})")
    p.add_argument("--image-fps", type=_float_in(*IMAGE_FPS), default=1.0,
                   help="frame rate of an image folder (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--allow-download", action="store_true",
                   help="let the answering model's hub name download its weights (the image-text model is fetched "
                        "on first use anyway)")
    p.add_argument("--offline", action="store_true", help="never download (as HF_HUB_OFFLINE=1)")
    p.set_defaults(func=cmd_answer)

    p = sub.add_parser("eval", help="accuracy of a video LLM with each selector's frames on a benchmark",
                       description="Evaluate every selector at every k on one benchmark with one answerer; "
                                   "resumable; shard with `accelerate launch -m hfs.cli eval ...`.")
    p.add_argument("--benchmark", required=True, choices=list_benchmarks(),
                   help="which benchmark's files --data-root holds (synthetic: generated evidence videos, made in "
                        "--data-root when absent)")
    p.add_argument("--data-root", required=True, metavar="DIR", help="folder holding the benchmark's files")
    p.add_argument("--model", metavar="NAME_OR_PATH", help="multimodal LLM answering the questions")
    p.add_argument("--kfs-annotations", metavar="CSV", help="no answerer: score the selections against KFS-Bench "
                   "evidence scenes (lvb_anno.csv, vidmme_anno.csv) instead of --model")
    p.add_argument("--selector", default="uniform,topk,greedy",
                   help="selectors, comma-separated, 'hfs' for the trained student, 'all' with --kfs-annotations "
                        "(default uniform,topk,greedy)")
    p.add_argument("-k", "--k", type=_int_list, default=[8, 16, 32], help="budgets, comma-separated (default 8,16,32)")
    p.add_argument("-n", "--num-candidates", type=_candidates_or_auto, default="auto",
                   help="candidates per video: auto (default, adaptive per question) or N segment midpoints")
    p.add_argument("--encoder", default=None, help=f"image-text model scoring the frames (default {DEFAULT_ENCODER})")
    p.add_argument("--checkpoint", metavar="DIR", help="trained HFS student, for the 'hfs' selector")
    p.add_argument("--annotations", metavar="PATH", help="annotation file (or MLVU folder) instead of the default")
    p.add_argument("--out", metavar="DIR", default="hfs-eval",
                   help="results.jsonl, report.md, report.json, accuracy.png, kfs-results/ (default hfs-eval)")
    p.add_argument("--subtitles", action="store_true",
                   help="Video-MME / LongVideoBench: show the answering model the subtitles at the chosen frames' "
                        "times, as each benchmark's with-subtitle protocol does (default: without subtitles)")
    p.add_argument("--skip-bad", action="store_true", help="skip and count missing or unreadable videos (records that "
                   "cannot be scored are always counted and named, never fatal)")
    p.add_argument("--limit", type=_positive_int, default=None, help="only the first N questions")
    p.add_argument("--synthetic-videos", type=_int_in(1, MAX_GENERATED_VIDEOS), default=12,
                   help="videos to generate for --benchmark synthetic when DIR has none (default 12)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed of the random selectors (qframe, bolt) and of --benchmark synthetic's videos (default 0)")
    p.add_argument("--allow-download", action="store_true",
                   help="let the answering model's hub name download its weights (the image-text model is fetched "
                        "on first use anyway)")
    p.add_argument("--offline", action="store_true", help="never download (as HF_HUB_OFFLINE=1)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("embed", help="embed the candidate frames of every video in a manifest into the cache",
                       description="Decode and embed the N candidates of every video listed in MANIFEST (.jsonl, "
                                   ".csv or one path a line) into the embedding cache (so that `hfs select`/`hfs "
                                   "eval`/training on them later skip decoding) or into parquet shards. Videos "
                                   "already done are skipped (an interrupted run resumes); unreadable ones are "
                                   "reported. --engine local: worker processes decode, this one embeds; --engine "
                                   "ray: the same functions on Ray Data (pip install \"hfs[ray]\").")
    p.add_argument("manifest", metavar="MANIFEST", help="the videos: .jsonl ('video' field), .csv ('video' column) "
                   "or one path a line; relative paths are taken from the manifest's folder")
    p.add_argument("--out", metavar="DIR", default=None, help="cache folder to fill (default the hfs cache, as "
                   "`hfs select` reads it), or the folder of parquet shards; embed_report.json is written there")
    p.add_argument("--format", choices=["cache", "parquet"], default="cache", dest="output_format",
                   help="cache entries (default) or parquet shards, one row per video (needs --out)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: a process pool on this machine (default); ray: Ray Data, on the cluster "
                        "RAY_ADDRESS names or a local one")
    p.add_argument("--encoder", default=None, help=f"image-text model (default {DEFAULT_ENCODER})")
    p.add_argument("-n", "--num-candidates", type=_candidates, default=128, help="candidates per video (default 128)")
    p.add_argument("--workers", type=_int_in(1, 100_000), default=None,
                   help="local: decoding processes (default: the cores less one); ray: most decoding tasks at "
                        "once (default: every CPU Ray has)")
    p.add_argument("--batch-size", type=_int_in(1, 4096), default=32, help="frames per encoder batch (default 32)")
    p.add_argument("--actors", type=_int_in(1, 10_000), default=1, help="ray: embedding actors (default 1)")
    p.add_argument("--gpus-per-worker", type=_float_in(0.0, 64.0), default=0.0,
                   help="ray: GPUs each embedding actor asks for (default 0: CPU)")
    p.add_argument("--videos-per-batch", type=_int_in(1, 4096), default=8,
                   help="ray: videos per actor call and per parquet shard (default 8)")
    p.add_argument("--image-fps", type=_float_in(*IMAGE_FPS), default=1.0, help="frame rate of image folders (default 1)")
    p.add_argument("--offline", action="store_true", help="never download (as HF_HUB_OFFLINE=1)")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("serve", help="an OpenAI-compatible proxy that chooses the frames before a VLM server",
                       description="Serve /v1/chat/completions: a user message with a video_url (file://PATH under "
                                   "--video-root) and a question gets k frames chosen for the question, forwarded "
                                   "to the --upstream server with the rest of the request unchanged.")
    p.add_argument("--upstream", required=True, metavar="URL",
                   help="the VLM server's OpenAI base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_int_in(0, 65535), default=8100, help="port (default 8100)")
    p.add_argument("--video-root", default=".", metavar="DIR", help="the only folder videos are read from (default .)")
    p.add_argument("--api-key", default=os.environ.get("HFS_SERVE_API_KEY"), metavar="KEY",
                   help="bearer key clients must send (default $HFS_SERVE_API_KEY; none: no key asked)")
    p.add_argument("-k", type=_positive_int, default=16, help="frames per question (default 16)")
    p.add_argument("-n", "--num-candidates", type=_candidates_or_auto, default="auto",
                   help="candidates: auto (default) or N segment midpoints")
    p.add_argument("--selector", choices=list_selectors(), default=None, help="selection rule (default greedy)")
    p.add_argument("--encoder", default=None, help=f"image-text model (default {DEFAULT_ENCODER})")
    p.add_argument("--checkpoint", metavar="DIR", help="score frames with a trained HFS student")
    p.add_argument("--upstream-format", choices=["openai", "vllm"], default="openai",
                   help="frames as image parts with their times (openai, default) or as vLLM's JPEG-sequence video "
                        "with its media_io_kwargs (vllm)")
    p.add_argument("--upstream-api-key", default=os.environ.get("HFS_UPSTREAM_API_KEY"), metavar="KEY",
                   help="bearer key for the upstream (default $HFS_UPSTREAM_API_KEY)")
    p.add_argument("--allow-url", action="store_true", help="fetch http(s) video URLs (default: local files only)")
    p.add_argument("--max-k", type=_positive_int, default=64, help="most frames a request may ask for (default 64)")
    p.add_argument("--max-request-bytes", type=_positive_int, default=32 << 20, help="(default 32 MiB)")
    p.add_argument("--max-video-bytes", type=_positive_int, default=2 << 30, help="of a fetched URL (default 2 GiB)")
    p.add_argument("--select-timeout", type=_float_in(0.01, 86400), default=300.0, help="seconds (default 300)")
    p.add_argument("--upstream-timeout", type=_float_in(0.01, 86400), default=600.0, help="seconds (default 600)")
    p.add_argument("--workers", type=_int_in(1, 256), default=2, help="selections at once (default 2)")
    p.add_argument("--cache-dir", metavar="DIR", help="embedding cache folder (default ~/.cache/hfs/embeddings)")
    p.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], default="info")
    p.add_argument("--offline", action="store_true", help="never download (as HF_HUB_OFFLINE=1)")
    p.set_defaults(func=cmd_serve)

    # `hfs train ...` is handed whole to hfs.train (see main), the module accelerate launches.
    sub.add_parser("train", help="train the HFS student end to end (also: accelerate launch -m hfs.train)")
    return parser


def _config(args: argparse.Namespace) -> SelectConfig:
    config = load_yaml(SelectConfig, args.config) if args.config else SelectConfig()
    names = ("k", "num_candidates", "selector", "encoder", "cache_dir", "seed", "checkpoint", "decode_mode",
             "first_pass")
    overrides = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.no_cache:
        overrides["use_cache"] = False
    if args.objective is not None:
        overrides["objective"] = ObjectiveConfig.preset(args.objective)
    try:
        return dataclasses.replace(config, **overrides)  # checks every field and k <= num_candidates again
    except FieldError as exc:
        raise InputError(f"--{exc.field.replace('_', '-')}: {exc.problem}, got {short_repr(exc.value)}") from None


def cmd_select(args: argparse.Namespace) -> int:
    from hfs.pipeline import select_with_config

    if args.json and args.format is not None:
        raise InputError(f"--json and --format {args.format} ask for two outputs; give one of them")
    config = _config(args)
    fmt = args.format or ("json" if args.json else "table")
    out = _usable_dir(args.out, "--out") if args.out else None
    selection = select_with_config(
        args.video, args.question, args.options, config, image_fps=args.image_fps,
        allow_download=args.allow_download, progress=fmt == "table",
    )
    paths = {}
    if out is not None:
        from hfs.report import write_outputs

        paths = write_outputs(selection, out, image_fps=args.image_fps)
    if fmt in EXPORT_FORMATS:
        from hfs.export import export
        from hfs.report.jsonout import dumps_finite

        print(dumps_finite(export(selection, fmt, image_fps=args.image_fps), what=f"the {fmt} export"))
    elif fmt == "json":
        from hfs.report.jsonout import dumps_finite

        print(dumps_finite(selection.to_dict(), what="the selection"))
    else:
        _print_table(selection, paths)
    return 0


# BenchConfig field -> the `hfs bench` flag that sets it (for error messages)
BENCH_FLAGS = {"videos": "--videos", "seed": "--seed", "duration": "--duration", "fps": "--fps",
               "multi_share": "--multi-share", "k": "--k", "selectors": "--selector", "encoder": "--encoder",
               "num_candidates": "--num-candidates", "data_dir": "--data-dir"}


def cmd_bench(args: argparse.Namespace) -> int:
    from rich.table import Table

    from hfs.console import console as make_console
    from hfs.console import text

    from hfs.eval.bench import BenchConfig, run_bench
    from hfs.eval.bench_report import write_bench_report

    selectors = [] if args.selector.strip() == "all" else _names(args.selector, "--selector")
    if args.traces:
        _usable_dir(args.out, "--out")
        return _bench_traces(args, selectors)
    try:
        config = BenchConfig(videos=args.videos, seed=args.seed, duration=args.duration, fps=args.fps,
                             multi_share=args.multi_share, k=args.k, selectors=selectors, encoder=args.encoder,
                             num_candidates=args.num_candidates, data_dir=args.data_dir,
                             objective=ObjectiveConfig.preset(args.objective))
    except FieldError as exc:
        flag = BENCH_FLAGS.get(exc.field.split("[")[0], exc.field)
        raise InputError(f"{flag}: {exc.problem}, got {short_repr(exc.value)}") from None
    _usable_dir(args.out, "--out")
    if args.data_dir:
        _usable_dir(args.data_dir, "--data-dir")
    result = run_bench(config, allow_download=args.allow_download)
    paths = write_bench_report(result, args.out)
    console = make_console()
    meta = result.meta
    table = Table(title=f"{meta['videos']} videos ({meta['questions']['multi']} multi-event), "
                        f"encoder {text(meta['encoder'])}")
    for col in ("selector", "k", "recall", "recall multi", "coverage", "redundancy", "select µs"):
        table.add_column(col, justify="left" if col == "selector" else "right")
    for row in (r for r in result.rows if r["questions"] == "all"):
        try:
            multi = f"{result.row(row['selector'], row['k'], 'multi')['recall']:.3f}"
        except KeyError:  # no multi-event question in the set
            multi = "–"
        table.add_row(text(row["selector"]), str(row["k"]), f"{row['recall']:.3f}", multi, f"{row['coverage']:.3f}",
                      f"{row['redundancy']:.3f}", f"{row['time_us']:.0f}")
    console.print(table)
    if meta["skipped"]:
        console.print(f"note: {len(meta['skipped'])} (video, k) pairs skipped: k above the video's candidates")
    console.print(f"wrote {text(', '.join(str(p) for p in paths.values()))}")
    return 0


def _bench_traces(args: argparse.Namespace, selectors: list[str]) -> int:
    """``hfs bench --traces``: every selector x k on the simulated score traces of the report seeds."""
    from rich.table import Table

    from hfs.console import console as make_console
    from hfs.console import text

    from hfs.data.traces import REPORT_SEEDS, TraceConfig
    from hfs.eval.traces import TraceBenchConfig, run_trace_bench, write_trace_report

    config = TraceBenchConfig(seeds=args.seeds or list(REPORT_SEEDS), k=args.k, selectors=selectors,
                              traces=TraceConfig(questions=args.questions, num_candidates=args.num_candidates,
                                                 layout=args.layout),
                              objective=ObjectiveConfig.preset(args.objective))
    # greedy under the other named objectives too, for comparison
    extra = {f"greedy[{name}]": ObjectiveConfig.preset(name) for name in sorted(ObjectiveConfig.PRESETS)
             if name != args.objective and ObjectiveConfig.preset(name) != config.objective}
    result = run_trace_bench(config, objectives=extra if "greedy" in config.resolved_selectors() else None)
    paths = write_trace_report(result, args.out)
    meta = result["meta"]
    table = Table(title=f"score traces ({args.layout} layout): seeds {','.join(map(str, meta['seeds']))}, "
                        f"{meta['questions_per_seed']} questions each, objective {args.objective}; mean ± std across seeds")
    for col in ("selector", "k", "recall", "all events hit", "reachable recall", "select µs"):
        table.add_column(col, justify="left" if col == "selector" else "right", no_wrap=col == "selector")
    for r in result["rows"]:
        table.add_row(text(r["selector"]), str(r["k"]), f"{r['recall']:.3f} ± {r['recall_std']:.3f}",
                      f"{r['all_hit']:.3f} ± {r['all_hit_std']:.3f}",
                      f"{r['reachable_recall']:.3f} ± {r['reachable_recall_std']:.3f}", f"{r['time_us']:.0f}")
    console = make_console()
    console.print(table)
    console.print(f"{meta['seconds']:.1f} s; wrote {text(', '.join(str(p) for p in paths.values()))}")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from hfs.atomic import write_text_atomic
    from hfs.cache import EmbeddingCache
    from hfs.embed import ENGINES, create_output, read_manifest
    from hfs.encoders import create_encoder
    from hfs.report.jsonout import dumps_finite

    if args.output_format == "parquet" and not args.out:
        raise InputError("--format parquet: name the folder of shards with --out DIR")
    videos = read_manifest(args.manifest)
    out = _usable_dir(args.out, "--out") if args.out else EmbeddingCache().root
    encoder = create_encoder(args.encoder)
    output = create_output(args.output_format, out, encoder.dim, args.num_candidates, encoder.name,
                           fingerprint=encoder.fingerprint, short_side=encoder.short_side)
    options = {"local": {"workers": args.workers or max(1, (os.cpu_count() or 2) - 1)},
               "ray": {"decode_tasks": args.workers, "actors": args.actors, "gpus_per_actor": args.gpus_per_worker,
                       "videos_per_batch": args.videos_per_batch}}[args.engine]
    report = ENGINES[args.engine](videos, encoder, args.num_candidates, batch_size=args.batch_size,
                                  image_fps=args.image_fps, output=output, **options)
    path = write_text_atomic(Path(out) / "embed_report.json", dumps_finite(report.to_dict(), what="the report"),
                             "the embed report")
    how = (f"{options['workers']} decoding processes" if args.engine == "local"
           else f"Ray, {args.actors} embedding actor(s)")
    repeats = len(videos) - len(report.embedded) - len(report.cached) - len(report.bad)  # listed again: done once
    print(f"{len(videos)} videos: {len(report.embedded)} embedded, {len(report.cached)} already {output.done_as}, "
          f"{len(report.bad)} skipped as unreadable" + (f", {repeats} listed more than once" if repeats else "")
          + f"; {report.videos_per_minute:.1f} videos/minute "
          f"({report.seconds:.1f} s, {how}); wrote {path}")
    for video, reason in report.bad.items():
        print(f"  skipped {video}: {reason}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from hfs.serve.command import run

    return run(args)


def cmd_answer(args: argparse.Namespace) -> int:
    from hfs.console import console as make_console
    from hfs.console import styled, text

    from hfs.reasoning import answer_video
    from hfs.report import format_time

    if isinstance(args.num_candidates, int) and args.k > args.num_candidates:  # before the model is loaded
        raise InputError(f"k={args.k} is larger than the number of candidate frames ({args.num_candidates})")
    result = answer_video(args.video, args.question, args.options, args.model, k=args.k,
                          allow_download=args.allow_download, num_candidates=args.num_candidates,
                          selector=args.selector, encoder=args.encoder, checkpoint=args.checkpoint,
                          image_fps=args.image_fps, progress=not args.json)
    if args.json:
        from hfs.report.jsonout import dumps_finite

        print(dumps_finite(result.to_dict(), what="the answer"))
        return 0
    console = make_console()
    sel = result.selection
    console.print(styled(f"answer: {result.letter}. {sel.options[result.answer]}", "bold"))
    for n, (option, p) in enumerate(zip(sel.options, result.probs)):
        mark = "→" if n == result.answer else " "
        console.print(f" {mark} {'ABCDEFGHIJ'[n]}. {text(option)}  {p:.3f}")
    console.print(f"{sel.k} frames ({text(sel.selector)}) at " + ", ".join(format_time(t) for t in sel.times.tolist()))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from hfs.data.benchmarks.common import require_text_file
    from hfs.eval.runner import EvalConfig, run_eval

    if args.annotations and Path(args.annotations).is_file():
        require_text_file(Path(args.annotations))
    _usable_dir(args.out, "--out")
    if args.kfs_annotations:
        from hfs.eval.evidence_run import cmd_kfs_eval

        if args.subtitles:
            raise InputError("--subtitles goes into an answering model's prompt; the evidence run has none")

        return cmd_kfs_eval(args)
    if not args.model:
        raise InputError("hfs eval needs --model (a multimodal LLM answering) or --kfs-annotations CSV (evidence only)")
    selectors = _names(args.selector, "--selector")
    config = EvalConfig(benchmark=args.benchmark, data_root=args.data_root, model=args.model, out=args.out,
                        selectors=selectors, k=args.k,
                        num_candidates=args.num_candidates, encoder=args.encoder, checkpoint=args.checkpoint,
                        annotations=args.annotations, skip_bad=args.skip_bad, limit=args.limit, seed=args.seed,
                        synthetic_videos=args.synthetic_videos, allow_download=args.allow_download,
                        subtitles=args.subtitles)
    report = run_eval(config)
    if "overall" not in report:  # not the main process: it only wrote its shard
        return 0
    print(f"{report['benchmark']} {'with' if report['subtitles'] else 'without'} subtitles: "
          f"{report['questions']} questions, answerer {report['model']}")
    for selector in report["selectors"]:
        cells = sorted((c for c in report["overall"].values() if c["selector"] == selector), key=lambda c: c["k"])
        print(f"  {selector:8s} " + "  ".join(f"acc@{c['k']} {c['accuracy']:.3f}" for c in cells)
              + f"  (n={cells[0]['n'] if cells else 0})")
    run = report["run"]
    print(f"answered {run['answered']} selections, {run['resumed']} questions already done, "
          f"{run['bad_videos']} unusable videos skipped; wrote {Path(args.out) / 'report.md'}")
    return 0


def _print_table(selection, paths: dict[str, Path]) -> None:
    from rich.table import Table

    from hfs.console import console as make_console
    from hfs.console import styled, text
    from hfs.report import format_time

    console = make_console()
    table = Table()
    table.add_column("index", justify="right")
    table.add_column("frame", justify="right")  # the source video's frame number
    table.add_column("time", justify="right")
    table.add_column("score", justify="right")
    for row in selection.frames:
        table.add_row(str(row["index"]), str(row.get("frame", "–")), format_time(row["time"]), f"{row['score']:+.3f}")
    console.print(styled(selection.video, "bold"), f"Q: {text(selection.question)}", sep="  ")
    console.print(f"{selection.k} of {selection.num_candidates} candidate frames, selector {text(selection.selector)}, "
                  f"encoder {text(selection.encoder)}")
    console.print(table)
    t = selection.timing
    note = " (embeddings from cache)" if selection.cached else ""
    console.print(f"decode {t['decode']:.2f}s · encode {t['encode']:.2f}s · select {t['select'] * 1000:.1f}ms{note}")
    obj = selection.objective
    console.print(f"objective F {obj['F']:.3f} (rel {obj['rel']:.3f}, cov {obj['cov']:.3f}, red {obj['red']:.3f})")
    if selection.requested_candidates != selection.num_candidates:
        console.print(f"note: the video has only {selection.num_candidates} distinct frames "
                      f"({selection.requested_candidates} candidates asked for)")
    if paths:
        console.print(f"wrote {text(', '.join(str(p) for p in paths.values()))}")


def _quiet_libraries() -> None:
    """Model loading bars and warnings from transformers would bury the command's output. Set through
    their environment switches (unless the user set them), which transformers and huggingface_hub read
    when a command imports them: importing transformers here would cost every command half a second."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:  # already imported in this process (the API called main): too late for those
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``hfs`` command; its exit status. Ctrl-C at any point is one line and 130."""
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("hfs: interrupted", file=sys.stderr)
        return 130


def _run(argv: list[str]) -> int:
    if argv[:1] == ["train"]:
        from hfs.train import main as train_main

        return train_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "offline", False):
        os.environ["HF_HUB_OFFLINE"] = "1"  # Hugging Face's own switch: hfs and transformers both obey it
    try:
        _quiet_libraries()
        return args.func(args)
    except HfsError as exc:
        print(f"hfs: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `hfs select ... --json | head -c 100`: the reader went away
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 141
    except OSError as exc:  # a write no hfs code named (a full disk under a library's own writer...)
        print(f"hfs: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1


startup.release()  # this module's imports are done: from here main() turns Ctrl-C into one line

if __name__ == "__main__":
    sys.exit(main())
