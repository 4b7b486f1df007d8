"""End-to-end training loop: a step, exact resume, and two processes through accelerate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from hfs.atomic import _HOST
from hfs.data.instruct import TrainingQuestion
from hfs.errors import InputError
from hfs.student import HFSSelector, StudentConfig
from hfs.training.config import DataConfig, TrainConfig
from hfs.training.trainer import train
from hfs.video.synth import Scene, write_video


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-videos")
    for i, (first, second) in enumerate([("red", "blue"), ("green", "red"), ("blue", "yellow"), ("red", "green")]):
        write_video(root / f"v{i}.mp4", [Scene(first, 2), Scene(second, 2)], fps=4, size=(64, 48))
    return root


def _questions(root):
    pairs = [("red", "blue"), ("green", "red"), ("blue", "yellow"), ("red", "green")]
    return [TrainingQuestion(f"q{i}", (root / f"v{i}.mp4").resolve(), "what colour is the screen at the end?",
                             ["red", "blue", "green", "yellow"], ["red", "blue", "green", "yellow"].index(b))
            for i, (_, b) in enumerate(pairs)]


def _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, **overrides) -> TrainConfig:
    values = dict(
        output_dir=str(tmp_path / "run"), k=3, supervision="pseudo", max_steps=2, checkpoint_every=1,
        warmup_steps=1, lr=1e-2, seed=0,
        student=StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=16, encoder=str(tiny_clip_dir)),
        data=DataConfig(num_candidates=8, cache_dir=str(tmp_path / "cache")),
    )
    values.update(overrides)
    return TrainConfig(**values)


def _student(config):
    torch.manual_seed(0)
    return HFSSelector(config.student)


def _log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def test_steps_update_exactly_the_trainable_parameters(tmp_path, tiny_qwen_dir, tiny_clip_dir, tiny_encoder,
                                                        video_dir):
    # two steps: LoRA's A matrices get no gradient while B is still zero (its initial value)
    config = _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, max_steps=2)
    student = _student(config)
    before = {n: p.detach().clone() for n, p in student.named_parameters()}
    summary = train(config, student=student, questions=_questions(video_dir), encoder=tiny_encoder, progress=False)
    assert summary["steps"] == 2
    assert all(torch.isfinite(torch.tensor(v)) for v in summary["last"].values())
    for name, p in student.named_parameters():
        changed = not torch.equal(before[name], p.detach())
        assert changed == p.requires_grad, f"{name}: trainable={p.requires_grad} changed={changed}"
    saved = HFSSelector.from_pretrained(tmp_path / "run" / "student")
    assert saved.config.encoder == str(tiny_clip_dir)
    log = _log(tmp_path / "run")
    assert log[0]["step"] == 1 and {"loss", "F", "L_sep", "L_pseudo", "tau", "lambda_kl", "lr"} <= set(log[0])
    assert (tmp_path / "run" / "tensorboard").is_dir()


@pytest.mark.parametrize("teacher_dir", ["tiny_vlm_dir", "tiny_llava_dir"])  # Qwen2-VL, LLaVA-OneVision
def test_ce_kl_step_trains_student_teacher_lora_and_teacher_scorer(tmp_path, tiny_qwen_dir, tiny_clip_dir,
                                                                    teacher_dir, tiny_encoder, video_dir, request):
    from hfs.reasoning import MultimodalAnswerer

    tiny_vlm_dir = request.getfixturevalue(teacher_dir)
    config = _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, supervision="ce+kl", max_steps=2, teacher=str(tiny_vlm_dir))
    student = _student(config)
    teacher = MultimodalAnswerer(str(tiny_vlm_dir), lora_rank=config.r_teacher)
    watched = {f"student.{n}": p for n, p in student.named_parameters()}
    watched.update({f"teacher.{n}": p for n, p in teacher.named_parameters()})
    before = {n: p.detach().clone() for n, p in watched.items()}
    summary = train(config, student=student, teacher=teacher, questions=_questions(video_dir), encoder=tiny_encoder,
                    progress=False)
    last = summary["last"]
    for key in ("L_CE", "L_KL", "F", "L_sep"):
        assert np.isfinite(last[key]), key
    assert last["L_CE"] > 0 and last["L_KL"] >= 0
    for name, p in watched.items():
        changed = not torch.equal(before[name], p.detach())
        assert changed == p.requires_grad, f"{name}: trainable={p.requires_grad} changed={changed}"
    from hfs.training.checkpoint import latest_checkpoint, load_checkpoint

    # the checkpoint holds MLP_t and the teacher's LoRA as well as the student

    weights, _, _ = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert any(k.startswith("teacher_scorer.") for k in weights)
    assert any(k.startswith("teacher.") and "lora_" in k for k in weights)


def test_resume_continues_exactly(tmp_path, tiny_qwen_dir, tiny_clip_dir, tiny_encoder, video_dir):
    qs = _questions(video_dir)
    full = _config(tmp_path / "a", tiny_qwen_dir, tiny_clip_dir, max_steps=3)
    train(full, student=_student(full), questions=qs, encoder=tiny_encoder, progress=False)
    first = _config(tmp_path / "b", tiny_qwen_dir, tiny_clip_dir, max_steps=3, checkpoint_every=0)
    train(first, stop_at=2, student=_student(first), questions=qs, encoder=tiny_encoder, progress=False)
    # a new process: fresh models, everything else from the checkpoint
    train(first, resume=True, student=_student(first), questions=qs, encoder=tiny_encoder, progress=False)
    a, b = _log(tmp_path / "a" / "run"), _log(tmp_path / "b" / "run")
    assert [r["step"] for r in b] == [1, 2, 3]
    assert b[2]["loss"] == a[2]["loss"]
    assert b[2]["lr"] == pytest.approx(a[2]["lr"]) and b[2]["tau"] == pytest.approx(a[2]["tau"])


def _tensorboard_scalars(run_dir, tag="train/loss"):
    """(step, value) of ``tag`` as TensorBoard shows them, purges of restarted sessions applied.

    TensorBoard reads a folder's event files in name order (start second, pid, a counter); real
    sessions are seconds apart, but two in one test process may share a second and sort
    wrongly, so the files are read in the order of their first event's wall time."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    files = sorted((run_dir / "tensorboard").glob("events.out.tfevents.*"),
                   key=lambda f: next(iter(EventFileLoader(str(f)).Load())).wall_time)
    view = run_dir.parent / "tensorboard-view"
    view.mkdir()
    for n, f in enumerate(files):
        shutil.copy(f, view / f"events.out.tfevents.{n:04d}")
    events = EventAccumulator(str(view))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_resume_after_a_kill_logs_every_step_once_and_removes_leftovers(tmp_path, tiny_qwen_dir, tiny_clip_dir,
                                                                        tiny_encoder, video_dir, dead_pid):
    qs = _questions(video_dir)
    config = _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, max_steps=4, checkpoint_every=2)
    train(config, stop_at=3, student=_student(config), questions=qs, encoder=tiny_encoder, progress=False)
    run = tmp_path / "run"
    # a kill after step 3 was logged, while its checkpoint was being written: only checkpoint 2 is complete
    dead = dead_pid
    os.replace(run / "checkpoint-000003", run / f".checkpoint-000003.tmp-{_HOST}-{dead}-0a1b2c3d")
    shutil.rmtree(run / "student")
    (run / "student").mkdir()
    for leftover in (run / f".tmp-{_HOST}-{dead}-a1b2c3.json", run / "student" / f".tmp-{_HOST}-{dead}-d4e5f6.safetensors"):
        leftover.write_text("half")
    assert [r["step"] for r in _log(run)] == [1, 2, 3]
    summary = train(config, resume=True, student=_student(config), questions=qs, encoder=tiny_encoder,
                    progress=False)
    assert summary["steps"] == 4
    log = _log(run)
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    scalars = _tensorboard_scalars(run)
    assert [step for step, _ in scalars] == [1, 2, 3, 4]
    assert [value for _, value in scalars] == pytest.approx([r["loss"] for r in log])
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []
    assert [p.name for p in (run / "student").iterdir() if p.name.startswith(".")] == []
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-000002", "checkpoint-000004"]


