"""What every selector returns, and the interface it keeps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hfs.config import ObjectiveConfig
from hfs.errors import InputError
from hfs.selection.objective import objective_terms, positions_for


def source_frame_numbers(times: list[float], fps: float, num_frames: int = 0) -> list[int]:
    """The number of the source frame shown at each time: round(time * fps), at most the last
    frame when ``num_frames`` is known."""
    last = num_frames - 1 if num_frames > 0 else None
    return [min(int(round(t * fps)), last) if last is not None else int(round(t * fps)) for t in times]


@dataclass
class Selection:
    """k chosen candidates (sorted, unique) with their times and scores, plus context.

    A selector fills the first block; ``hfs.select`` adds where the scores came from.
    """

    indices: np.ndarray  # [k] candidate indices, ascending
    times: np.ndarray  # [k] seconds
    scores: np.ndarray  # [k] standardised scores of the chosen candidates
    objective: dict[str, float]
    selector: str
    k: int
    video: str | None = None
    question: str | None = None
    options: list[str] | None = None
    encoder: str | None = None
    num_candidates: int = 0
    requested_candidates: int = 0
    candidate_times: np.ndarray | None = None  # [N]
    candidate_scores: np.ndarray | None = None  # [N] standardised
    raw_scores: np.ndarray | None = None  # [N] before standardising: cosine, or the student's output
    repeats: np.ndarray | None = None  # [len(indices)] times each frame was drawn (peers that keep repeats)
    timing: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    passes: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "candidates"}] per candidate pass
    refined: np.ndarray | None = None  # [N] True for candidates a refining pass added
    decode_mode: str | None = None  # how the candidates were decoded (None: read from the cache)

    @property
    def frame_numbers(self) -> list[int] | None:
        """Each chosen frame's number in the source video (what other tools take as a frame
        index), or None when the video's frame rate is unknown."""
        fps = float((self.info or {}).get("fps") or 0.0)
        if fps <= 0:
            return None
        return source_frame_numbers(self.times.tolist(), fps, int((self.info or {}).get("num_frames") or 0))

    @property
    def frames(self) -> list[dict[str, Any]]:
        """[{index, frame, time, score}] in index order (the JSON contract of SPEC.md): ``index``
        is the candidate's, ``frame`` the source video's frame number (absent when unknown)."""
        rows = []
        numbers = self.frame_numbers
        for n, (i, t, s) in enumerate(zip(self.indices.tolist(), self.times.tolist(), self.scores.tolist())):
            row: dict[str, Any] = {"index": int(i)}
            if numbers is not None:
                row["frame"] = numbers[n]
            row.update(time=round(float(t), 4), score=round(float(s), 4))
            if self.raw_scores is not None:
                row["raw_score"] = round(float(self.raw_scores[i]), 4)
            rows.append(row)
        if self.repeats is not None:
            for row, drawn in zip(rows, self.repeats.tolist()):
                row["drawn"] = int(drawn)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The ``hfs select --json`` / selection.json object."""
        out: dict[str, Any] = {
            "video": self.video, "question": self.question, "options": self.options or [],
            "selector": self.selector, "k": self.k, "num_candidates": self.num_candidates,
            "encoder": self.encoder, "frames": self.frames,
            "objective": {k: round(float(v), 6) for k, v in self.objective.items()},
            "timing": {k: round(float(v), 4) for k, v in self.timing.items()},
        }
        if self.requested_candidates and self.requested_candidates != self.num_candidates:
            out["requested_candidates"] = self.requested_candidates
            out["note"] = (
                f"the video has only {self.num_candidates} distinct frames, "
                f"fewer than the {self.requested_candidates} candidates asked for"
            )
        if self.passes:
            out["passes"] = [{"name": str(p["name"]), "candidates": int(p["candidates"])} for p in self.passes]
        out["cached"] = self.cached
        if self.decode_mode:
            out["decode_mode"] = self.decode_mode
        if self.info:
            out["video_info"] = self.info
        return out


def _finite_array(value, name: str, ndim: int, rows: int | None) -> np.ndarray:
    """``value`` as a float64 array of ``ndim`` dimensions (first one ``rows`` long), all finite."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be an array of numbers ({exc})") from exc
    if array.ndim != ndim or array.size == 0 or (rows is not None and array.shape[0] != rows):
        want = {1: "[N]", 2: "[N, D]"}[ndim] + (f" with N={rows}" if rows is not None else "")
        raise InputError(f"{name} must be a non-empty {ndim}-D array of shape {want}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name} contain NaN or infinite values")
    return array


