"""The ``hfs`` command: a thin layer over the library API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from hfs import __version__
from hfs.config import ObjectiveConfig, SelectConfig, load_yaml
from hfs.encoders import DEFAULT_ENCODER, list_encoders
from hfs.errors import HfsError
from hfs.data.benchmarks import list_benchmarks
from hfs.selection import list_selectors


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _int_list(text: str) -> list[int]:
    values = [_positive_int(part) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


def _seed_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    p.add_argument("-n", "--num-candidates", type=_positive_int, default=None,
                   help="candidate frames sampled at segment midpoints (default 128)")
    p.add_argument("--selector", choices=list_selectors(), default=None,
                   help="selection rule (default greedy; topk with --checkpoint)")
    p.add_argument("--checkpoint", metavar="DIR", help="score frames with a trained HFS student saved in DIR")
    p.add_argument("--encoder", default=None,
                   help=f"image-text model: a name ({', '.join(list_encoders())}), a folder or a hub name "
                        f"(default {DEFAULT_ENCODER}, or $HFS_ENCODER)")
    p.add_argument("--out", metavar="DIR", help="write selection.json, frames/, contact_sheet.png, timeline.png")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--config", metavar="YAML", help="SelectConfig values (flags given here win)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    p.add_argument("--cache-dir", metavar="DIR", help="embedding cache folder (default ~/.cache/hfs/embeddings)")
    p.add_argument("--image-fps", type=float, default=1.0, help="frame rate of an image folder (default 1)")
    p.add_argument("--allow-download", action="store_true", help="let a named model alias download its weights")
    p.add_argument("--seed", type=int, default=None, help="seed for random selectors (default 0)")
    p.add_argument("--objective", choices=sorted(ObjectiveConfig.PRESETS), default=None,
                   help="constants of greedy's objective F (default calibrated; paper: the paper's)")
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("bench", help="rank every selector on the synthetic evidence benchmark",
                       description="Generate videos with known evidence frames and compare every selector on "
                                   "the same candidates and scores: evidence recall, coverage, redundancy, time.")
    p.add_argument("--videos", type=_positive_int, default=12, help="number of generated videos (default 12)")
    p.add_argument("--duration", type=float, default=24.0, help="seconds per video (default 24)")
    p.add_argument("--fps", type=float, default=4.0, help="frame rate of the generated videos (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated set (default 0)")
    p.add_argument("--multi-share", type=float, default=0.5,
                   help="share of questions with two evidence events (default 0.5)")
    p.add_argument("-k", "--k", type=_int_list, default=[8, 16, 32], help="budgets, comma-separated (default 8,16,32)")
    p.add_argument("--selector", default="all", help="selectors, comma-separated, or 'all' (default)")
    p.add_argument("-n", "--num-candidates", type=_positive_int, default=128, help="candidates per video (default 128)")
    p.add_argument("--encoder", default=None,
                   help=f"image-text model scoring the frames (default {DEFAULT_ENCODER}; offline without weights: "
                        "color-names)")
    p.add_argument("--data-dir", metavar="DIR", help="where the videos are written (default: the hfs cache)")
    p.add_argument("--out", metavar="DIR", default="hfs-bench", help="bench.md, bench.json, bench.png (default hfs-bench)")
    p.add_argument("--traces", action="store_true",
                   help="simulated score traces (evidence laid out as in KFS-Bench) instead of generated videos")
    p.add_argument("--questions", type=_positive_int, default=500, help="--traces: questions per seed (default 500)")
    p.add_argument("--seeds", type=_seed_list, default=None,
                   help="--traces: report seeds, comma-separated (default 100,101,102,103,104)")
    p.add_argument("--objective", choices=sorted(ObjectiveConfig.PRESETS), default="calibrated",
                   help="constants of greedy's objective F (default calibrated)")
    p.add_argument("--allow-download", action="store_true", help="let a named model alias download its weights")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("answer", help="answer a multiple-choice question about a video from the selected frames",
                       description="Select k frames of VIDEO for the question, then let a multimodal LLM "
                                   "(Qwen2-VL, Qwen2.5-VL, LLaVA-OneVision, LLaVA-Video) pick an option from them.")
    p.add_argument("video", metavar="VIDEO", help="video file, or a folder of images")
    p.add_argument("-q", "--question", required=True, help="the question")
    p.add_argument("--options", nargs="+", required=True, metavar="OPTION", help="the answer options")
    p.add_argument("--model", required=True, metavar="NAME_OR_PATH", help="multimodal LLM: a local folder or hub name")
    p.add_argument("-k", type=_positive_int, default=16, help="frames shown to the model (default 16)")
    p.add_argument("-n", "--num-candidates", type=_positive_int, default=128, help="candidates (default 128)")
    p.add_argument("--selector", choices=list_selectors(), default=None, help="selection rule (default greedy)")
    p.add_argument("--checkpoint", metavar="DIR", help="score frames with a trained HFS student")
    p.add_argument("--encoder", default=None, help=f"image-text model scoring the frames (default {DEFAULT_ENCODER})")
    p.add_argument("--image-fps", type=float, default=1.0, help="frame rate of an image folder (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--allow-download", action="store_true", help="let hub names download their weights")
    p.set_defaults(func=cmd_answer)

    p = sub.add_parser("eval", help="accuracy of a video LLM with each selector's frames on a benchmark",
                       description="Evaluate every selector at every k on one benchmark with one answerer; "
                                   "resumable; shard with `accelerate launch -m hfs.cli eval ...`.")
    p.add_argument("--benchmark", required=True, choices=list_benchmarks())
    p.add_argument("--data-root", required=True, metavar="DIR", help="folder holding the benchmark's files")
    p.add_argument("--model", required=True, metavar="NAME_OR_PATH", help="multimodal LLM answering the questions")
    p.add_argument("--selector", default="uniform,topk,greedy",
                   help="selectors, comma-separated, 'hfs' for the trained student (default uniform,topk,greedy)")
    p.add_argument("-k", "--k", type=_int_list, default=[8, 16, 32], help="budgets, comma-separated (default 8,16,32)")
    p.add_argument("-n", "--num-candidates", type=_positive_int, default=128, help="candidates per video (default 128)")
    p.add_argument("--encoder", default=None, help=f"image-text model scoring the frames (default {DEFAULT_ENCODER})")
    p.add_argument("--checkpoint", metavar="DIR", help="trained HFS student, for the 'hfs' selector")
    p.add_argument("--annotations", metavar="PATH", help="annotation file (or MLVU folder) instead of the default")
    p.add_argument("--out", metavar="DIR", default="hfs-eval",
                   help="results.jsonl, report.md, report.json, accuracy.png (default hfs-eval)")
    p.add_argument("--skip-bad", action="store_true", help="skip and count malformed records and unusable videos")
    p.add_argument("--limit", type=_positive_int, default=None, help="only the first N questions")
    p.add_argument("--synthetic-videos", type=_positive_int, default=12,
                   help="videos to generate for --benchmark synthetic when DIR has none (default 12)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--allow-download", action="store_true", help="let hub names download their weights")
    p.set_defaults(func=cmd_eval)

    # `hfs train ...` is handed whole to hfs.train (see main), the module accelerate launches.
    sub.add_parser("train", help="train the HFS student end to end (also: accelerate launch -m hfs.train)")
    return parser


def _config(args: argparse.Namespace) -> SelectConfig:
    config = load_yaml(SelectConfig, args.config) if args.config else SelectConfig()
    for flag, attr in (("k", "k"), ("num_candidates", "num_candidates"), ("selector", "selector"),
                       ("encoder", "encoder"), ("cache_dir", "cache_dir"), ("seed", "seed"),
                       ("checkpoint", "checkpoint")):
        value = getattr(args, flag)
        if value is not None:
            setattr(config, attr, value)
    if args.no_cache:
        config.use_cache = False
    if args.objective is not None:
        config.objective = ObjectiveConfig.preset(args.objective)
    return config


def cmd_select(args: argparse.Namespace) -> int:
    from hfs.pipeline import select_with_config

    config = _config(args)
    selection = select_with_config(
        args.video, args.question, args.options, config, image_fps=args.image_fps,
        allow_download=args.allow_download, progress=not args.json,
    )
    paths = {}
    if args.out:
        from hfs.report import write_outputs

        paths = write_outputs(selection, args.out, image_fps=args.image_fps)
    if args.json:
        print(json.dumps(selection.to_dict()))
    else:
        _print_table(selection, paths)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from hfs.eval.bench import BenchConfig, run_bench
    from hfs.eval.bench_report import write_bench_report

    selectors = [] if args.selector.strip() == "all" else [s.strip() for s in args.selector.split(",") if s.strip()]
    if args.traces:
        return _bench_traces(args, selectors)
    config = BenchConfig(videos=args.videos, seed=args.seed, duration=args.duration, fps=args.fps,
                         multi_share=args.multi_share, k=args.k, selectors=selectors, encoder=args.encoder,
                         num_candidates=args.num_candidates, data_dir=args.data_dir,
                         objective=ObjectiveConfig.preset(args.objective))
    result = run_bench(config, allow_download=args.allow_download)
    paths = write_bench_report(result, args.out)
    console = Console()
    meta = result.meta
    table = Table(title=f"{meta['videos']} videos ({meta['questions']['multi']} multi-event), encoder {meta['encoder']}")
    for col in ("selector", "k", "recall", "recall multi", "coverage", "redundancy", "select µs"):
        table.add_column(col, justify="left" if col == "selector" else "right")
    for row in (r for r in result.rows if r["questions"] == "all"):
        try:
            multi = f"{result.row(row['selector'], row['k'], 'multi')['recall']:.3f}"
        except KeyError:  # no multi-event question in the set
            multi = "–"
        table.add_row(row["selector"], str(row["k"]), f"{row['recall']:.3f}", multi, f"{row['coverage']:.3f}",
                      f"{row['redundancy']:.3f}", f"{row['time_us']:.0f}")
    console.print(table)
    if meta["skipped"]:
        console.print(f"note: {len(meta['skipped'])} (video, k) pairs skipped: k above the video's candidates")
    console.print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _bench_traces(args: argparse.Namespace, selectors: list[str]) -> int:
    """``hfs bench --traces``: every selector x k on the simulated score traces of the report seeds."""
    from rich.console import Console
    from rich.table import Table

    from hfs.data.traces import REPORT_SEEDS, TraceConfig
    from hfs.eval.traces import TraceBenchConfig, run_trace_bench, write_trace_report

    config = TraceBenchConfig(seeds=args.seeds or list(REPORT_SEEDS), k=args.k, selectors=selectors,
                              traces=TraceConfig(questions=args.questions, num_candidates=args.num_candidates),
                              objective=ObjectiveConfig.preset(args.objective))
    # greedy under the other named objectives too, for comparison
    extra = {f"greedy[{name}]": ObjectiveConfig.preset(name) for name in sorted(ObjectiveConfig.PRESETS)
             if name != args.objective and ObjectiveConfig.preset(name) != config.objective}
    result = run_trace_bench(config, objectives=extra if "greedy" in config.resolved_selectors() else None)
    paths = write_trace_report(result, args.out)
    meta = result["meta"]
    table = Table(title=f"score traces: seeds {','.join(map(str, meta['seeds']))}, {meta['questions_per_seed']} "
                        f"questions each, objective {args.objective}; mean ± std across seeds")
    for col in ("selector", "k", "recall", "all events hit", "reachable recall", "select µs"):
        table.add_column(col, justify="left" if col == "selector" else "right", no_wrap=col == "selector")
    for r in result["rows"]:
        table.add_row(r["selector"], str(r["k"]), f"{r['recall']:.3f} ± {r['recall_std']:.3f}",
                      f"{r['all_hit']:.3f} ± {r['all_hit_std']:.3f}",
                      f"{r['reachable_recall']:.3f} ± {r['reachable_recall_std']:.3f}", f"{r['time_us']:.0f}")
    console = Console()
    console.print(table)
    console.print(f"{meta['seconds']:.1f} s; wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    from rich.console import Console

    from hfs.reasoning import answer_video
    from hfs.report import format_time

    result = answer_video(args.video, args.question, args.options, args.model, k=args.k,
                          allow_download=args.allow_download, num_candidates=args.num_candidates,
                          selector=args.selector, encoder=args.encoder, checkpoint=args.checkpoint,
                          image_fps=args.image_fps, progress=not args.json)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    console = Console()
    sel = result.selection
    console.print(f"[bold]answer: {result.letter}. {sel.options[result.answer]}[/bold]")
    for n, (option, p) in enumerate(zip(sel.options, result.probs)):
        mark = "→" if n == result.answer else " "
        console.print(f" {mark} {'ABCDEFGHIJ'[n]}. {option}  {p:.3f}")
    console.print(f"{sel.k} frames ({sel.selector}) at " + ", ".join(format_time(t) for t in sel.times.tolist()))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from hfs.eval.runner import EvalConfig, run_eval

    config = EvalConfig(benchmark=args.benchmark, data_root=args.data_root, model=args.model, out=args.out,
                        selectors=[s.strip() for s in args.selector.split(",") if s.strip()], k=args.k,
                        num_candidates=args.num_candidates, encoder=args.encoder, checkpoint=args.checkpoint,
                        annotations=args.annotations, skip_bad=args.skip_bad, limit=args.limit, seed=args.seed,
                        synthetic_videos=args.synthetic_videos, allow_download=args.allow_download)
    report = run_eval(config)
    if "overall" not in report:  # not the main process: it only wrote its shard
        return 0
    print(f"{report['benchmark']}: {report['questions']} questions, answerer {report['model']}")
    for selector in report["selectors"]:
        cells = sorted((c for c in report["overall"].values() if c["selector"] == selector), key=lambda c: c["k"])
        print(f"  {selector:8s} " + "  ".join(f"acc@{c['k']} {c['accuracy']:.3f}" for c in cells)
              + f"  (n={cells[0]['n'] if cells else 0})")
    run = report["run"]
    print(f"answered {run['answered']} selections, {run['resumed']} questions already done, "
          f"{run['bad_videos']} unusable videos skipped; wrote {Path(args.out) / 'report.md'}")
    return 0


def _print_table(selection, paths: dict[str, Path]) -> None:
    from rich.console import Console
    from rich.table import Table

    from hfs.report import format_time

    console = Console()
    table = Table()
    table.add_column("index", justify="right")
    table.add_column("time", justify="right")
    table.add_column("score", justify="right")
    for row in selection.frames:
        table.add_row(str(row["index"]), format_time(row["time"]), f"{row['score']:+.3f}")
    console.print(f"[bold]{selection.video}[/bold]  Q: {selection.question}")
    console.print(f"{selection.k} of {selection.num_candidates} candidate frames, selector {selection.selector}, "
                  f"encoder {selection.encoder}")
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
        console.print(f"wrote {', '.join(str(p) for p in paths.values())}")


def _quiet_libraries() -> None:
    """Model loading bars and warnings from transformers would bury the command's output."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from hfs.train import main as train_main

        return train_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_libraries()
    try:
        return args.func(args)
    except HfsError as exc:
        print(f"hfs: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hfs: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
