"""``hfs eval --kfs-annotations CSV``: evidence figures without an answering model.

For every benchmark question that has KFS-Bench annotations, the video's candidates are
embedded once (through the embedding cache, kept while consecutive questions share a video),
the question is scored once with the image-text encoder, every selector picks k frames for
every k from those same scores, and the frames' times are scored with the KFS-Bench metrics
(``hfs.eval.kfs``). Writes kfs_records.jsonl (one line per question x selector x k),
report.md, report.json, kfs.png (UKSS and scene hit rate against k per selector) and the
selections in KFS-Bench's input format (``kfs-results/``, ``hfs.eval.kfs_export``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from hfs.atomic import write_text_atomic
from hfs.data.benchmarks.kfs import read_kfs_annotations
from hfs.errors import InputError, VideoError
from hfs.eval.kfs import METRICS, KfsScores, aggregate, kfs_scores
from hfs.eval.kfs_export import export_kfs_results
from hfs.eval.runner import MANIFEST, STUDENT, EvalConfig, _CurrentVideo, _Scorers, load_questions
from hfs.progress import progress_bar
from hfs.scoring import standardize
from hfs.selection import create_selector

RECORDS = "kfs_records.jsonl"


@dataclass
class KfsEvalConfig(EvalConfig):
    """``EvalConfig`` without an answerer, plus the KFS-Bench annotation CSV to score against."""

    model: str = ""  # unused: no answering model
    kfs_annotations: str = ""
    out: str = "hfs-kfs"

    def validate(self) -> None:
        super().validate()
        if not self.kfs_annotations:
            raise InputError("the evidence run needs --kfs-annotations (lvb_anno.csv or vidmme_anno.csv)")


def _cell_key(selector: str, k: int) -> str:
    return f"{selector}@{k}"


def _table(records: list[dict[str, Any]], selectors: list[str], ks: list[int], group: str | None = None) -> dict:
    """Aggregated metrics per selector x k (per value of ``group`` when given)."""
    out = {}
    for selector in selectors:
        for k in ks:
            rows = [r for r in records if r["selector"] == selector and r["k"] == k]
            cell: dict[str, Any] = {"selector": selector, "k": k}
            if group is None:
                cell.update(aggregate(KfsScores(**{m: r[m] for m in METRICS}) for r in rows))
            else:
                values = sorted({r[group] for r in rows})
                cell["groups"] = {v: aggregate(KfsScores(**{m: r[m] for m in METRICS}) for r in rows if r[group] == v)
                                  for v in values}
            out[_cell_key(selector, k)] = cell
    return out


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: the metrics per selector x k, then UKSS by duration group."""
    lines = [f"## KFS-Bench evidence metrics: {report['benchmark']}, encoder `{report['encoder']}`, "
             f"{report['questions']} questions, {report['num_candidates']} candidates per video", "",
             "| selector | k | UKSS | KFR | SHR | BSR | BDS | n |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for cell in report["overall"].values():
        lines.append(f"| {cell['selector']} | {cell['k']} | {cell['ukss']:.3f} | {cell['kfr']:.3f} | "
                     f"{cell['shr']:.3f} | {cell['bsr']:.3f} | {cell['bds']:.3f} | {cell['n']} |")
    groups = sorted({g for cell in report["by_duration_group"].values() for g in cell["groups"]})
    lines += ["", "### UKSS by duration group", "", "| selector | k | " + " | ".join(groups) + " |",
              "|---|---:|" + "---:|" * len(groups)]
    for cell in report["by_duration_group"].values():
        row = [f"{cell['groups'][g]['ukss']:.3f} ({cell['groups'][g]['n']})" if g in cell["groups"] else "–"
               for g in groups]
        lines.append(f"| {cell['selector']} | {cell['k']} | " + " | ".join(row) + " |")
    a = report["annotations"]
    lines += ["", f"KFS-Bench annotations `{a['file']}`: {a['questions']} questions, {a['matched']} found in the "
                  f"benchmark, {a['without_question']} not; benchmark questions without annotation: "
                  f"{report['unannotated_questions']}. UKSS is the geometric mean over questions of "
                  f"(KFR x BSR x BDS)^(1/3), each floored at 0.01; KFR, SHR, BSR, BDS are means."]
    if report["run"]["evidence_past_end"]:
        lines.append(f"Questions whose evidence starts after their video ends (another version of the video?): "
                     f"{report['run']['evidence_past_end']}.")
    if report["run"]["bad_videos"]:
        lines.append(f"Unusable videos skipped: {report['run']['bad_videos']}.")
    return "\n".join(lines) + "\n"


def save_plot(report: dict[str, Any], path: Path) -> Path:
    """UKSS and scene hit rate against k, one line per selector."""
    from hfs.report.figure import plt, save_figure

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for selector in report["selectors"]:
        cells = sorted((c for c in report["overall"].values() if c["selector"] == selector), key=lambda c: c["k"])
        style = "-o" if selector in ("greedy", STUDENT) else "--."
        for ax, metric in zip(axes, ("ukss", "shr")):
            ax.plot([c["k"] for c in cells], [c[metric] for c in cells], style, label=selector)
    for ax, title in zip(axes, ("UKSS", "scene hit rate")):
        ax.set_title(title)
        ax.set_xlabel("k (frames selected)")
        ax.set_xticks(report["k"])
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"KFS-Bench evidence, {report['benchmark']}: {report['questions']} questions, "
                 f"encoder {report['encoder']}")
    return save_figure(fig, path)


