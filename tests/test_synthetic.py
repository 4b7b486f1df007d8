"""The synthetic video-QA set: its ground truth matches its pixels, and it is deterministic."""

from __future__ import annotations

import numpy as np

from hfs.data.synthetic import THIRDS, make_synthetic_set
from hfs.eval.metrics import evidence_recall
from hfs.video import open_video
from hfs.video.synth import COLORS


def test_evidence_shows_the_asked_colour_and_answers_the_question(tmp_path):
    items = make_synthetic_set(tmp_path, 6, seed=3)
    for item in items:
        start, end = item.evidence[0]
        colour = item.question.rstrip("?").split()[-1]
        frame = next(open_video(tmp_path / item.video).frames_at([(start + end) / 2])).image
        assert np.abs(frame.reshape(-1, 3).mean(0) - COLORS[colour]).max() < 25
        assert item.options == list(THIRDS)
        assert item.answer == min(int((start + end) / 2 // (item.duration / 3)), 2)
    again = make_synthetic_set(tmp_path / "again", 6, seed=3)
    assert [(i.question, i.evidence, i.answer) for i in again] == [(i.question, i.evidence, i.answer) for i in items]
    assert {i.answer for i in make_synthetic_set(tmp_path / "more", 12, seed=4)} == {0, 1, 2}


def test_evidence_recall():
    events = [(1.0, 2.0), (5.0, 5.5)]
    assert evidence_recall([0.5, 1.5, 3.0], events) == 0.5
    assert evidence_recall([1.0, 5.2], events) == 1.0
    assert evidence_recall([2.0, 5.5], events) == 0.0  # intervals are [start, end)
    assert evidence_recall([1.0], []) == 0.0