def validate_inputs(scores, k, times=None, embeddings=None) -> tuple[np.ndarray, int, np.ndarray | None,
                                                                      np.ndarray | None]:
    """The selector inputs as float64 arrays and an int k, or one ``InputError`` naming the problem."""
    scores = _finite_array(scores, "scores", 1, None)
    n = scores.size
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if k > n:
        raise InputError(f"k={k} is larger than the number of candidate frames ({n})")
    times = None if times is None else _finite_array(times, "times", 1, n)
    embeddings = None if embeddings is None else _finite_array(embeddings, "embeddings", 2, n)
    return scores, int(k), times, embeddings


class Selector(ABC):
    """Chooses k of N scored candidates. Subclasses implement ``_choose``.

    ``exact_k``: the selector returns exactly k distinct frames. A peer whose authors' code can
    return fewer (AKS's leaves, BOLT's kept repeats) sets it False; its Selection then holds the
    distinct frames it drew, with ``repeats`` counting draws where a frame was drawn twice.
    ``uses_raw``: ``_choose`` also takes ``raw``, the scores on their own scale (MDP3's kernel and
    Q-Frame's temperature are defined on raw cosines, which a z-score loses).
    """

    name: ClassVar[str] = ""
    exact_k: ClassVar[bool] = True
    uses_raw: ClassVar[bool] = False

    def __init__(self, objective: ObjectiveConfig | None = None, seed: int = 0) -> None:
        self.objective = objective or ObjectiveConfig()
        self.seed = seed

    def select(
        self,
        scores: np.ndarray,
        k: int,
        times: np.ndarray | None = None,
        embeddings: np.ndarray | None = None,
        raw_scores: np.ndarray | None = None,
    ) -> Selection:
        """Pick ``k`` candidates from ``scores`` [N] (times [N] s, embeddings [N, D] optional).

        ``scores`` are the per-video standardised scores every selector ranks by; ``raw_scores``
        [N] the same scores before standardising (the cosines), for the peers defined on that
        scale; without them those peers read ``scores`` as raw. Every selector's input is checked
        here, once: bad shapes, NaN or infinite values and k outside 1..N raise ``InputError``.
        """
        scores, k, times, embeddings = validate_inputs(scores, k, times, embeddings)
        raw = scores if raw_scores is None else _finite_array(raw_scores, "raw_scores", 1, scores.size)
        n = scores.size
        times = np.arange(n, dtype=np.float64) if times is None else times
        positions = positions_for(n, times, self.objective)
        extra = {"raw": raw} if self.uses_raw else {}
        drawn = np.asarray(self._choose(scores, k, positions, embeddings, **extra), dtype=np.int64)
        chosen, counts = np.unique(drawn, return_counts=True)
        if chosen.size != k and (self.exact_k or not 1 <= chosen.size <= k):
            raise AssertionError(f"{self.name} chose {chosen.size} distinct frames, expected {k}")
        return Selection(
            indices=chosen, times=times[chosen], scores=scores[chosen],
            objective=objective_terms(scores, chosen, positions, self.objective, embeddings=embeddings, k=int(k)),
            selector=self.name, k=int(k), repeats=counts if counts.max() > 1 else None,
        )

    @abstractmethod
    def _choose(self, scores: np.ndarray, k: int, positions: np.ndarray, embeddings: np.ndarray | None) -> np.ndarray:
        """Return k distinct candidate indices (any order)."""
