"""The trained student scores any number of candidates, not only the N it was trained with."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import hfs
from hfs.errors import InputError
from hfs.student import HFSSelector, StudentConfig


@pytest.fixture(scope="module")
def student(tiny_qwen_dir) -> HFSSelector:
    torch.manual_seed(0)
    model = HFSSelector(StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=16))
    with torch.no_grad():
        for p in model.trainable_parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


def _frames(n: int, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, 16, generator=torch.Generator().manual_seed(seed)), dim=-1)


@pytest.mark.parametrize("n", [1, 7, 128, 1000])
def test_score_frames_takes_any_n(student, n):
    frames = _frames(n)
    scores = student.score_frames(frames, "when does the screen turn red?", ["at the start", "at the end"])
    assert scores.shape == (n,) and torch.isfinite(scores).all()
    if n > 1:
        assert scores.std() > 0  # each frame gets its own score
    # the training forward (eval mode: plain top-k) scores the same N the same way
    k = min(4, n)
    out = student(frames.unsqueeze(0), ["when does the screen turn red?"], [["at the start", "at the end"]], k=k)
    assert torch.allclose(out.scores[0], scores, atol=1e-5)
    assert out.indices[0].tolist() == sorted(torch.topk(scores, k).indices.tolist())
    assert all(torch.isfinite(v) for v in out.losses.values())  # N = 1 included: its z-score is 0


def test_more_candidates_than_the_lm_has_positions_is_one_clear_error(student):
    limit = student.lm.get_base_model().config.max_position_embeddings
    with pytest.raises(InputError, match=r"do not fit the student's base LM .* use at most \d+ candidates"):
        student.score_frames(_frames(limit), "a red screen")
    with pytest.raises(InputError, match=r"\[N, 16\]"):
        student.score_frames(_frames(3)[:, :8], "a red screen")


def test_select_with_a_student_at_a_non_default_n(three_scene_video, tiny_clip_dir, tiny_encoder, student, tmp_path):
    student.config.encoder = str(tiny_clip_dir)
    path = student.save_pretrained(tmp_path / "student")
    for n in (7, 60):
        sel = hfs.select(three_scene_video, "a red screen", k=4, num_candidates=n, checkpoint=path)
        assert sel.num_candidates == n and sel.raw_scores.shape == (n,) and len(sel.indices) == 4
        frames = [f.image for f in hfs.video.open_video(three_scene_video).frames_at(
            sel.candidate_times, short_side=tiny_encoder.short_side, unique=False, tolerance=0)]
        expected = student.score_frames(tiny_encoder.encode_image_batch(frames), "a red screen").numpy()
        assert np.allclose(sel.raw_scores, expected, atol=1e-5)  # the student's own scores at this N
        assert sel.indices.tolist() == sorted(np.argsort(-expected, kind="stable")[:4].tolist())
