"""Why the miniature's student does or does not learn: the signals the paper's loss gives it (issue 12).

    python benchmarks/probe_learning.py [--work DIR] [--oracle-steps 1500]

Runs on the task bench_learning.py prepared in --work (prepared here if missing) and measures,
on its held-out videos, each link of the chain from the teacher to the student:

1. teacher: its accuracy by what it is shown (the evidence alone; with 3 gray fillers; with one
   frame of each other screen; the other screens only). A teacher that binds the asked colour
   to its screen answers as well with the other screens beside the evidence as with fillers;
   one that reads whatever shape it sees falls to chance there, and is confidently wrong on the
   other screens alone, which teaches a student to avoid every screen.
2. mask gradient: dL_CE/dm_i for {evidence, another screen, 2 fillers} shown together, with the
   mask at the visual tokens ("vision") and at every layer's input ("layers"). The signal the
   student gets is useful when the evidence's is negative (raise it) and the other screen's
   positive (lower it); the table gives how often each sign is right and the mean magnitude.
3. MLP_t: which of those four frames the pretrained teacher scorer ranks first (evidence, the
   other screen or a filler): what L_KL passes on at the start of training.
4. the student's ceiling: the same student trained directly on the true evidence (KL to the
   uniform distribution over the evidence candidates, every candidate every step), held-out
   recall of its top k. What the student could reach if the teacher's signals were exact.
Chance levels are printed beside each figure.

    python benchmarks/probe_learning.py --run WORK/runs/NAME [--videos 24]

instead follows one training run (checkpoint_every > 0) checkpoint by checkpoint, on validation
videos: the student's top-k evidence recall and score spread, and which frame MLP_t ranks first,
with its weights from the checkpoint and, beside it, the pretrained MLP_t on the same (trained)
teacher LoRA, which tells whether MLP_t's own weights or the LoRA under it moved it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hfs.eval.learning import (CandidateFrames, evidence_candidates, load_task, prepare_task,  # noqa: E402
                               screen_candidates, student_indices)
from hfs.eval.metrics import evidence_recall  # noqa: E402


def roles(item, times: np.ndarray, decoded: list[np.ndarray]) -> tuple[list[int], list[int], list[int]]:
    """Candidate indices: (evidence, other screens with one per screen, gray fillers)."""
    evidence = evidence_candidates(item, times)
    screens = screen_candidates(decoded)
    first_of_screen: dict[tuple, int] = {}
    for i in screens:
        if i not in evidence:
            first_of_screen.setdefault(tuple(decoded[i][2, 2] // 32), i)
    fillers = [i for i in range(len(times)) if i not in screens]
    return evidence, list(first_of_screen.values()), fillers


def four_frames(item, times, decoded, rng) -> tuple[list[int], list[int], list[int]] | None:
    """{the first evidence candidate, another screen, 2 fillers} ascending, with the evidence and
    other-screen indices; None when the video has no evidence candidate or no other screen."""
    evidence, others, fillers = roles(item, times, decoded)
    if not evidence or not others:
        return None
    idx = sorted([evidence[0], int(rng.choice(others)), *rng.choice(fillers, 2, replace=False).tolist()])
    return idx, evidence, others


def role_of(i: int, evidence: list[int], others: list[int]) -> str:
    return "evidence" if i in evidence else "other screen" if i in others else "filler"


def teacher_accuracy(task, frames, teacher, rng) -> dict[str, float]:
    """Share answered right, per kind of frame set shown."""
    shown: dict[str, list[bool]] = {"evidence alone": [], "evidence + 3 fillers": [], "evidence + other screens": [],
                                    "other screens only": []}
    for item in task.test_items:
        times, _, decoded = frames(item)
        evidence, others, fillers = roles(item, times, decoded)
        if not evidence or not others:
            continue
        e = evidence[len(evidence) // 2]
        sets = {"evidence alone": [e], "evidence + 3 fillers": [e, *rng.choice(fillers, 3, replace=False)],
                "evidence + other screens": [e, *others], "other screens only": others}
        for name, idx in sets.items():
            idx = sorted(int(i) for i in idx)
            got = teacher.answer([decoded[i] for i in idx], [float(times[i]) for i in idx], item.question, item.options)
            shown[name].append(got.answer == item.answer)
    return {name: float(np.mean(v)) for name, v in shown.items()}


def mask_gradients(task, frames, teacher_dir: str, rng_seed: int) -> dict[str, dict[str, float]]:
    """Per mask place: how often dL_CE/dm has the useful sign, and its mean magnitude, per role."""
    from hfs.reasoning import MultimodalAnswerer

    out = {}
    for place in ("vision", "layers"):
        teacher = MultimodalAnswerer(teacher_dir, device="cpu", mask_at=place)
        rng = np.random.default_rng(rng_seed)
        grads: dict[str, list[float]] = {"evidence": [], "other screen": [], "filler": []}
        for item in task.test_items:
            times, _, decoded = frames(item)
            if (found := four_frames(item, times, decoded, rng)) is None:
                continue
            idx, evidence, others = found
            m = torch.ones(len(idx), requires_grad=True)
            answer = teacher([decoded[i] for i in idx], [float(times[i]) for i in idx], item.question, item.options,
                             frame_weights=m)
            torch.nn.functional.cross_entropy(answer.letter_logits.unsqueeze(0), torch.tensor([item.answer])).backward()
            for j, i in enumerate(idx):
                grads[role_of(i, evidence, others)].append(float(m.grad[j]))
        g = {role: np.asarray(v) for role, v in grads.items()}
        out[place] = {"evidence dL/dm < 0": float((g["evidence"] < 0).mean()),
                      "other screen dL/dm > 0": float((g["other screen"] > 0).mean()),
                      "mean |dL/dm| evidence": float(np.abs(g["evidence"]).mean()),
                      "mean |dL/dm| filler": float(np.abs(g["filler"]).mean())}
    return out


def saved_scorer(teacher, teacher_dir: str):
    """The pretrained MLP_t saved beside the teacher (``hfs.reasoning.pretrain``)."""
    from safetensors.torch import load_file

    from hfs.reasoning.pretrain import TEACHER_SCORER_FILE
    from hfs.scoring.mlp import FrameScorer

    scorer = FrameScorer(teacher.hidden_size)
    scorer.load_state_dict(load_file(str(Path(teacher_dir) / TEACHER_SCORER_FILE)))
    return scorer


def scorer_choice(items, frames, teacher, scorer, rng) -> dict[str, float]:
    """Share of questions where MLP_t (``scorer``) ranks first the evidence, the other screen or a filler."""
    first = {"evidence": 0, "other screen": 0, "filler": 0}
    for item in items:
        times, _, decoded = frames(item)
        if (found := four_frames(item, times, decoded, rng)) is None:
            continue
        idx, evidence, others = found
        with torch.no_grad():
            out = teacher([decoded[i] for i in idx], [float(times[i]) for i in idx], item.question, item.options,
                          return_hidden=True)
            logits = scorer(out.frame_hidden.float().unsqueeze(0), out.context_hidden.float().unsqueeze(0))[0]
        first[role_of(idx[int(logits.argmax())], evidence, others)] += 1
    total = max(1, sum(first.values()))
    return {role: count / total for role, count in first.items()}


def oracle_student(task, raw: dict, steps: int, lr: float, seed: int = 0) -> dict[str, float]:
    """Held-out recall of the student trained on the true evidence (see the module docstring)."""
    from hfs.config import from_dict
    from hfs.data.shapes import make_shapes_set
    from hfs.encoders import create_encoder
    from hfs.training.config import TrainConfig
    from hfs.training.losses import pseudo_label_loss
    from hfs.training.trainer import CandidateStore, _build_student

    torch.manual_seed(seed)
    config = from_dict(TrainConfig, raw)
    store = CandidateStore(create_encoder(raw["student"]["encoder"]), raw["data"]["num_candidates"],
                           str(task.cache_dir), None)
    train_items = make_shapes_set(task.video_dir, 64, seed=0)  # bench_learning's training videos
    student = _build_student(config)
    optimizer = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=lr)
    rng = np.random.default_rng(seed)

    def candidates(item):
        times, embeddings = store.candidates(task.video_dir / item.video)
        target = np.zeros(len(times), np.float32)
        target[evidence_candidates(item, times)] = 1.0
        return times, embeddings, target

    student.train()
    for _ in range(steps):
        item = train_items[int(rng.integers(len(train_items)))]
        times, embeddings, target = candidates(item)
        if not target.any():
            continue
        out = student(torch.as_tensor(embeddings).unsqueeze(0), [item.question], [item.options],
                      times=torch.as_tensor(times).unsqueeze(0), k=raw["k"])
        loss = pseudo_label_loss(out.scores, torch.as_tensor(target).unsqueeze(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    student.eval()
    recall = []
    for item in task.test_items:
        times, embeddings, _ = candidates(item)
        with torch.no_grad():
            idx = student_indices(student, raw["k"], embeddings, item)
        recall.append(evidence_recall(times[idx], item.evidence))
    return {"held-out recall": float(np.mean(recall))}


def trajectory(frames, run_dir: Path, items):
    """Per checkpoint of ``run_dir``: (step, student top-k recall, mean score std, MLP_t's first
    choices, the pretrained MLP_t's first choices), both MLP_t on the checkpoint's teacher LoRA."""
    import json

    from safetensors.torch import load_file

    from hfs.config import from_dict
    from hfs.training.config import TrainConfig
    from hfs.training.module import HFSTrainModule
    from hfs.training.run_folder import CONFIG_FILE
    from hfs.training.trainer import _build_student, _build_teacher

    config = from_dict(TrainConfig, json.loads((run_dir / CONFIG_FILE).read_text()))
    teacher = _build_teacher(config)
    module = HFSTrainModule(_build_student(config), teacher, teacher.hidden_size).eval()
    pretrained = {k: v.clone() for k, v in module.teacher_scorer.state_dict().items()}
    for checkpoint in sorted(run_dir.glob("checkpoint-*")):
        module.load_trainable_state_dict(load_file(str(checkpoint / "weights.safetensors")))
        trained = {k: v.clone() for k, v in module.teacher_scorer.state_dict().items()}
        recall, spread = [], []
        for item in items:
            times, embeddings, _ = frames(item)
            scores = module.student.score_frames(embeddings, item.question, item.options).numpy()
            spread.append(float(scores.std()))
            recall.append(evidence_recall(times[np.sort(np.argsort(-scores)[:config.k])], item.evidence))
        choices = []
        for weights in (trained, pretrained):
            module.teacher_scorer.load_state_dict(weights)
            choices.append(scorer_choice(items, frames, teacher, module.teacher_scorer, np.random.default_rng(0)))
        module.teacher_scorer.load_state_dict(trained)
        yield int(checkpoint.name.split("-")[1]), float(np.mean(recall)), float(np.mean(spread)), *choices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hfs-bench-learning",
                        help="bench_learning.py's work folder (prepared here if missing)")
    parser.add_argument("--oracle-steps", type=int, default=1500, help="steps of the ceiling run (0: skip it)")
    parser.add_argument("--oracle-lr", type=float, default=1e-3)
    parser.add_argument("--run", type=Path, help="a training run with checkpoints: follow it instead (validation videos)")
    parser.add_argument("--videos", type=int, default=24, help="validation videos for --run (default 24)")
    args = parser.parse_args(argv)
    from hfs.encoders import create_encoder
    from hfs.reasoning import MultimodalAnswerer

    torch.set_num_threads(1)
    start = time.perf_counter()
    if not (args.work / "train.yaml").is_file():
        prepare_task(args.work, train_videos=256, test_videos=48, teacher_videos=256, log=print)
    task = load_task(args.work)
    raw = yaml.safe_load(task.config.read_text())
    teacher = MultimodalAnswerer(str(task.teacher), device="cpu")
    frames = CandidateFrames(task, create_encoder(raw["student"]["encoder"]), raw["data"]["num_candidates"],
                             teacher.short_side)
    if args.run is not None:
        from hfs.eval.learning import validation_items

        items = validation_items(task, args.videos)
        print(f"{args.run}: {len(items)} validation videos; MLP_t's first of {{evidence, another screen, 2 fillers}}")
        print("  step  top-k recall  score std  MLP_t: evidence / filler  pretrained MLP_t: evidence / filler")
        for step, recall, spread, trained, pre in trajectory(frames, args.run, items):
            print(f"{step:6d}  {recall:12.3f}  {spread:9.2f}  {trained['evidence']:8.2f} / {trained['filler']:.2f}"
                  f"  {pre['evidence']:18.2f} / {pre['filler']:.2f}", flush=True)
        print(f"\n({time.perf_counter() - start:.0f} s)")
        return 0
    options = len(task.test_items[0].options)
    print(f"{len(task.test_items)} held-out videos, {options} options (chance {1 / options:.2f})")
    print("\n1. teacher accuracy by what it is shown")
    for name, value in teacher_accuracy(task, frames, teacher, np.random.default_rng(0)).items():
        print(f"   {name:28s} {value:.3f}")
    print("\n2. dL_CE/dm on {evidence, another screen, 2 fillers} (a useful sign: evidence < 0, other > 0; chance 0.5)")
    for place, row in mask_gradients(task, frames, str(task.teacher), 0).items():
        print(f"   mask at {place:7s} " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
    print("\n3. MLP_t's first of {evidence, another screen, 2 fillers} (chance 0.25 / 0.25 / 0.5)")
    scorer = saved_scorer(teacher, str(task.teacher))
    for role, share in scorer_choice(task.test_items, frames, teacher, scorer, np.random.default_rng(0)).items():
        print(f"   {role:14s} {share:.3f}")
    if args.oracle_steps:
        got = oracle_student(task, raw, args.oracle_steps, args.oracle_lr)
        print(f"\n4. student trained on the true evidence ({args.oracle_steps} steps, lr {args.oracle_lr:g}): "
              f"held-out recall@{raw['k']} {got['held-out recall']:.3f}")
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
