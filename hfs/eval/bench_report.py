"""Writing ``hfs bench`` results: a Markdown table, the JSON behind it, and a plot."""

from __future__ import annotations

import json
from pathlib import Path

from hfs.atomic import write_text_atomic
from hfs.eval.bench import BenchResult


def markdown_table(result: BenchResult) -> str:
    """One row per selector x k: recall on all / single / multi-event questions, coverage,
    redundancy and median selection time."""
    lines = [
        "| selector | k | recall | recall (single) | recall (multi) | coverage | redundancy | select µs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = sorted({(r["selector"], r["k"]) for r in result.rows}, key=lambda x: (x[1], x[0]))
    for name, k in keys:
        by_kind = {r["questions"]: r for r in result.rows if r["selector"] == name and r["k"] == k}
        cell = lambda kind: f"{by_kind[kind]['recall']:.3f}" if kind in by_kind else "–"  # noqa: E731
        row = by_kind["all"]
        lines.append(f"| {name} | {k} | {cell('all')} | {cell('single')} | {cell('multi')} | {row['coverage']:.3f} "
                     f"| {row['redundancy']:.3f} | {row['time_us']:.0f} |")
    return "\n".join(lines)


def save_plot(result: BenchResult, path: Path) -> Path:
    """Evidence recall against k per selector (all and multi-event questions) and selection time."""
    from hfs.report.figure import plt, save_figure

    names = sorted({r["selector"] for r in result.rows})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name in names:
        for ax, kind in zip(axes[:2], ("all", "multi")):
            rows = sorted((r for r in result.rows if r["selector"] == name and r["questions"] == kind),
                          key=lambda r: r["k"])
            if rows:
                style = "-o" if name == "greedy" else "--."
                ax.plot([r["k"] for r in rows], [r["recall"] for r in rows], style, label=name)
        rows = sorted((r for r in result.rows if r["selector"] == name and r["questions"] == "all"),
                      key=lambda r: r["k"])
        axes[2].plot([r["k"] for r in rows], [r["time_us"] for r in rows], "-o" if name == "greedy" else "--.",
                     label=name)
    for ax, title in zip(axes, ("evidence recall, all questions", "evidence recall, multi-event questions",
                                "selection time per video")):
        ax.set_title(title)
        ax.set_xlabel("k (frames selected)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("recall")
    axes[1].set_ylabel("recall")
    axes[2].set_ylabel("µs (median)")
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=8)
    meta = result.meta
    fig.suptitle(f"hfs bench: {meta['videos']} synthetic videos, encoder {meta['encoder']}, "
                 f"{meta['candidates_per_video']} candidates per video")
    return save_figure(fig, path)


def write_bench_report(result: BenchResult, out_dir: str | Path) -> dict[str, Path]:
    """bench.md, bench.json and bench.png under ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "bench.md", "json": out / "bench.json", "plot": out / "bench.png"}
    meta = result.meta
    header = (f"Synthetic evidence benchmark: {meta['videos']} videos ({meta['questions']['single']} single-event, "
              f"{meta['questions']['multi']} multi-event questions), encoder `{meta['encoder']}`, "
              f"{meta['candidates_per_video']} candidates per video.\n\n")
    write_text_atomic(paths["markdown"], header + markdown_table(result) + "\n")
    write_text_atomic(paths["json"], json.dumps({"meta": meta, "rows": result.rows, "records": result.records}, indent=1))
    save_plot(result, paths["plot"])
    return paths