def test_an_output_folder_belongs_to_one_config(tmp_path, tiny_qwen_dir, tiny_clip_dir, tiny_encoder, video_dir,
                                                capsys):
    from hfs.train import main
    from hfs.training.run_folder import config_json

    qs = _questions(video_dir)
    run = tmp_path / "run"

    def go(config, resume=False):
        return train(config, resume=resume, student=_student(config), questions=qs, encoder=tiny_encoder,
                     progress=False)

    config = _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, max_steps=1, checkpoint_every=0)
    go(config)
    assert json.loads((run / "config.json").read_text()) == config_json(config)
    other = _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, max_steps=1, checkpoint_every=0, k=4)
    for resume in (False, True):
        with pytest.raises(InputError, match=r"another config \(k: 3 -> 4\); use a new output_dir or delete"):
            go(other, resume)
    with pytest.raises(InputError, match="already holds checkpoints of this config.*pass --resume"):
        go(config)
    # bookkeeping may change on resume; the finished run has nothing left to do
    assert go(_config(tmp_path, tiny_qwen_dir, tiny_clip_dir, max_steps=1, checkpoint_every=5, log_every=2),
              resume=True)["steps"] == 1
    assert [r["step"] for r in _log(run)] == [1]
    # the command line says it in one line
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(config_json(other)))
    capsys.readouterr()
    assert main([str(tmp_path / "other.yaml"), "--resume"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hfs: error:") and "another config (k: 3 -> 4)" in err[0]
    for damage in (None, b'{"k": 3, "lr'):
        if damage is None:
            (run / "config.json").unlink()
        else:
            (run / "config.json").write_bytes(damage)
        with pytest.raises(InputError, match="holds checkpoints .* but no readable config.json"):
            go(config, resume=True)
    # without checkpoints nothing can be mixed: another config starts afresh, its log too
    for ckpt in run.glob("checkpoint-*"):
        shutil.rmtree(ckpt)
    go(other)
    assert json.loads((run / "config.json").read_text())["k"] == 4
    assert [r["step"] for r in _log(run)] == [1]
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError, match="is a file, not a folder"):
        go(_config(tmp_path, tiny_qwen_dir, tiny_clip_dir, output_dir=str(tmp_path / "file")))


def test_two_processes_through_accelerate_agree(tmp_path, tiny_qwen_dir, tiny_clip_dir, video_dir):
    annotations = tmp_path / "train.json"
    annotations.write_text(json.dumps([
        {"id": q.id, "video": q.video.name, "conversations": [
            {"from": "human", "value": q.question + "\n" + "\n".join(f"{l}. {o}" for l, o in zip("ABCD", q.options))},
            {"from": "gpt", "value": "ABCD"[q.answer] + "."}]}
        for q in _questions(video_dir)]))
    config = yaml.safe_dump({
        "output_dir": str(tmp_path / "run"), "k": 3, "supervision": "pseudo", "max_steps": 2, "checkpoint_every": 0,
        "warmup_steps": 1, "lr": 0.01,
        "student": {"base_lm": str(tiny_qwen_dir), "frame_dim": 16, "encoder": str(tiny_clip_dir)},
        "data": {"format": "llava-video", "files": [str(annotations)], "root": str(video_dir), "num_candidates": 8,
                 "cache_dir": str(tmp_path / "cache")},
    })
    (tmp_path / "train.yaml").write_text(config)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # accelerate's multi-process launcher (torchrun underneath); with no GPU it runs gloo on the CPU
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "hfs.train", str(tmp_path / "train.yaml")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 2
    a, b = summary["param_checksums"]
    assert a == pytest.approx(b, rel=0, abs=1e-9)


def test_training_teaches_the_student_to_find_the_evidence(tmp_path, tiny_qwen_dir):
    """On the synthetic set, a short run (seconds) lifts held-out evidence recall at k well
    above uniform sampling's. Pseudo-label supervision from the colour encoder; F is off:
    on its own F's relevance term reinforces whatever is selected (see the closing note)."""
    from hfs.data.synthetic import make_synthetic_set
    from hfs.encoders.color import ColorNamesEncoder
    from hfs.eval.metrics import evidence_recall
    from hfs.selection import uniform_indices
    from hfs.training.trainer import CandidateStore

    encoder, root, k = ColorNamesEncoder(), tmp_path / "synthetic", 4
    train_items = make_synthetic_set(root, 24, seed=1)
    test_items = make_synthetic_set(root, 16, seed=2)
    config = _config(tmp_path, tiny_qwen_dir, "color-names", k=k, max_steps=150, checkpoint_every=0, lr=3e-3,
                     warmup_steps=5, use_objective=False,
                     student=StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=3, encoder="color-names"),
                     data=DataConfig(num_candidates=32, cache_dir=str(tmp_path / "cache")))
    student = _student(config)
    train(config, student=student, questions=[i.to_question(root) for i in train_items], encoder=encoder,
          progress=False)
    store = CandidateStore(encoder, 32, str(tmp_path / "cache"), None)
    learned, uniform = [], []
    for item in test_items:
        times, embeddings = store.candidates(root / item.video)
        scores = student.score_frames(embeddings, item.question, item.options).numpy()
        learned.append(evidence_recall(times[np.argsort(-scores)[:k]], item.evidence))
        uniform.append(evidence_recall(times[uniform_indices(len(times), k)], item.evidence))
    print(f"held-out evidence recall at k={k}: student {np.mean(learned):.3f}, uniform {np.mean(uniform):.3f}")
    assert np.mean(learned) >= np.mean(uniform) + 0.25


