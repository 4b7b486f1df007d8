"""``hfs eval``: the accuracy a multimodal LLM reaches with each selector's frames, on a benchmark.

Each video's N candidates are decoded and embedded once (through the embedding cache, and kept
while consecutive questions ask about the same video); each question is scored once, every
selector picks k frames for every k from those same scores, the frames all selections need are
decoded in one pass, and the answerer answers each selection.
Records are appended to this process's shard as they are produced, so an interrupted run
resumes without redoing finished (question, selector, k) triples. Under ``accelerate launch``
each process takes every world-size-th question; the main process merges the shards and writes
the report, and every selector x k's frame times in KFS-Bench's input format (``kfs-results/``,
``hfs.eval.kfs_export``), so that KFS-Bench's own ``eval.py`` can score them.

An output folder belongs to one setup (run.json: model, encoder, benchmark, N, ...); runs into
it may ask for other questions (``limit``), selectors or ks: finished answers are reused, and the
report covers exactly the current run's questions x selectors x ks. Damaged result lines are
dropped (and recomputed); temporary files of a killed write are removed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from hfs.atomic import clean_stale, write_text_atomic
from hfs.cache import EmbeddingCache, frames_key
from hfs.candidates import adaptive_candidates, check_num_candidates, fixed_candidates, is_auto
from hfs.config import MAX_CANDIDATES, ObjectiveConfig
from hfs.data.benchmarks import BenchmarkQuestion, ReadReport, read_benchmark
from hfs.data.benchmarks.common import unscorable_line
from hfs.encoders import create_encoder
from hfs.errors import InputError, VideoError, warn
from hfs.eval.results import SHARDS, ShardWriter, existing_records, merge, record_key, repair
from hfs.frame_cache import load_store, save_store
from hfs.pipeline import load_student
from hfs.progress import progress_bar
from hfs.scoring import query_scores, standardize
from hfs.selection import create_selector, list_selectors
from hfs.video import open_video

STUDENT = "hfs"  # the trained student's scores + top-k (the paper's inference); needs a checkpoint


@dataclass
class EvalConfig:
    """What ``hfs eval`` evaluates, with what, and where it writes."""

    benchmark: str
    data_root: str
    model: str  # the answerer: folder or hub name of a Qwen2-VL, Qwen2.5-VL, LLaVA-OneVision or LLaVA-Video model
    out: str = "hfs-eval"
    selectors: list[str] = field(default_factory=lambda: ["uniform", "topk", "greedy"])
    k: list[int] = field(default_factory=lambda: [8, 16, 32])
    num_candidates: int | str = "auto"  # "auto": adaptive candidates per question (hfs.candidates); N: N midpoints
    encoder: str | None = None  # image-text model scoring the frames; default: the student's, else the default
    checkpoint: str | None = None  # trained student, for the "hfs" selector
    annotations: str | None = None
    skip_bad: bool = False  # skip (and count) missing or unreadable videos; unscorable records never stop a run
    limit: int | None = None  # evaluate only the first questions (a quick look)
    seed: int = 0
    synthetic_videos: int = 12  # generated when --benchmark synthetic finds no set in data_root
    allow_download: bool = False
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    subtitles: bool = False  # the benchmark's with-subtitle protocol (Video-MME, LongVideoBench): answerer's prompt only

    def validate(self) -> None:
        """Refuse unusable settings; drop repeated selectors and ks."""
        self.selectors = list(dict.fromkeys(self.selectors))
        if not self.selectors:
            raise InputError("no selectors to evaluate")
        known = set(list_selectors()) | {STUDENT}
        unknown = [s for s in self.selectors if s not in known]
        if unknown:
            raise InputError(f"unknown selector(s) {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
        if STUDENT in self.selectors and not self.checkpoint:
            raise InputError("selector 'hfs' needs --checkpoint (a trained student)")
        if not self.k or min(self.k) < 1:
            raise InputError(f"k must be positive integers, got {self.k}")
        self.k = sorted({int(k) for k in self.k})
        self.num_candidates = check_num_candidates(self.num_candidates, "num_candidates", MAX_CANDIDATES)
        if self.limit is not None and self.limit < 1:
            raise InputError(f"limit must be a positive number of questions, got {self.limit}")
        if self.subtitles:
            from hfs.eval.subtitled import check_subtitles

            check_subtitles(self.benchmark, self.data_root)


def load_questions(config: EvalConfig, quiet: bool = False) -> tuple[list[BenchmarkQuestion], ReadReport]:
    """The benchmark's questions (generating the synthetic set if asked and absent) and what the
    reader left out; records that cannot be scored are named in one warning line (unless ``quiet``)."""
    if config.benchmark == "synthetic" and not config.annotations and \
            not (Path(config.data_root) / "items.json").is_file():
        from hfs.data.evidence import make_evidence_set

        make_evidence_set(config.data_root, config.synthetic_videos, seed=config.seed)
    questions, report = read_benchmark(config.benchmark, config.data_root, config.annotations)
    line = unscorable_line(config.benchmark, report)
    if line and not quiet:
        warn(line)
    if config.limit is not None:
        questions = questions[: config.limit]
    if not questions:
        raise InputError(f"{config.benchmark}: no questions to evaluate under {config.data_root}")
    return questions, report


class _Scorers:
    """Frame scores per selector for one question: cosine scores, or the student's."""

    def __init__(self, config: EvalConfig) -> None:
        self.student = load_student(config.checkpoint) if config.checkpoint else None
        name = config.encoder or (self.student.config.encoder if self.student is not None else None)
        self.encoder = create_encoder(name, allow_download=config.allow_download)

    def scores(self, question: BenchmarkQuestion, embeddings: np.ndarray, selectors: list[str],
               raw: bool = False) -> dict[str, np.ndarray]:
        """Per selector, its frame scores: z-scores, or with ``raw`` the cosines / student outputs."""
        scale = (lambda x: x) if raw else standardize
        out = {}
        if any(s != STUDENT for s in selectors):
            cos = scale(query_scores(self.encoder, embeddings, question.question, question.options))
            out.update({s: cos for s in selectors if s != STUDENT})
        if STUDENT in selectors:
            student = self.student.score_frames(embeddings, question.question, question.options)
            out[STUDENT] = scale(student.detach().cpu().numpy().astype(np.float64))
        return out

    def refining_score(self, question: BenchmarkQuestion, selectors: list[str]) -> Callable[[np.ndarray], np.ndarray]:
        """The score that guides adaptive candidates' refining for ``question``: the first selector's."""
        first = selectors[0]
        return lambda embeddings: self.scores(question, embeddings, [first])[first]


