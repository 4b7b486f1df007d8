"""The trainable HFS student: query positions, gradients, Gumbel-TopK, F in torch, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import hfs
from hfs.cli import main
from hfs.config import ObjectiveConfig
from hfs.query.cot import gather_queries, query_positions
from hfs.query.separation import separation_loss
from hfs.selection import create_selector, objective_terms
from hfs.selection.gumbel import GumbelTopK, TauSchedule
from hfs.selection.objective_torch import set_objective
from hfs.student import HFSSelector, StudentConfig


def _student(base: str, seed: int = 0, **overrides) -> HFSSelector:
    torch.manual_seed(seed)
    config = StudentConfig(base_lm=str(base), frame_dim=16, **overrides)
    return HFSSelector(config)


def _frames(b: int = 2, n: int = 24, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(b, n, 16, generator=g), dim=-1)


QUESTIONS = ["what does the man put in the box?", "when does the screen turn red?"]
OPTIONS = [["a ball", "a cup", "a shoe"], None]


# -- query positions ----------------------------------------------------------------------
@pytest.mark.parametrize("lp, length, k, expected", [
    (10, 5, 3, [0, 7, 14]),
    (10, 5, 4, [0, 4, 9, 14]),  # floor(14/3) = 4, floor(28/3) = 9
    (10, 5, 2, [0, 14]),
    (100, 23, 3, [0, 61, 122]),
    (7, 1, 5, [0, 1, 3, 5, 7]),
    (10, 5, 1, [14]),  # K = 1: the last position
    (10, 5, 0, []),  # K = 0: no queries
])
def test_query_positions(lp, length, k, expected):
    assert query_positions(lp, length, k) == expected


def test_gather_queries_reads_each_samples_positions():
    hidden = torch.arange(2 * 12 * 1, dtype=torch.float32).view(2, 12, 1)
    q = gather_queries(hidden, prompt_len=4, question_lens=[8, 5], num_queries=3)
    assert q[0, :, 0].tolist() == [0, 5, 11]  # positions 0, 5, 11 of sample 0
    assert q[1, :, 0].tolist() == [12 + 0, 12 + 4, 12 + 8]  # positions 0, 4, 8 of sample 1


# -- gradients ----------------------------------------------------------------------------
def test_gradients_reach_every_trainable_part_and_nothing_frozen(tiny_qwen_dir):
    model = _student(tiny_qwen_dir)
    out = model(_frames(), QUESTIONS, OPTIONS, k=4, generator=torch.Generator().manual_seed(0))
    loss = -out.losses["F"] + 0.01 * out.losses["L_sep"] + out.scores.pow(2).mean()
    loss.backward()
    grads = {"task_analyzer": 0.0, "context_aggregator": 0.0, "projector": 0.0, "q_agg": 0.0, "scorer": 0.0}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            assert p.grad is None, f"frozen {name} got a gradient"
            continue
        group = next(g for g in grads if g in name)
        grads[group] += float(p.grad.abs().sum()) if p.grad is not None else 0.0
    assert all(v > 0 for v in grads.values()), grads
    base = [p for n, p in model.named_parameters() if "lora_" not in n and n.startswith("lm.")]
    assert base and not any(p.requires_grad for p in base)


def test_forward_contract(tiny_qwen_dir):
    model = _student(tiny_qwen_dir)
    out = model(_frames(n=30), QUESTIONS, OPTIONS, k=5, generator=torch.Generator().manual_seed(1))
    assert out.scores.shape == (2, 30) and out.indices.shape == (2, 5)
    assert torch.all(out.indices[:, 1:] > out.indices[:, :-1])
    assert torch.equal(out.hard_mask.sum(-1), torch.full((2,), 5.0))
    assert out.queries.shape == (2, 3, model.width) and out.fused.shape == (2, model.width)
    assert set(out.losses) == {"F", "rel", "cov", "red", "L_sep"}
    assert all(torch.isfinite(v) for v in out.losses.values())


def test_k_zero_queries(tiny_qwen_dir):
    model = _student(tiny_qwen_dir, num_queries=0)
    out = model(_frames(), QUESTIONS, OPTIONS, k=3)
    assert out.queries.shape[1] == 0 and float(out.losses["L_sep"]) == 0.0
    assert out.scores.shape == (2, 24)


# -- Gumbel-TopK --------------------------------------------------------------------------
def _scores(seed=0, n=20):
    return torch.randn(3, n, generator=torch.Generator().manual_seed(seed))


def test_gumbel_topk_masks():
    layer = GumbelTopK().train()
    s = _scores()
    m = layer(s, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(m.hard.sum(-1), torch.full((3,), 5.0))
    assert torch.allclose(m.soft.sum(-1), torch.full((3,), 5.0), atol=1e-4)
    assert torch.equal(m.mask.detach(), m.hard)  # straight-through: the hard mask forward
    assert torch.equal(m.hard.gather(-1, m.indices), torch.ones(3, 5))
    assert torch.all(m.indices[:, 1:] > m.indices[:, :-1])


def test_lower_tau_moves_soft_towards_hard():
    """Mean L1 distance between soft and hard masks over 512 draws falls with tau."""
    layer = GumbelTopK().train()
    s = torch.randn(512, 40, generator=torch.Generator().manual_seed(1))
    gaps = []
    for tau in (2.0, 0.5, 0.1, 0.05):
        m = layer(s, 4, generator=torch.Generator().manual_seed(3), tau=tau)
        gaps.append(float((m.soft - m.hard).abs().sum(-1).mean()))
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 0.2 * gaps[0]


def test_same_seed_same_mask_and_noise_changes_it():
    layer = GumbelTopK().train()
    s = _scores(2, n=50)
    a = layer(s, 6, generator=torch.Generator().manual_seed(7)).indices
    b = layer(s, 6, generator=torch.Generator().manual_seed(7)).indices
    c = layer(s, 6, generator=torch.Generator().manual_seed(8)).indices
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_eval_mode_is_plain_topk():
    layer = GumbelTopK().eval()
    s = _scores(4)
    m = layer(s, 3)
    assert torch.equal(m.indices, torch.topk(s, 3).indices.sort(-1).values)


def test_straight_through_gradient_is_nonzero():
    layer = GumbelTopK().train()
    s = _scores(5).requires_grad_(True)
    m = layer(s, 4, generator=torch.Generator().manual_seed(0))
    weights = torch.linspace(-1, 1, s.shape[-1])
    (m.mask * weights).sum().backward()
    assert s.grad is not None and float(s.grad.abs().sum()) > 0


def test_tau_schedule():
    sched = TauSchedule(steps=100)
    assert sched(0) == 2.0 and sched(50) == pytest.approx(1.25) and sched(100) == 0.5 and sched(1000) == 0.5


# -- F in torch ---------------------------------------------------------------------------
def test_torch_objective_by_hand():
    cfg = ObjectiveConfig(lambda_red=0.2, gamma=1.0, tau_c=2.0)
    s = torch.tensor([[1.0, -1.0, 2.0, 0.0]])
    m = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    t = set_objective(s, m, torch.arange(4.0), cfg)
    rel, cov, red = 3.0, 2.0 * np.log(np.exp(0.5) + 1 + np.exp(1.0) + 1), 2 * np.exp(-2.0)
    assert float(t["rel"]) == pytest.approx(rel)
    assert float(t["cov"]) == pytest.approx(cov, rel=1e-6)
    assert float(t["red"]) == pytest.approx(red, rel=1e-6)
    assert float(t["F"]) == pytest.approx(rel + 0.3 * cov - 0.2 * red, rel=1e-6)
    soft = torch.tensor([[0.5, 0.5, 0.0, 0.0]])  # soft masks: the same formula, fractional m
    ts = set_objective(s, soft, torch.arange(4.0), cfg)
    assert float(ts["red"]) == pytest.approx(2 * 0.25 * np.exp(-0.5), rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_torch_objective_equals_greedy_selectors_f(seed):
    rng = np.random.default_rng(seed)
    cfg = ObjectiveConfig()
    s = rng.normal(size=(2, 64))
    for b in range(2):
        sel = create_selector("greedy", objective=cfg).select(s[b], 10)
        mask = torch.zeros(1, 64, dtype=torch.float64)
        mask[0, sel.indices] = 1.0
        t = set_objective(torch.tensor(s[b:b + 1]), mask, torch.arange(64.0, dtype=torch.float64), cfg)
        for key in ("F", "rel", "cov", "red"):
            assert float(t[key]) == pytest.approx(sel.objective[key], rel=1e-9, abs=1e-9)
        assert sel.objective == pytest.approx(objective_terms(s[b], sel.indices, np.arange(64.0), cfg))


# -- L_sep --------------------------------------------------------------------------------
def test_separation_loss_by_hand():
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    c = 1 / np.sqrt(2)
    assert float(separation_loss(q)) == pytest.approx((0 + c + c) * 2 / 6)


def test_training_on_l_sep_separates_the_queries(tiny_qwen_dir):
    model = _student(tiny_qwen_dir)
    params = [p for n, p in model.named_parameters() if p.requires_grad and "task_analyzer" in n]
    opt = torch.optim.Adam(params, lr=3e-3)
    with torch.no_grad():
        before = float(separation_loss(model.task_queries(QUESTIONS, OPTIONS)[0]))
    for _ in range(200):
        opt.zero_grad()
        loss = separation_loss(model.task_queries(QUESTIONS, OPTIONS)[0])
        loss.backward()
        opt.step()
    after = float(loss.detach())
    print(f"mean cosine between the K=3 queries: {before:.3f} -> {after:.3f}")
    assert after < before - 0.2


# -- checkpoints and the CLI --------------------------------------------------------------
@pytest.mark.parametrize("scorer_input", ["concat", "concat+product"])
def test_save_load_round_trip(tiny_qwen_dir, tmp_path, scorer_input):
    model = _student(tiny_qwen_dir, scorer_input=scorer_input)
    with torch.no_grad():  # make every trainable part non-trivial (LoRA B starts at zero)
        for p in model.trainable_parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(tmp_path / "ckpt")
    loaded = HFSSelector.from_pretrained(tmp_path / "ckpt")
    frames = _frames(n=20)[0]
    a = model.score_frames(frames, QUESTIONS[0], OPTIONS[0])
    b = loaded.score_frames(frames, QUESTIONS[0], OPTIONS[0])
    assert torch.equal(a, b)
    assert loaded.config.scorer_input == scorer_input
    fresh = _student(tiny_qwen_dir, seed=1, scorer_input=scorer_input).score_frames(frames, QUESTIONS[0], OPTIONS[0])
    assert not torch.allclose(a, fresh)  # the loaded weights, not a fresh init, give these scores


def test_checkpoint_holds_only_the_trainable_parts(tiny_qwen_dir, tmp_path):
    from safetensors.torch import load_file

    model = _student(tiny_qwen_dir)
    model.save_pretrained(tmp_path / "ckpt")
    state = load_file(str(tmp_path / "ckpt" / "hfs_student.safetensors"))
    assert {k.split(".")[0] for k in state} == {"adapters", "projector", "scorer", "q_agg"}
    assert sum(v.numel() for v in state.values()) == sum(p.numel() for p in model.trainable_parameters())
    meta = json.loads((tmp_path / "ckpt" / "hfs_student.json").read_text())
    assert meta["config"]["base_lm"] == str(tiny_qwen_dir) and meta["config"]["num_queries"] == 3
    assert not list((tmp_path / "ckpt").glob("*.bin")) and not list((tmp_path / "ckpt").glob("*.pt"))


@pytest.fixture
def student_checkpoint(tiny_qwen_dir, tiny_clip_dir, tmp_path):
    model = _student(tiny_qwen_dir, encoder=str(tiny_clip_dir))
    with torch.no_grad():
        for p in model.trainable_parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.save_pretrained(tmp_path / "student"), model


def test_select_with_a_student_checkpoint(three_scene_video, student_checkpoint, tiny_encoder):
    path, model = student_checkpoint
    sel = hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, checkpoint=path)
    assert sel.selector == "topk" and sel.encoder == str(model.config.encoder)
    frames = np.stack([tiny_encoder.encode_images([f.image])[0] for f in __import__("hfs").video.open_video(
        three_scene_video).frames_at(sel.candidate_times, short_side=tiny_encoder.short_side, unique=False)])
    expected = model.score_frames(frames, "a red screen").numpy()
    assert np.allclose(sel.raw_scores, expected, atol=1e-5)  # the student's scores, not cosine
    assert sel.indices.tolist() == sorted(np.argsort(-expected, kind="stable")[:4].tolist())
    greedy = hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, checkpoint=path,
                        selector="greedy")
    assert greedy.selector == "greedy" and np.allclose(greedy.raw_scores, sel.raw_scores)


def test_cli_checkpoint(three_scene_video, student_checkpoint, capsys):
    path, _ = student_checkpoint
    assert main(["select", str(three_scene_video), "-q", "a red screen", "-k", "3", "-n", "12",
                 "--checkpoint", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["selector"] == "topk" and len(data["frames"]) == 3
    assert main(["select", str(three_scene_video), "-q", "x", "--checkpoint", str(three_scene_video.parent)]) == 1
    assert "not an hfs student checkpoint" in capsys.readouterr().err


def test_product_scorer_learns_to_match_frames_to_the_query_where_concat_lags():
    """MLP_s learns which of 8 frames carries the query's code (fresh random unit vectors every
    draw, so nothing can be memorised). Reading [frame ; query ; frame * query] it ranks that frame
    first on held-out draws after 100 steps; the paper's [frame ; query] is still well behind."""
    from hfs.scoring.mlp import FrameScorer

    width, n = 16, 8

    def batch(size: int, generator: torch.Generator):
        frames = F.normalize(torch.randn(size, n, width, generator=generator), dim=-1)
        target = torch.randint(0, n, (size,), generator=generator)
        query = frames[torch.arange(size), target]  # [B, width]
        return frames + 0.1 * torch.randn(size, n, width, generator=generator), query, target

    accuracy = {}
    for inputs in ("concat", "concat+product"):
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(0)
        scorer = FrameScorer(width, 32, inputs)
        optimizer = torch.optim.Adam(scorer.parameters(), lr=3e-3)
        for _ in range(100):
            frames, query, target = batch(64, generator)
            loss = F.cross_entropy(scorer(frames, query), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        frames, query, target = batch(500, torch.Generator().manual_seed(1))
        with torch.no_grad():
            accuracy[inputs] = float((scorer(frames, query).argmax(-1) == target).float().mean())
    assert accuracy["concat+product"] > 0.95 and accuracy["concat"] < accuracy["concat+product"] - 0.1, accuracy
    with pytest.raises(ValueError, match="scorer inputs must be one of"):
        FrameScorer(width, inputs="product")