def test_teacher_lr_steps_the_teacher_gently_and_the_student_as_before(tmp_path, tiny_qwen_dir, tiny_clip_dir,
                                                                        tiny_vlm_dir, tiny_encoder, video_dir):
    """teacher_lr sets the step of the teacher's LoRA (and MLP_t) apart from the student's lr."""
    from hfs.reasoning import MultimodalAnswerer

    moved = {}
    for name, teacher_lr in (("same", None), ("gentle", 1e-5)):
        config = _config(tmp_path / name, tiny_qwen_dir, tiny_clip_dir, supervision="ce+kl", max_steps=2,
                         teacher=str(tiny_vlm_dir), teacher_lr=teacher_lr)
        student = _student(config)
        torch.manual_seed(0)
        teacher = MultimodalAnswerer(str(tiny_vlm_dir), lora_rank=config.r_teacher)
        parts = {"student": [p for p in student.parameters() if p.requires_grad],
                 "teacher": [p for p in teacher.parameters() if p.requires_grad]}
        before = {part: [p.detach().clone() for p in ps] for part, ps in parts.items()}
        train(config, student=student, teacher=teacher, questions=_questions(video_dir), encoder=tiny_encoder,
              progress=False)
        moved[name] = {part: sum(float((p.detach() - b).abs().sum()) for p, b in zip(ps, before[part]))
                       for part, ps in parts.items()}
    assert moved["same"]["teacher"] > 100 * moved["gentle"]["teacher"] > 0
    assert 0.5 < moved["gentle"]["student"] / moved["same"]["student"] < 2.0