class _CurrentVideo:
    """The video under evaluation: its candidates and the answerer-sized frames decoded so far.

    Benchmarks list a video's questions together, so keeping them while consecutive questions
    ask about the same file means it is hashed and read from the embedding cache once per video,
    and no frame is decoded or embedded twice. Fixed N gives every question the same candidates;
    adaptive ones ("auto") are refined per question, from the video's frames embedded so far.
    """

    def __init__(self, encoder, num_candidates: int | str, short_side: int) -> None:
        self.encoder, self.num_candidates, self.short_side = encoder, num_candidates, short_side
        self.cache = EmbeddingCache()
        self.path: Path | None = None

    def candidates(self, path: Path, score: Callable[[np.ndarray], np.ndarray] | None = None, k: int = 0):
        """The candidates of ``path``; ``score`` rates them for the question (needed with "auto",
        whose candidates grow to ``k`` where the video has the frames)."""
        if path != self.path:
            if not path.exists():
                raise VideoError(path, "video file not found")
            source = open_video(path)
            self.source, self.images, self.path, self.fixed = source, {}, path, None
            self.key = frames_key(source, self.encoder.fingerprint, self.encoder.short_side)
            self.store = load_store(self.cache, self.key, self.encoder.dim, source.info.to_dict(), source)
        if is_auto(self.num_candidates):
            found = adaptive_candidates(self.source, self.encoder, self.store, score, min_candidates=k)
        elif self.fixed is None:
            found = fixed_candidates(self.source, self.encoder, self.store, int(self.num_candidates))
            self.fixed = found
        else:
            return self.fixed.entry
        if found.embedded or self.store.new_scans:
            save_store(self.cache, self.key, self.store)
        return found.entry

    def frames(self, times: np.ndarray) -> list[np.ndarray]:
        """The frames at ``times`` (candidates' true times) at the answerer's size, decoding only new ones."""
        missing = sorted({float(t) for t in times} - set(self.images))
        if missing:
            decoded = self.source.frames_at(missing, short_side=self.short_side, unique=False,
                                           tolerance=0)
            self.images.update(zip(missing, (f.image for f in decoded)))
        return [self.images[float(t)] for t in times]


