"""Training building blocks: losses, schedules, checkpoints, config."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from hfs.errors import InputError
from hfs.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint, set_rng_state
from hfs.training.config import TrainConfig
from hfs.training.losses import answer_ce, mutual_kl, pseudo_label_loss
from hfs.schedules import LinearSchedule, warmup_cosine


def test_mutual_kl_by_hand_and_gradients_reach_both_sides():
    t = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    s = torch.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    kl = mutual_kl(t, s)
    pt, ps = torch.softmax(t, -1), torch.softmax(s, -1)
    assert float(kl.detach()) == pytest.approx(float((pt * (pt.log() - ps.log())).sum()), rel=1e-6)
    kl.backward()
    assert float(t.grad.abs().sum()) > 0 and float(s.grad.abs().sum()) > 0
    same = torch.tensor([[0.3, -0.2, 1.0]])
    assert float(mutual_kl(same, same)) == pytest.approx(0.0, abs=1e-7)
    # temperature T divides the student's scores: s / 2 with T = 1 equals s with T = 2
    assert float(mutual_kl(t, s * 2, temperature=2.0)) == pytest.approx(float(mutual_kl(t, s)), rel=1e-6)


def test_answer_ce_and_pseudo_labels():
    logits = torch.tensor([[3.0, 0.0, 0.0, 0.0]])
    assert float(answer_ce(logits, torch.tensor([0]))) < float(answer_ce(logits, torch.tensor([1])))
    targets = torch.tensor([[0.0, 1.0, 3.0]])
    good = pseudo_label_loss(torch.log(targets + 1e-9), targets)
    bad = pseudo_label_loss(torch.tensor([[5.0, 0.0, -5.0]]), targets)
    assert float(good) == pytest.approx(0.0, abs=1e-5) and float(bad) > 1.0


def test_kl_weight_warms_up_over_the_first_epoch():
    sched = LinearSchedule(0.1, 1.0, steps=100)
    assert [sched(s) for s in (0, 50, 100, 500)] == pytest.approx([0.1, 0.55, 1.0, 1.0])


def test_warmup_cosine():
    assert warmup_cosine(0, 10, 110) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 110) == pytest.approx(1.0)
    assert warmup_cosine(60, 10, 110) == pytest.approx(0.5)
    assert warmup_cosine(110, 10, 110, min_ratio=0.1) == pytest.approx(0.1)


def test_checkpoint_round_trip_restores_rng_and_picks_latest(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    torch.manual_seed(123), np.random.seed(5), random.seed(7)
    save_checkpoint(tmp_path / "checkpoint-000010", dict(model.state_dict()), opt, None, step=10,
                    data_position={"epoch": 0, "index": 3})
    expected = (torch.rand(2), np.random.rand(), random.random())
    save_checkpoint(tmp_path / "checkpoint-000002", dict(model.state_dict()), opt, None, step=2, data_position={})
    (tmp_path / "checkpoint-000099").mkdir()  # an interrupted save: no meta, must be ignored
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-000010"
    weights, state, meta = load_checkpoint(tmp_path / "checkpoint-000010")
    assert meta["step"] == 10 and meta["data_position"] == {"epoch": 0, "index": 3}
    assert torch.equal(weights["weight"], model.weight.detach())
    opt2 = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), lr=0.1)
    opt2.load_state_dict(state["optimizer"])
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    set_rng_state(state["rng"])
    assert torch.equal(torch.rand(2), expected[0])
    assert np.random.rand() == expected[1] and random.random() == expected[2]


def test_train_config_yaml(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("k: 8\nsupervision: ce\nstudent:\n  num_queries: 2\n  objective:\n    lambda_red: 0.0\n"
                    "data:\n  num_candidates: 32\n")
    config = TrainConfig.from_yaml(path)
    assert config.k == 8 and config.supervision == "ce" and config.student.num_queries == 2
    assert config.student.objective.lambda_red == 0.0 and config.data.num_candidates == 32
    for bad in ("supervision: labels\n", "student:\n  num_queries: 5\n", "k: 64\ndata:\n  num_candidates: 32\n"):
        path.write_text(bad)
        with pytest.raises(InputError):
            TrainConfig.from_yaml(path)


def test_the_paper_config_loads():
    from pathlib import Path

    config = TrainConfig.from_yaml(Path(__file__).parents[1] / "configs" / "train_paper.yaml")
    assert (config.k, config.data.num_candidates, config.student.num_queries) == (16, 128, 3)
    assert (config.student.r_task, config.student.r_agg, config.r_teacher) == (16, 16, 8)
    assert config.student.objective.lambda_cov == 0.3 and config.supervision == "ce+kl"