def test_teacher_scorer_lr_holds_the_pretrained_mlp_t_while_the_lora_learns(tmp_path, tiny_qwen_dir, tiny_clip_dir,
                                                                            tiny_vlm_dir, tiny_encoder, video_dir):
    """teacher_scorer_lr steps MLP_t apart from the teacher's LoRA: 0 keeps the pretrained MLP_t the
    run started from exactly; unset, it follows teacher_lr and moves. The LoRA learns either way."""
    import shutil

    from safetensors.torch import load_file, save_file

    from hfs.reasoning import MultimodalAnswerer
    from hfs.reasoning.pretrain import TEACHER_SCORER_FILE
    from hfs.scoring.mlp import FrameScorer

    teacher_dir = tmp_path / "teacher"
    shutil.copytree(tiny_vlm_dir, teacher_dir)
    torch.manual_seed(1)
    width = MultimodalAnswerer(str(teacher_dir)).hidden_size
    pretrained = {k: v.contiguous() for k, v in FrameScorer(width).state_dict().items()}
    save_file(pretrained, str(teacher_dir / TEACHER_SCORER_FILE))
    moved = {}
    for name, scorer_lr in (("follows", None), ("held", 0.0)):
        config = _config(tmp_path / name, tiny_qwen_dir, tiny_clip_dir, supervision="ce+kl", max_steps=3,
                         checkpoint_every=0, teacher=str(teacher_dir), teacher_lr=1e-2, teacher_scorer_lr=scorer_lr)
        torch.manual_seed(0)
        teacher = MultimodalAnswerer(str(teacher_dir), lora_rank=config.r_teacher)
        lora = [p for p in teacher.parameters() if p.requires_grad]
        lora_before = [p.detach().clone() for p in lora]
        train(config, student=_student(config), teacher=teacher, questions=_questions(video_dir), encoder=tiny_encoder,
              progress=False)
        final = load_file(str(tmp_path / name / "run" / "checkpoint-000003" / "weights.safetensors"))
        moved[name] = {
            "MLP_t": sum(float((final[f"teacher_scorer.{k}"] - v).abs().sum()) for k, v in pretrained.items()),
            "LoRA": sum(float((p.detach() - b).abs().sum()) for p, b in zip(lora, lora_before)),
        }
    assert moved["held"]["MLP_t"] == 0.0 and moved["follows"]["MLP_t"] > 1e-3
    assert moved["held"]["LoRA"] > 0 and moved["follows"]["LoRA"] > 0