MANIFEST = "run.json"
_SAME_RUN = ("benchmark", "model", "encoder", "checkpoint", "num_candidates", "annotations", "seed", "subtitles")
_BEFORE = {"subtitles": False}  # the value of a setting added later, in a manifest written before it


def _read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or None when it cannot be read or is not a JSON object."""
    try:
        old = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return old if isinstance(old, dict) else None


def _check_manifest(config: EvalConfig, out: Path, has_results: bool) -> dict[str, Any]:
    """What must not change between a run and its resumption; a mismatch is refused, since
    mixing answers of two setups in one report would be silently wrong. Results with no
    readable manifest cannot be matched to a setup and are refused too; a damaged manifest
    beside no results is simply rewritten."""
    manifest = {key: getattr(config, key) for key in _SAME_RUN}
    path = out / MANIFEST
    if path.is_dir():
        raise InputError(f"{path} is a folder, not the run manifest hfs eval writes; use another --out")
    if not path.exists():
        if has_results:
            raise InputError(f"{out} holds results but no {MANIFEST} naming the setup that wrote them; "
                             f"use another --out or remove it")
        return manifest
    old = _read_manifest(path)
    if old is None:
        if has_results:
            raise InputError(f"{path} is damaged (not a JSON object), so the results in {out} cannot be matched "
                             f"to a setup; use another --out or remove {out}")
    else:
        changed = [key for key in _SAME_RUN if old.get(key, _BEFORE.get(key)) != manifest[key]]
        if changed:
            raise InputError(f"{out} holds results of another setup ({', '.join(f'{k}: {old.get(k)!r}' for k in changed)}); "
                             f"use another --out or remove it")
    return manifest


def _tidy(out: Path) -> None:
    """Remove temporary files of a killed write and damaged result lines (with one warning).
    Main process only, while no process writes to ``out``."""
    clean_stale(out)
    clean_stale(out / SHARDS)
    dropped = repair(out)
    if dropped:
        where = ", ".join(f"{name}: {n}" for name, n in dropped.items())
        warn(f"{out}: skipped {sum(dropped.values())} damaged result line(s) ({where}); "
             f"those answers will be recomputed")


def _state():
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def run_eval(config: EvalConfig, answerer=None, progress: bool = True) -> dict[str, Any]:
    """Evaluate, resume-aware and sharded; on the main process merge and report. Returns the
    report dict (on other processes: this process's counts only)."""
    from hfs.eval.eval_report import build_report, write_eval_report
    from hfs.eval.kfs_export import export_kfs_results

    config.validate()
    state = _state()
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    previous = existing_records(out)  # damaged lines skipped; the main process drops them from the files
    # every process checks, so none waits at a barrier for a failed one
    manifest = _check_manifest(config, out, has_results=bool(previous))
    if state.is_main_process:
        _tidy(out)
    questions, read = load_questions(config) if state.is_main_process else (None, None)
    state.wait_for_everyone()
    if state.is_main_process:
        write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=1))
    if not state.is_main_process:
        questions, read = load_questions(config, quiet=True)  # after the main process generated what was missing
    ks = config.k  # sorted and unique (validate)
    done = {record_key(r) for r in previous}
    mine = questions[state.process_index::state.num_processes]
    todo = [q for q in mine if any((q.id, s, k) not in done for s in config.selectors for k in ks)]

    if answerer is None:
        from hfs.reasoning import MultimodalAnswerer

        answerer = MultimodalAnswerer(config.model, local_files_only=not config.allow_download,
                                      device=str(state.device))
    scorers = _Scorers(config) if todo else None
    video = _CurrentVideo(scorers.encoder, config.num_candidates, answerer.short_side) if todo else None
    selectors = {s: create_selector("topk" if s == STUDENT else s, objective=config.objective, seed=config.seed)
                 for s in config.selectors}
    writer = ShardWriter(out, state.process_index)
    counts = {"answered": 0, "resumed": len(mine) - len(todo), "bad_videos": 0}
    subtitles = None
    if config.subtitles:
        from hfs.eval.subtitled import SubtitleSource

        subtitles = SubtitleSource()
    t0 = time.perf_counter()
    try:
        with progress_bar(len(todo), f"eval {config.benchmark} [{state.process_index + 1}/{state.num_processes}]",
                          progress) as bar:
            for q in todo:
                try:
                    counts["answered"] += _evaluate_question(q, ks, done, video, scorers, selectors, answerer,
                                                             writer, subtitles)
                except VideoError as exc:
                    if not config.skip_bad:
                        raise InputError(f"{q.benchmark} question {q.id}: {exc} (use --skip-bad to skip it)") from exc
                    counts["bad_videos"] += 1
                bar.advance()
    finally:
        writer.close()
    counts["seconds"] = round(time.perf_counter() - t0, 2)
    if subtitles is not None:
        counts["without_subtitles"] = subtitles.missing
    state.wait_for_everyone()
    if not state.is_main_process:
        return {"process": counts}
    records = merge(out, [q.id for q in questions], config.selectors, ks)
    report = build_report(records, config, read, counts)
    write_eval_report(report, out)
    export_kfs_results(records, out)
    return report


