"""``hfs bench --traces``: every selector x k on simulated score traces (``hfs.data.traces``).

For each seed the trace set is generated once; every selector then picks k of the N candidates
of every question from the same per-video z-scores and embeddings. An event is hit when a
selected candidate's time lies inside it. Per question: recall (share of its events hit),
all-hit (every event hit), reachable recall (share of the events that hold a candidate at all
that are hit). Per seed: the means over questions; the table gives the mean over seeds and the
standard deviation across seeds, and the median selection time per question.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfs.atomic import atomic_file
from hfs.config import ObjectiveConfig
from hfs.data.traces import REPORT_SEEDS, TraceConfig, TraceSet, make_traces
from hfs.errors import InputError
from hfs.scoring import standardize
from hfs.selection import create_selector, resolve_selectors

METRICS = ("recall", "all_hit", "reachable_recall")


@dataclass
class TraceBenchConfig:
    """Seeds, budgets, selectors and the trace simulation of one run."""

    seeds: list[int] = field(default_factory=lambda: list(REPORT_SEEDS))
    k: list[int] = field(default_factory=lambda: [8, 16, 32])
    selectors: list[str] = field(default_factory=list)  # empty: every registered selector
    traces: TraceConfig = field(default_factory=TraceConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)

    def resolved_selectors(self) -> list[str]:
        return resolve_selectors(self.selectors)


def hits(selected_times: np.ndarray, events: np.ndarray) -> np.ndarray:
    """[E] bool: event [start, end) holds at least one selected time."""
    t = np.asarray(selected_times, dtype=np.float64)
    return ((t[None, :] >= events[:, :1]) & (t[None, :] < events[:, 1:])).any(axis=1)


def score_selector(traces: TraceSet, selector, k: int) -> dict[str, float]:
    """Mean recall, all-hit rate and reachable recall of one selector at one k on one trace set,
    and its median selection time (µs) per question."""
    recall, all_hit, reach_recall, elapsed = [], [], [], []
    zs = standardize(traces.scores)  # [Q, N], per row
    for i in range(len(traces)):
        z = zs[i]
        t0 = time.perf_counter()
        sel = selector.select(z, k, times=traces.times[i], embeddings=traces.embeddings[i],
                              raw_scores=traces.scores[i])
        elapsed.append(time.perf_counter() - t0)
        ev = traces.events[i]
        h = hits(sel.times, ev)
        reachable = hits(traces.times[i], ev)
        recall.append(h.mean())
        all_hit.append(float(h.all()))
        if reachable.any():
            reach_recall.append(h[reachable].mean())
    return {"recall": float(np.mean(recall)), "all_hit": float(np.mean(all_hit)),
            "reachable_recall": float(np.mean(reach_recall)) if reach_recall else 0.0,
            "time_us": float(np.median(elapsed) * 1e6)}


def run_trace_bench(config: TraceBenchConfig, objectives: dict[str, ObjectiveConfig] | None = None
                    ) -> dict[str, Any]:
    """Every selector x k on every seed's traces: {"rows": [...], "per_seed": [...], "meta": {...}}.

    ``objectives`` adds greedy rows under other objectives, by label (e.g. {"greedy[paper]": ...}).
    """
    names = config.resolved_selectors()
    ks = sorted({int(k) for k in config.k})
    if not ks or ks[0] < 1 or ks[-1] > config.traces.num_candidates:
        raise InputError(f"k must be in 1..{config.traces.num_candidates}, got {config.k}")
    if not config.seeds:
        raise InputError("no seeds to run")
    selectors = {n: create_selector(n, objective=config.objective) for n in names}
    for label, obj in (objectives or {}).items():
        selectors[label] = create_selector("greedy", objective=obj)
    t_start = time.perf_counter()
    per_seed = []
    for seed in config.seeds:
        traces = make_traces(seed, config.traces)
        for label, selector in selectors.items():
            for k in ks:
                per_seed.append({"seed": seed, "selector": label, "k": k, **score_selector(traces, selector, k)})
    rows = []
    for label in selectors:
        for k in ks:
            sub = [r for r in per_seed if r["selector"] == label and r["k"] == k]
            row: dict[str, Any] = {"selector": label, "k": k}
            for m in METRICS:
                vals = np.array([r[m] for r in sub])
                row[m] = float(vals.mean())
                row[m + "_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            row["time_us"] = float(np.median([r["time_us"] for r in sub]))
            rows.append(row)
    meta = {"seeds": list(config.seeds), "k": ks, "questions_per_seed": config.traces.questions,
            "traces": asdict(config.traces), "objective": asdict(config.objective),
            "seconds": round(time.perf_counter() - t_start, 2)}
    return {"rows": rows, "per_seed": per_seed, "meta": meta}


def compare(result: dict[str, Any], reference: str = "greedy", metrics: tuple[str, ...] = ("recall", "all_hit"),
            seeds_needed: float = 0.8) -> list[dict[str, Any]]:
    """``reference`` against every other selector, per k and metric, paired by seed.

    Each row: the mean over seeds of reference minus other, the seeds where the reference is
    ahead and behind, and a verdict: "leads" when the mean difference is positive and the
    reference is ahead on at least ``seeds_needed`` of the seeds, "trails" the same way round,
    "ties" otherwise.
    """
    per = {(r["selector"], r["k"], r["seed"]): r for r in result["per_seed"]}
    seeds, ks = result["meta"]["seeds"], result["meta"]["k"]
    others = [name for name in dict.fromkeys(r["selector"] for r in result["per_seed"]) if name != reference]
    rows = []
    for other in others:
        for k in ks:
            for m in metrics:
                diffs = np.array([per[(reference, k, s)][m] - per[(other, k, s)][m] for s in seeds])
                ahead, behind = int((diffs > 0).sum()), int((diffs < 0).sum())
                mean = float(diffs.mean())
                verdict = ("leads" if mean > 0 and ahead >= seeds_needed * len(seeds) else
                           "trails" if mean < 0 and behind >= seeds_needed * len(seeds) else "ties")
                rows.append({"other": other, "k": k, "metric": m, "difference": mean, "ahead": ahead,
                             "behind": behind, "seeds": len(seeds), "verdict": verdict})
    return rows


def trace_table_markdown(result: dict[str, Any]) -> str:
    """The rows as a Markdown table: selector x k, mean ± std across seeds."""
    meta = result["meta"]
    lines = [
        f"Score traces ({meta['traces']['layout']} layout): seeds {', '.join(map(str, meta['seeds']))}, "
        f"{meta['questions_per_seed']} questions each, N = {meta['traces']['num_candidates']}. "
        "Mean over seeds ± std across seeds.",
        "",
        "| selector | k | recall | all events hit | reachable recall | time (µs) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['selector']} | {r['k']} | {r['recall']:.3f} ± {r['recall_std']:.3f} | "
            f"{r['all_hit']:.3f} ± {r['all_hit_std']:.3f} | {r['reachable_recall']:.3f} ± "
            f"{r['reachable_recall_std']:.3f} | {r['time_us']:.0f} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(result: dict[str, Any], reference: str = "greedy") -> str:
    """``compare`` as a Markdown table: one row per selector and k, recall and all-events-hit."""
    rows = compare(result, reference)
    if not rows:
        return ""
    cell = {(r["other"], r["k"], r["metric"]): r for r in rows}
    lines = [f"{reference} against each selector: mean difference over seeds (seeds {reference} is ahead / "
             "behind), and the verdict (leads / trails: the mean says so and at least 80% of the seeds agree).",
             "", "| selector | k | recall | all events hit | verdict (recall, all hit) |", "|---|---:|---:|---:|---|"]
    for other, k in dict.fromkeys((r["other"], r["k"]) for r in rows):
        rec, hit = cell[(other, k, "recall")], cell[(other, k, "all_hit")]
        lines.append(f"| {other} | {k} | {rec['difference']:+.3f} ({rec['ahead']}/{rec['behind']}) | "
                     f"{hit['difference']:+.3f} ({hit['ahead']}/{hit['behind']}) | {rec['verdict']}, {hit['verdict']} |")
    return "\n".join(lines) + "\n"


def write_trace_report(result: dict[str, Any], out: str | Path) -> dict[str, Path]:
    """traces.md (the table) and traces.json (rows, per-seed figures, settings) under ``out``."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from exc
    paths = {"markdown": out / "traces.md", "json": out / "traces.json"}
    with atomic_file(paths["markdown"]) as tmp:
        versus = comparison_markdown(result) if any(r["selector"] == "greedy" for r in result["rows"]) else ""
        Path(tmp).write_text(trace_table_markdown(result) + ("\n" + versus if versus else ""))
    with atomic_file(paths["json"]) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1))
    return paths