def write_kfs_report(report: dict[str, Any], records: list[dict[str, Any]], out_dir: str | Path) -> dict[str, Path]:
    """kfs_records.jsonl, report.md, report.json and kfs.png under ``out_dir``."""
    out = Path(out_dir)
    paths = {"records": out / RECORDS, "markdown": out / "report.md", "json": out / "report.json",
             "plot": out / "kfs.png"}
    write_text_atomic(paths["records"], "".join(json.dumps(r) + "\n" for r in records))
    write_text_atomic(paths["markdown"], markdown(report))
    write_text_atomic(paths["json"], json.dumps(report, indent=1))
    save_plot(report, paths["plot"])
    return paths


def _past_end(scenes, duration: float | None) -> bool:
    """Whether a scene starts after the video ends: annotations of another version of the video."""
    return bool(duration) and any(min(start for start, _ in scene.segments) > duration for scene in scenes)


def run_kfs_eval(config: KfsEvalConfig, progress: bool = True) -> dict[str, Any]:
    """Score every selector x k on the annotated questions with the KFS-Bench metrics, write the
    report to ``config.out`` and return it."""
    config.validate()
    out = Path(config.out)
    if (out / MANIFEST).is_file():
        raise InputError(f"{out} holds an accuracy run of `hfs eval`; use another --out for the evidence metrics")
    annotations = read_kfs_annotations(config.kfs_annotations)
    questions, read = load_questions(replace(config, limit=None))
    annotated = [q for q in questions if q.id in annotations]
    if not annotated:
        raise InputError(f"{config.kfs_annotations}: none of its {len(annotations)} question ids (e.g. "
                         f"{next(iter(annotations))!r}) is a {config.benchmark} question under {config.data_root} "
                         f"(e.g. {questions[0].id!r}); is it the annotation file of this benchmark?")
    matched = len(annotated)
    if config.limit is not None:
        annotated = annotated[: config.limit]
    ks = sorted({int(k) for k in config.k})
    scorers = _Scorers(config)
    video = _CurrentVideo(scorers.encoder, config.num_candidates, scorers.encoder.short_side)
    selectors = {s: create_selector("topk" if s == STUDENT else s, objective=config.objective, seed=config.seed)
                 for s in config.selectors}
    records: list[dict[str, Any]] = []
    counts = {"evaluated": 0, "bad_videos": 0, "evidence_past_end": 0}
    t0 = time.perf_counter()
    with progress_bar(len(annotated), f"kfs {config.benchmark}", progress) as bar:
        for q in annotated:
            try:
                entry = video.candidates(q.video, scorers.refining_score(q, list(selectors)))
            except VideoError as exc:
                if not config.skip_bad:
                    raise InputError(f"{q.benchmark} question {q.id}: {exc} (use --skip-bad to skip it)") from exc
                counts["bad_videos"] += 1
                bar.advance()
                continue
            if _past_end(annotations[q.id], entry.info.get("duration")):
                counts["evidence_past_end"] += 1
            raw = scorers.scores(q, entry.embeddings, list(selectors), raw=True)
            n = len(entry.times)
            for name, selector in selectors.items():
                for k in ks:
                    idx = selector.select(standardize(raw[name]), min(k, n), times=entry.times,
                                          embeddings=entry.embeddings, raw_scores=raw[name]).indices
                    times = entry.times[idx]
                    metrics = kfs_scores(times, annotations[q.id]).to_dict()
                    records.append({"id": q.id, "selector": name, "k": k, "frames": int(len(idx)),
                                    "times": [round(float(t), 3) for t in times], **metrics,
                                    "duration_group": q.duration_group, "category": q.category,
                                    "video": q.video_id})
            counts["evaluated"] += 1
            bar.advance()
    counts["seconds"] = round(time.perf_counter() - t0, 2)
    if not records:
        raise InputError(f"{config.benchmark}: no annotated question had a usable video under {config.data_root}")
    report = {
        "benchmark": config.benchmark, "encoder": scorers.encoder.name, "selectors": list(config.selectors),
        "k": ks, "num_candidates": config.num_candidates, "questions": counts["evaluated"],
        "annotations": {"file": str(config.kfs_annotations), "questions": len(annotations), "matched": matched,
                        "without_question": len(annotations.keys() - {q.id for q in questions})},
        "unannotated_questions": len(questions) - matched, "skipped_annotations": dict(read.skipped),
        "unscorable_records": list(read.unscorable), "run": counts,
        "config": asdict(config),
        "overall": _table(records, list(config.selectors), ks),
        "by_duration_group": _table(records, list(config.selectors), ks, "duration_group"),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_kfs_report(report, records, out)
    export_kfs_results(records, out)
    return report


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A few lines for the terminal: UKSS and scene hit rate per selector at every k."""
    lines = [f"{report['benchmark']}: {report['questions']} questions with KFS-Bench evidence, "
             f"encoder {report['encoder']}"]
    for selector in report["selectors"]:
        cells = sorted((c for c in report["overall"].values() if c["selector"] == selector), key=lambda c: c["k"])
        lines.append(f"  {selector:8s} " + "  ".join(f"UKSS@{c['k']} {c['ukss']:.3f} (SHR {c['shr']:.3f})"
                                                      for c in cells))
    return lines


def cmd_kfs_eval(args) -> int:
    """``hfs eval --kfs-annotations CSV ...`` (the parsed arguments of ``hfs eval``): run and print."""
    from hfs.selection import list_selectors

    if args.model:
        raise InputError("--kfs-annotations scores the selections without an answerer; drop --model "
                         "(and run the accuracy evaluation with another --out)")
    names = [s.strip() for s in args.selector.split(",") if s.strip()]
    config = KfsEvalConfig(benchmark=args.benchmark, data_root=args.data_root, kfs_annotations=args.kfs_annotations,
                           out=args.out, selectors=list_selectors() if names == ["all"] else names, k=args.k,
                           num_candidates=args.num_candidates, encoder=args.encoder, checkpoint=args.checkpoint,
                           annotations=args.annotations, skip_bad=args.skip_bad, limit=args.limit, seed=args.seed,
                           synthetic_videos=args.synthetic_videos, allow_download=args.allow_download)
    report = run_kfs_eval(config)
    for line in summary_lines(report):
        print(line)
    print(f"wrote {Path(args.out) / 'report.md'}")
    return 0
