"""Does HFS learn as the paper says? A miniature reproduction on the synthetic shape task (issue 12).

    python benchmarks/bench_learning.py [--quick] [--training-free] [--json OUT] [--plot OUT.png] [--work DIR]

Prepares the task once (hfs.eval.learning: data, tiny models, the teacher pre-trained on the
task), then trains the student with the paper's loss (CE + KL, -F on, K = 3) through
hfs.training.trainer.train on the config it wrote (configs/train_shapes_mini.yaml), and scores
on held-out videos the teacher's accuracy and the evidence recall of: uniform at k and 2k,
training-free top-k and greedy at k (cosine of the image-text model), and trained HFS at k: its
hard top-k (hfs@k, the paper's inference) and greedy F on its scores (hfs+greedy@k; SPEC.md allows
either). Both greedy rows use hfs select's default objective, not the loss's F. The peers AKS,
BOLT, MDP3 and Q-Frame at k (as their authors' code runs them) score on the same cosines.
--training-free: only the rows that train nothing (after the task is prepared).
Without --quick it adds the ablations (supervision pseudo / ce / ce+kl; F terms none / rel /
rel+cov / rel+cov+red; K = 0..4; F in the paper's literal form; where the mask meets the teacher;
MLP_t's learning rate; what MLP_s reads), each over 3 seeds, mean +- std. --split validation scores on validation
videos instead of the report set: settings are chosen there.
--quick: the headline with one seed (under 10 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hfs.config import ObjectiveConfig, from_dict  # noqa: E402
from hfs.eval.learning import (METHODS, PEER_METHODS, TEACHER_RECIPE, CandidateFrames, baseline_indices,  # noqa: E402
                               evaluate, load_mini_config, prepare_task, student_indices, validation_items)

# name -> changes to the headline config (dotted keys)
ABLATIONS: dict[str, dict[str, dict]] = {
    "supervision": {"pseudo": {"supervision": "pseudo"}, "ce": {"supervision": "ce"}, "ce+kl": {}},
    "F": {"none": {"use_objective": False},
          "rel": {"student.objective.lambda_cov": 0.0, "student.objective.lambda_red": 0.0},
          "rel+cov": {"student.objective.lambda_red": 0.0},
          "rel+cov+red": {}},
    "K": {str(k): {"student.num_queries": k} if k != 3 else {} for k in range(5)},  # the headline has K = 3
    "F form": {"literal": {"objective_form": "literal"}, "mask": {}},
    "mask at": {"vision": {}, "layers": {"mask_at": "layers"}},  # where m_i meets the teacher
    # MLP_t's step: at the LoRA's teacher_lr (before), held gently (the config's), frozen
    "MLP_t lr": {"teacher_lr": {"teacher_scorer_lr": None}, "1e-5": {}, "0": {"teacher_scorer_lr": 0.0}},
    # what MLP_s reads: the paper's [frame ; query], or with their product (the config's)
    "MLP_s input": {"concat": {"student.scorer_input": "concat"}, "concat+product": {}},
}
QUICK_TEACHER_STEPS, QUICK_VIDEOS = 400, 128  # --quick's teacher and training videos (its own work folder)
# The objective of every greedy row at inference (greedy@k on cosine, hfs+greedy@k on the student's
# scores): hfs select's default (ObjectiveConfig()), not the training config's F, which is the
# paper's F for the loss.
INFERENCE_OBJECTIVE = ObjectiveConfig()
PAPER = {  # what the paper reports, for the README table beside ours
    "supervision": "ce+kl > ce > pseudo (Table 7)",
    "F": "rel+cov+red > rel+cov > rel > none (Table 5)",
    "K": "K = 3 best among 0..4 (Table 4)",
}


def _override(raw: dict, changes: dict) -> dict:
    raw = copy.deepcopy(raw)
    for key, value in changes.items():
        node, *path = raw, *key.split(".")
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return raw


def _stats(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


_WORKER: dict = {}


def _scorer(work: Path, split: str = "report") -> dict:
    """Per process: the task, the downstream teacher (no LoRA), the candidate frames and the
    held-out videos of ``split`` (report or validation), loaded once."""
    if not _WORKER:
        import torch

        from hfs.encoders import create_encoder
        from hfs.eval.learning import load_task
        from hfs.reasoning import MultimodalAnswerer

        torch.set_num_threads(1)
        task = load_task(work)
        raw = yaml.safe_load(task.config.read_text())
        encoder = create_encoder(raw["student"]["encoder"])
        teacher = MultimodalAnswerer(str(task.teacher), device="cpu")
        frames = CandidateFrames(task, encoder, raw["data"]["num_candidates"], teacher.short_side)
        _WORKER.update(task=task, raw=raw, encoder=encoder, teacher=teacher, frames=frames)
    if _WORKER.get("split") != split:
        task = _WORKER["task"]
        items = task.test_items if split == "report" else validation_items(task, len(task.test_items))
        _WORKER.update(split=split, items=items)
    return _WORKER


def train_and_score(work: Path, changes: dict, name: str, seed: int, split: str = "report") -> dict[str, float]:
    """Train one student (headline config + ``changes`` + seed) through the trainer; score it held out."""
    from hfs.student import HFSSelector
    from hfs.training.config import TrainConfig
    from hfs.training.trainer import train

    w = _scorer(work, split)
    out_dir = w["task"].work / "runs" / f"{name}-seed{seed}"
    shutil.rmtree(out_dir, ignore_errors=True)  # an earlier call's run: `hfs train` refuses to start over it
    raw = _override(w["raw"], {**changes, "seed": seed, "output_dir": str(out_dir)})
    config = from_dict(TrainConfig, raw)
    start = time.perf_counter()
    summary = train(config, progress=False)
    student = HFSSelector.from_pretrained(summary["student"])
    result = evaluate(lambda item, times, emb: student_indices(student, config.k, emb, item), w["items"], w["frames"],
                      w["teacher"])
    greedy = evaluate(lambda item, times, emb: student_indices(student, config.k, emb, item, INFERENCE_OBJECTIVE, times),
                      w["items"], w["frames"], w["teacher"])
    result.update({f"greedy {metric}": value for metric, value in greedy.items()})
    print(f"  {name} seed {seed}: accuracy {result['accuracy']:.3f}, recall {result['recall']:.3f}; greedy F: "
          f"{greedy['accuracy']:.3f}, {greedy['recall']:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
    return result


def run(work: Path, quick: bool, seeds: list[int], jobs: int = 1, log=print, split: str = "report",
        groups: list[str] | None = None, training_free: bool = False) -> dict:
    """The headline and (without ``quick``) the ablation ``groups`` (default: all), on the held-out
    videos of ``split``: "report" (the figures we publish) or "validation" (where settings are chosen).
    ``training_free``: only the rows that train nothing (uniform, top-k, greedy and the peers)."""
    from concurrent.futures import ProcessPoolExecutor

    work = work.resolve()
    # --quick: a shorter pre-training and half the videos, so that a first run fits in 10 minutes
    videos = QUICK_VIDEOS if quick else 256
    teacher = (replace(TEACHER_RECIPE, steps=QUICK_TEACHER_STEPS, max_frames=2 * load_mini_config()["k"])
               if quick else None)
    prepare_task(work, train_videos=videos, test_videos=48, teacher_videos=videos, teacher=teacher, log=log)
    w = _scorer(work, split)
    raw, task, encoder, items = w["raw"], w["task"], w["encoder"], w["items"]
    groups = list(ABLATIONS) if groups is None else groups
    k = raw["k"]
    report: dict = {"k": k, "num_candidates": raw["data"]["num_candidates"], "supervision": raw["supervision"],
                    "use_F": raw["use_objective"], "objective_form": raw["objective_form"], "seeds": seeds,
                    "split": split, "test_videos": len(items), "accuracy": {}, "recall": {}}
    for method in METHODS[:4] + PEER_METHODS:  # deterministic: one evaluation serves every seed (std 0)
        result = evaluate(lambda item, times, emb: baseline_indices(method, k, times, emb, encoder, item,
                                                                    INFERENCE_OBJECTIVE),
                          items, w["frames"], w["teacher"])
        for metric in ("accuracy", "recall"):
            report[metric][method] = {"mean": result[metric], "std": 0.0}
        log(f"{method}: accuracy {result['accuracy']:.3f}, recall {result['recall']:.3f}")
    if training_free:
        return report
    runs = {("headline", seed): {} for seed in seeds}
    if not quick:
        for group in groups:
            for variant, changes in ABLATIONS[group].items():
                if changes:
                    runs.update({(f"{group}-{variant}".replace(" ", "_"), seed): changes for seed in seeds})
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")  # fresh processes: no forked torch thread pools
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) if jobs > 1 else _Serial() as pool:
        futures = {key: pool.submit(train_and_score, work, changes, *key, split) for key, changes in runs.items()}
        results = {key: future.result() for key, future in futures.items()}
    headline = [results[("headline", seed)] for seed in seeds]
    for metric in ("accuracy", "recall"):
        report[metric]["hfs@k"] = _stats([r[metric] for r in headline])
        report[metric]["hfs+greedy@k"] = _stats([r[f"greedy {metric}"] for r in headline])
    if not quick:
        report["ablations"] = {}
        for group in groups:
            rows = {}
            for variant, changes in ABLATIONS[group].items():
                name = f"{group}-{variant}".replace(" ", "_") if changes else "headline"
                found = [results[(name, seed)] for seed in seeds]
                rows[variant] = {metric: _stats([r[metric] for r in found])
                                 for metric in ("accuracy", "recall", "greedy accuracy", "greedy recall")}
            report["ablations"][group] = rows
        report["paper"] = PAPER
    return report


class _Serial:
    """``submit`` that runs at once, for --jobs 1 (a ProcessPoolExecutor's interface)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def submit(fn, *args):
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(fn(*args))
        return future


def markdown(report: dict) -> str:
    """README-ready tables: the methods, then each ablation."""
    def cell(stat):
        return f"{stat['mean']:.3f} ± {stat['std']:.3f}"

    lines = [f"k = {report['k']} of N = {report['num_candidates']}, {report['test_videos']} held-out videos, "
             f"seeds {report['seeds']}", "", "| frames | teacher accuracy | evidence recall |", "|---|---|---|"]
    for method in report["accuracy"]:
        lines.append(f"| {method} | {cell(report['accuracy'][method])} | {cell(report['recall'][method])} |")
    for group, rows in report.get("ablations", {}).items():
        lines += ["", f"| {group} | accuracy | recall | greedy F: accuracy | greedy F: recall |", "|---|---|---|---|---|"]
        for variant, row in rows.items():
            lines.append(f"| {variant} | {cell(row['accuracy'])} | {cell(row['recall'])} | "
                         f"{cell(row['greedy accuracy'])} | {cell(row['greedy recall'])} |")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hfs.report.figure import save_figure

    groups = [("methods", {m: {x: report[x][m] for x in ("accuracy", "recall")} for m in report["accuracy"]})]
    groups += list(report.get("ablations", {}).items())
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.6), squeeze=False)
    for ax, (title, rows) in zip(axes[0], groups):
        names = list(rows)
        x = np.arange(len(names))
        for offset, metric in ((-0.2, "accuracy"), (0.2, "recall")):
            ax.bar(x + offset, [rows[n][metric]["mean"] for n in names], 0.4,
                   yerr=[rows[n][metric]["std"] for n in names], label=metric, capsize=2)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_title(title)
    axes[0][0].legend(loc="upper left")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the headline with one seed (< 10 min on 2 cores)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--plot", type=Path, help="write a bar chart here (default: beside --json)")
    parser.add_argument("--work", type=Path, help="data, models and runs, reused between calls (default: "
                        "TMPDIR/hfs-bench-learning, with --quick TMPDIR/hfs-bench-learning-quick)")
    parser.add_argument("--seeds", type=int, nargs="+", help="training seeds (default 0 1 2; --quick: 0)")
    parser.add_argument("--jobs", type=int, default=1, help="training runs in parallel processes (default 1)")
    parser.add_argument("--split", choices=("report", "validation"), default="report",
                        help="held-out videos to score on: the report set, or validation videos for choosing settings")
    parser.add_argument("--groups", nargs="*", choices=list(ABLATIONS), help="ablation groups to run (default: all)")
    parser.add_argument("--training-free", action="store_true",
                        help="only the rows that train nothing: uniform, top-k, greedy and the peers (minutes)")
    args = parser.parse_args(argv)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    start = time.perf_counter()
    work = args.work or Path(tempfile.gettempdir()) / ("hfs-bench-learning-quick" if args.quick else "hfs-bench-learning")
    report = run(work, args.quick, seeds, args.jobs, split=args.split, groups=args.groups,
                 training_free=args.training_free)
    report["seconds"] = round(time.perf_counter() - start, 1)
    print(markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    plot_path = args.plot or (args.json.with_suffix(".png") if args.json else None)
    if plot_path:
        plot(report, plot_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
