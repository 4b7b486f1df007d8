"""The ``hfs eval`` report: accuracy per selector x k, overall and by duration group and task
category, as Markdown and JSON, and a plot of accuracy against k per selector."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hfs.atomic import write_text_atomic
from hfs.data.instruct import ReadReport
from hfs.eval.accuracy import accuracy_table


def build_report(records: list[dict[str, Any]], config, read: ReadReport, counts: dict[str, Any]) -> dict:
    """Everything the report shows, computed from the merged per-question records."""
    return {
        "benchmark": config.benchmark, "model": config.model, "selectors": list(config.selectors),
        "subtitles": bool(config.subtitles),
        "k": sorted({int(k) for k in config.k}), "num_candidates": config.num_candidates,
        "questions": len({r["id"] for r in records}), "records": len(records),
        "skipped_annotations": dict(read.skipped), "unscorable_records": list(read.unscorable), "run": counts,
        "config": asdict(config),
        "overall": accuracy_table(records),
        "by_duration_group": accuracy_table(records, "duration_group"),
        "by_category": accuracy_table(records, "category"),
    }


def subtitle_label(report: dict[str, Any]) -> str:
    """'with subtitles' or 'without subtitles': every report says which protocol it ran."""
    return "with subtitles" if report.get("subtitles") else "without subtitles"


def _group_table(table: dict[str, dict[str, Any]], title: str) -> list[str]:
    groups = sorted({g for cell in table.values() for g in cell["groups"]})
    lines = [f"### {title}", "", "| selector | k | " + " | ".join(groups) + " |",
             "|---|---:|" + "---:|" * len(groups)]
    for cell in table.values():
        row = [f"{cell['groups'][g]['accuracy']:.3f} ({cell['groups'][g]['n']})" if g in cell["groups"] else "–"
               for g in groups]
        lines.append(f"| {cell['selector']} | {cell['k']} | " + " | ".join(row) + " |")
    return lines + [""]


def markdown(report: dict[str, Any]) -> str:
    lines = [f"## {report['benchmark']} {subtitle_label(report)}: answerer `{report['model']}`, "
             f"{report['questions']} questions, {report['num_candidates']} candidates per video", "",
             "| selector | k | accuracy | correct / n |", "|---|---:|---:|---:|"]
    for cell in report["overall"].values():
        lines.append(f"| {cell['selector']} | {cell['k']} | {cell['accuracy']:.3f} | {cell['correct']} / {cell['n']} |")
    lines.append("")
    lines += _group_table(report["by_duration_group"], "By duration group")
    lines += _group_table(report["by_category"], "By task category")
    if report["skipped_annotations"]:
        lines.append("Skipped annotation records: " +
                     ", ".join(f"{reason} {n}" for reason, n in report["skipped_annotations"].items()))
    if report.get("unscorable_records"):
        lines.append("Records that cannot be scored (left out): " + "; ".join(report["unscorable_records"]))
    return "\n".join(lines) + "\n"


def save_plot(report: dict[str, Any], path: Path) -> Path:
    from hfs.report.figure import plt, save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for selector in report["selectors"]:
        cells = sorted((c for c in report["overall"].values() if c["selector"] == selector), key=lambda c: c["k"])
        if cells:
            ax.plot([c["k"] for c in cells], [c["accuracy"] for c in cells], "-o" if selector in ("greedy", "hfs")
                    else "--.", label=selector)
    ax.set_xlabel("k (frames shown to the model)")
    ax.set_ylabel("accuracy")
    ax.set_xticks(report["k"])
    ax.set_title(f"{report['benchmark']} {subtitle_label(report)}: {report['questions']} questions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def write_eval_report(report: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    paths = {"markdown": out / "report.md", "json": out / "report.json", "plot": out / "accuracy.png"}
    write_text_atomic(paths["markdown"], markdown(report))
    write_text_atomic(paths["json"], json.dumps(report, indent=1))
    save_plot(report, paths["plot"])
    return paths