def _evaluate_question(q: BenchmarkQuestion, ks: list[int], done: set, video: _CurrentVideo, scorers: _Scorers,
                       selectors: dict, answerer, writer: ShardWriter, subtitles=None) -> int:
    """Select for every missing (selector, k) of question ``q``, answer (with the subtitles at the
    chosen frames when ``subtitles`` is a SubtitleSource), and write the records."""
    entry = video.candidates(q.video, scorers.refining_score(q, list(selectors)), max(ks))
    raw = scorers.scores(q, entry.embeddings, list(selectors), raw=True)
    n = len(entry.times)
    picks: dict[tuple[str, int], np.ndarray] = {}
    for name, selector in selectors.items():
        z = standardize(raw[name])  # once per selector, not per k
        for k in ks:
            if (q.id, name, k) not in done:
                picks[(name, k)] = selector.select(z, min(k, n), times=entry.times, embeddings=entry.embeddings,
                                                   raw_scores=raw[name]).indices
    if picks:  # decode every frame the selections need in one pass
        video.frames(entry.times[np.unique(np.concatenate(list(picks.values())))])
    if picks and subtitles is not None:
        subtitles.for_question(q)
    for (name, k), idx in picks.items():
        times = entry.times[idx]
        extra = {}
        if subtitles is not None:
            extra["subtitles"] = subtitles.lines(q, times.tolist(), float(video.source.info.fps or 0.0))
        result = answerer.answer(video.frames(times), times.tolist(), q.question, q.options, **extra)
        writer.write({
            "id": q.id, "benchmark": q.benchmark, "selector": name, "k": k, "frames": int(len(idx)),
            "prediction": result.answer, "answer": q.answer, "correct": result.answer == q.answer,
            "probs": [round(float(p), 5) for p in result.probs], "times": [round(float(t), 3) for t in times],
            "duration_group": q.duration_group, "category": q.category, "video": q.video_id,
            **({"subtitle_lines": len(extra["subtitles"].lines)} if extra else {}),
        })
    return len(picks)