def test_resume_over_checkpoints_that_cannot_be_resumed_and_bad_stop_steps(tmp_path, tiny_qwen_dir, tiny_clip_dir,
                                                                          tiny_encoder, video_dir, capsys):
    from hfs.train import main
    from hfs.training.checkpoint import META_FILE

    qs = _questions(video_dir)
    config = _config(tmp_path, tiny_qwen_dir, tiny_clip_dir, max_steps=3, checkpoint_every=1)

    def go(**kwargs):
        return train(config, student=_student(config), questions=qs, encoder=tiny_encoder, progress=False, **kwargs)

    for stop_at in (-1, 0, True, 1.5):
        with pytest.raises(InputError, match="stop_at must be a step of at least 1"):
            go(stop_at=stop_at)
    go(stop_at=2)
    run = tmp_path / "run"
    with pytest.raises(InputError, match=r"stop_at=1: the run is already at step 2"):
        go(resume=True, stop_at=1)
    # checkpoint 2 holds a negative data position, checkpoint 1 weights of another shape: neither can be resumed
    meta = json.loads((run / "checkpoint-000002" / META_FILE).read_text())
    (run / "checkpoint-000002" / META_FILE).write_text(json.dumps({**meta, "data_position": {"epoch": 0,
                                                                                           "index": -3}}))
    from safetensors.torch import load_file, save_file

    weights = load_file(str(run / "checkpoint-000001" / "weights.safetensors"))
    name = next(k for k in sorted(weights) if weights[k].ndim == 2)
    weights[name] = torch.zeros(weights[name].shape[0] + 1, weights[name].shape[1])
    save_file(weights, str(run / "checkpoint-000001" / "weights.safetensors"))
    with pytest.raises(InputError, match=r"no checkpoint there can be resumed"):
        go(resume=True)
    # the command line: one error line; --stop-at below 1 is a usage error
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"output_dir": str(run)}))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "c.yaml"), "--stop-at", "-1"])
    assert exit_.value.code == 2 and "argument --stop-at: must be at least 1, got -1" in capsys.readouterr().err
