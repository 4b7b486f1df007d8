"""KFS-Bench metrics (arXiv 2512.14017): how well a set of selected frame times covers a
question's annotated evidence scenes.

The definitions follow the benchmark's released evaluation (``eval.py`` of
github.com/NEC-VID/KFS-Bench). For one question with frame times t_1..t_k and evidence scenes
S_1..S_m, each a union of segments [start, end] (end already padded by 1 s; both ends count):

- key-frame rate KFR = n_tp / k, with n_tp the frames inside any scene (precision);
- scene hit rate SHR = share of scenes with at least one frame inside;
- balanced scene recall BSR = share of scenes s whose frame count n_s reaches
  max(1, floor(min(L_s / sum L * n_tp, n_tp / m))), L_s the scene's length in seconds: each scene
  should get its fair share of the key frames, by length or evenly, whichever is smaller;
- balanced distribution similarity BDS = max over a in {0, 0.1, ..., 1} of the cosine between
  the distribution of key frames over scenes (n_s / sum n_s) and (L_s ** a): 1 when frames are
  spread over scenes in proportion to their lengths, evenly, or anywhere between; 0 when no
  frame hits a scene;
- UKSS = (KFR * BSR * BDS) ** (1/3), the geometric mean of the three.

Over questions, KFR, SHR, BSR and BDS are averaged; UKSS is the geometric mean of the
per-question UKSS, each clipped to at least 0.01 (so one miss does not zero the whole set).
One choice of ours where the released code is silent: an empty selection scores 0 everywhere
(the released code divides by zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from hfs.data.benchmarks.kfs import EvidenceScene

BDS_EXPONENTS = np.linspace(0.0, 1.0, 11)  # a in L_s ** a: 0 (even) .. 1 (length-proportional)
UKSS_FLOOR = 0.01  # per-question UKSS floor before the geometric mean over questions
METRICS = ("kfr", "shr", "bsr", "bds", "ukss")


@dataclass(frozen=True)
class KfsScores:
    """The KFS-Bench metrics of one selection for one question (each in [0, 1])."""

    kfr: float
    shr: float
    bsr: float
    bds: float
    ukss: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _inside(times: np.ndarray, scene: EvidenceScene) -> np.ndarray:
    """[k] bool: which times fall in any segment of ``scene`` (ends included)."""
    bounds = np.asarray(scene.segments, dtype=np.float64).reshape(-1, 2)
    return ((times[:, None] >= bounds[None, :, 0]) & (times[:, None] <= bounds[None, :, 1])).any(axis=1)


def kfs_scores(times: Sequence[float], scenes: Sequence[EvidenceScene]) -> KfsScores:
    """KFR, SHR, BSR, BDS and UKSS of frames at ``times`` (seconds) against ``scenes``."""
    if not scenes:
        raise ValueError("a question needs at least one evidence scene")
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    if t.size == 0:
        return KfsScores(0.0, 0.0, 0.0, 0.0, 0.0)
    inside = np.stack([_inside(t, scene) for scene in scenes])  # [m, k]
    n_tp = int(inside.any(axis=0).sum())
    per_scene = inside.sum(axis=1)  # frames in each scene (a frame in two overlapping scenes counts twice)
    lengths = np.array([scene.length for scene in scenes])
    m = len(scenes)

    kfr = n_tp / t.size
    shr = float((per_scene > 0).mean())
    fair = np.floor(np.minimum(lengths / lengths.sum() * n_tp, n_tp / m))
    bsr = float((per_scene >= np.maximum(fair, 1.0)).mean())
    if n_tp > 0:
        share = per_scene / per_scene.sum()
        targets = lengths[:, None] ** BDS_EXPONENTS[None, :]  # [m, 11]
        cosines = share @ targets / (np.linalg.norm(share) * np.linalg.norm(targets, axis=0))
        bds = float(cosines.max())
    else:
        bds = 0.0
    ukss = float(np.cbrt(kfr * bsr * bds))
    return KfsScores(float(kfr), shr, bsr, bds, ukss)


def aggregate(scores: Iterable[KfsScores]) -> dict[str, float]:
    """Set-level figures: means of KFR, SHR, BSR, BDS; geometric mean of floored UKSS; n."""
    scores = list(scores)
    if not scores:
        return {"n": 0, **{name: float("nan") for name in METRICS}}
    out: dict[str, float] = {"n": len(scores)}
    for name in ("kfr", "shr", "bsr", "bds"):
        out[name] = float(np.mean([getattr(s, name) for s in scores]))
    ukss = np.maximum([s.ukss for s in scores], UKSS_FLOOR)
    out["ukss"] = float(np.exp(np.mean(np.log(ukss))))
    return out
