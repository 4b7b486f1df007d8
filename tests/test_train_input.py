"""The training input pipeline: DataLoader workers read the videos; results never depend on them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml

from hfs.cache import EmbeddingCache
from hfs.data.instruct import TrainingQuestion
from hfs.encoders.color import ColorNamesEncoder
from hfs.errors import HfsError
from hfs.pipeline import cached_candidates
from hfs.student import HFSSelector, StudentConfig
from hfs.training import data_pipeline
from hfs.training.config import DataConfig, TrainConfig
from hfs.training.data_pipeline import CandidateVideos, TrainInputs, epoch_order, step_batches
from hfs.training.trainer import train
from hfs.video import open_video
from hfs.video.synth import Scene, write_video

COLORS = ["red", "blue", "green", "yellow"]
TEACHER_SIDE = 40



@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("input-videos")
    pairs = [("red", "blue"), ("green", "red"), ("blue", "yellow"), ("yellow", "green"), ("red", "green")]
    return [write_video(root / f"v{i}.mp4", [Scene(a, 2), Scene(b, 2)], fps=5, size=(96, 64))
            for i, (a, b) in enumerate(pairs)]


def _questions(videos):
    # two questions on the first video: its teacher frames are then read twice by one process
    pairs = [("red", "blue"), ("green", "red"), ("blue", "yellow"), ("yellow", "green"), ("red", "green")]
    qs = [TrainingQuestion(f"q{i}", v.resolve(), "what colour is the screen at the end?", COLORS, COLORS.index(b))
          for i, (v, (_, b)) in enumerate(zip(videos, pairs))]
    return qs + [TrainingQuestion("q5", videos[0].resolve(), "what colour is the screen first?", COLORS, 0)]


def _inputs(questions, encoder, cache_dir, num_workers, steps=3, per_step=2):
    dataset = CandidateVideos([str(q.video) for q in questions], 16, encoder.fingerprint, encoder.short_side,
                              encoder.dim, str(cache_dir), TEACHER_SIDE, need_frames=True)
    batches = step_batches(len(questions), per_step, 0, 0, 1, 0, 0, steps)
    return TrainInputs(questions, encoder, dataset, batches, k=3, num_workers=num_workers, prefetch_factor=2, seed=0)


def _read_all(inputs, questions, per_step=2, steps=3):
    out = []
    for batch in step_batches(len(questions), per_step, 0, 0, 1, 0, 0, steps):
        out.append((batch, inputs.next_step(batch)))
    inputs.close()
    return out


def test_step_batches_follow_the_epoch_orders_from_any_position():
    # 7 questions, 3 per step: steps cross epochs (a short last step) exactly as the loop walks them
    full = list(step_batches(7, 3, 5, 0, 1, 0, 0, 8))
    walked = []
    for epoch in range(3):
        order = epoch_order(7, epoch, 5, 0, 1)
        walked += [order[i:i + 3] for i in range(0, 7, 3)]
    assert full == walked[:8]
    # resuming at a data position continues the same sequence
    assert list(step_batches(7, 3, 5, 0, 1, 1, 3, 3)) == full[4:7]
    # each process of two gets its share
    assert sorted(sum(step_batches(7, 3, 5, 0, 2, 0, 0, 2), []) + sum(step_batches(7, 3, 5, 1, 2, 0, 0, 1), [])) \
        == list(range(7))


def test_workers_read_the_same_inputs_as_the_in_process_path_and_fill_the_cache(tmp_path, videos, monkeypatch, counting_encoder):
    questions = _questions(videos)
    encoder = counting_encoder()
    cache = EmbeddingCache(tmp_path / "cache")

    # the training process must not open a video: its open_video is a tripwire (spawned workers import their own)
    def tripwire(*args, **kwargs):
        raise AssertionError("the training process opened a video")

    monkeypatch.setattr(data_pipeline, "open_video", tripwire)
    with pytest.raises(AssertionError, match="opened a video"):  # in-process reading trips it
        _read_all(_inputs(questions, encoder, cache.root, num_workers=0), questions)
    cold = _read_all(_inputs(questions, encoder, cache.root, num_workers=2), questions)
    assert encoder.frames > 0  # cache misses: the workers' frames embedded here
    monkeypatch.undo()

    for batch, step in cold:
        for i, got in zip(batch, step):
            q = questions[i]
            # what `hfs select` computes and caches for this video, and the teacher frames decoded directly
            entry, hit, _, _ = cached_candidates(open_video(q.video), ColorNamesEncoder(), 16, cache)
            assert hit, "training stored the entry under hfs select's key"
            np.testing.assert_array_equal(got.times, entry.times)
            np.testing.assert_array_equal(got.embeddings.numpy(), entry.embeddings)
            frames = [f.image for f in open_video(q.video).frames_at(entry.times, short_side=TEACHER_SIDE,
                                                                     unique=False)]
            assert len(got.frames) == len(frames) and min(got.frames[0].shape[:2]) == TEACHER_SIDE
            for a, b in zip(got.frames, frames):
                np.testing.assert_array_equal(a, b)
            assert (got.question, got.options, got.answer) == (q.question, q.options, q.answer)

    # warm cache: no frame is embedded, and in-process reading gives the same inputs
    encoder.frames = 0
    warm = _read_all(_inputs(questions, encoder, cache.root, num_workers=0), questions)
    assert encoder.frames == 0
    for (batch_a, step_a), (batch_b, step_b) in zip(cold, warm):
        assert batch_a == batch_b
        for a, b in zip(step_a, step_b):
            np.testing.assert_array_equal(a.embeddings.numpy(), b.embeddings.numpy())
            assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames))


def test_a_worker_error_is_one_line_in_the_training_process(tmp_path, videos):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    questions = [TrainingQuestion("b", bad, "which colour?", COLORS, 0)]
    inputs = _inputs(questions, ColorNamesEncoder(), tmp_path / "cache", num_workers=1, steps=1, per_step=1)
    with pytest.raises(HfsError) as info:
        inputs.next_step([0])
    inputs.close()
    assert "broken.mp4" in str(info.value) and "\n" not in str(info.value)


def _config(tmp_path, name, tiny_qwen_dir, tiny_vlm_dir, num_workers):
    return TrainConfig(
        output_dir=str(tmp_path / name), k=3, supervision="ce+kl", teacher=str(tiny_vlm_dir), max_steps=2,
        batch_size=2, checkpoint_every=0, warmup_steps=1, lr=1e-2, seed=3,
        student=StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=3, encoder="color-names"),
        data=DataConfig(num_candidates=16, cache_dir=str(tmp_path / f"cache-{name}"), num_workers=num_workers),
    )


def test_two_workers_train_exactly_as_in_process(tmp_path, videos, tiny_qwen_dir, tiny_vlm_dir, counting_encoder):
    from safetensors.torch import load_file

    from hfs.reasoning import MultimodalAnswerer
    from hfs.training.checkpoint import latest_checkpoint

    questions = _questions(videos)
    runs = {}
    for name, workers in (("in-process", 0), ("workers", 2)):
        config = _config(tmp_path, name, tiny_qwen_dir, tiny_vlm_dir, workers)
        torch.manual_seed(0)
        student = HFSSelector(config.student)
        teacher = MultimodalAnswerer(str(tiny_vlm_dir), lora_rank=config.r_teacher)
        encoder = counting_encoder()
        train(config, student=student, teacher=teacher, questions=questions, encoder=encoder, progress=False)
        log = [json.loads(line) for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]
        ckpt = latest_checkpoint(tmp_path / name)
        runs[name] = (log, {k: v for f in sorted(ckpt.glob("*.safetensors")) for k, v in load_file(str(f)).items()})
        assert encoder.frames > 0  # a cold cache: every video embedded once, here
        assert all(r["data_wait_s"] >= 0 for r in log)
    (log_a, weights_a), (log_b, weights_b) = runs["in-process"], runs["workers"]
    assert [r["step"] for r in log_a] == [1, 2]
    for key in ("loss", "L_CE", "L_KL", "F", "L_sep"):
        assert [r[key] for r in log_a] == [r[key] for r in log_b], key
    assert weights_a.keys() == weights_b.keys() and any(k.startswith("teacher.") for k in weights_a)
    for key in weights_a:
        assert torch.equal(weights_a[key], weights_b[key]), key


def test_a_bad_num_workers_is_a_config_error(tmp_path, capsys):
    from hfs.validation import FieldError
    from hfs.train import main

    with pytest.raises(FieldError, match=r"DataConfig\.num_workers: must be between 0 and 256, got -1"):
        DataConfig(num_workers=-1)
    (tmp_path / "train.yaml").write_text(yaml.safe_dump({"data": {"num_workers": "two"}}))
    with pytest.raises(HfsError, match=r"num_workers.*expected an integer"):
        TrainConfig.from_yaml(tmp_path / "train.yaml")
    assert DataConfig(num_workers=3).workers() == 3
    # automatic: none without a GPU (they would take the training's CPU cores)
    if not torch.cuda.is_available():
        assert DataConfig().workers() == 0
    (tmp_path / "ok.yaml").write_text(yaml.safe_dump({"output_dir": str(tmp_path / "run")}))
    capsys.readouterr()
    assert main([str(tmp_path / "ok.yaml"), "--num-workers", "-2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hfs: error: DataConfig.num_workers: must be between 0 and 256, got -2"]


def test_training_takes_hfs_selects_frames_and_caches_exact_frames_only(tmp_path):
    """Where keyframes stand in for the grid (auto), training's candidates are ``hfs select``'s,
    cached or not, and what it stores is exact frames: a later exact (seek) run of the same N
    from that cache gives the frames of an uncached one."""
    import hfs

    video = write_video(tmp_path / "gop15.mp4", [Scene("red", 20), Scene("blue", 20)], fps=10, size=(96, 64),
                        keyframe_interval=15)
    assert open_video(video).choose_mode(16) == "keyframe"  # keyframes stand in for some of the 16 targets
    encoder = ColorNamesEncoder()
    questions = [TrainingQuestion("q0", video.resolve(), "what colour is the screen?", COLORS, 0)]
    cache = EmbeddingCache(tmp_path / "cache")
    uncached, _, _, _ = cached_candidates(open_video(video), encoder, 16, None)
    for _ in range(2):  # a miss, then a hit
        got = _read_all(_inputs(questions, encoder, cache.root, 0, steps=1, per_step=1), questions, 1, 1)[0][1][0]
        np.testing.assert_array_equal(got.times, uncached.times)
    exact = dict(k=4, num_candidates=16, encoder=encoder, decode_mode="seek")
    assert hfs.select(video, "red", cache_dir=cache.root, **exact).candidate_times.tolist() == \
        hfs.select(video, "red", use_cache=False, **exact).candidate_times.tolist()
