"""Selectors: their contract, the objective F, and what set-level selection buys over top-k."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest

from hfs.config import ObjectiveConfig
from hfs.errors import InputError
from hfs.selection import create_selector, list_selectors, objective_terms, uniform_indices

SELECTORS = ["uniform", "topk", "greedy"]


def test_registry_lists_the_selectors():
    assert set(SELECTORS) <= set(list_selectors())
    with pytest.raises(InputError, match="unknown selector 'nope'"):
        create_selector("nope")


@pytest.mark.parametrize("name", SELECTORS)
def test_selector_contract(name):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=128)
    times = np.sort(rng.uniform(0, 600, 128))
    a = create_selector(name).select(scores, 16, times=times)
    b = create_selector(name).select(scores.copy(), 16, times=times.copy())
    assert a.indices.tolist() == b.indices.tolist()  # deterministic
    assert len(a.indices) == 16 == len(set(a.indices.tolist()))
    assert np.all(np.diff(a.indices) > 0)  # sorted, unique
    assert a.indices.min() >= 0 and a.indices.max() < 128
    assert np.array_equal(a.times, times[a.indices])
    assert np.array_equal(a.scores, scores[a.indices])
    assert a.selector == name and a.k == 16
    assert set(a.objective) == {"F", "rel", "cov", "red"}


@pytest.mark.parametrize("name", SELECTORS)
def test_k_equal_n_takes_everything(name):
    assert create_selector(name).select(np.arange(5.0), 5).indices.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("bad_k", [0, -1, 6])
def test_bad_k(bad_k):
    with pytest.raises(InputError):
        create_selector("greedy").select(np.zeros(5), bad_k)


def test_bad_scores():
    with pytest.raises(InputError, match="NaN"):
        create_selector("topk").select(np.array([1.0, np.nan, 2.0]), 1)
    with pytest.raises(InputError, match="1-D"):
        create_selector("topk").select(np.zeros((2, 2)), 1)


def test_uniform_picks_segment_midpoints():
    assert uniform_indices(128, 16).tolist() == list(range(4, 128, 8))
    assert uniform_indices(10, 3).tolist() == [1, 5, 8]


def test_topk_picks_the_best_scores():
    scores = np.array([0.1, 0.9, 0.3, 0.8, 0.2])
    assert create_selector("topk").select(scores, 2).indices.tolist() == [1, 3]


def test_objective_by_hand():
    cfg = ObjectiveConfig(lambda_rel=1.0, lambda_cov=0.3, lambda_red=0.2, gamma=1.0, tau_c=2.0)
    s = np.array([1.0, -1.0, 2.0, 0.0])
    terms = objective_terms(s, np.array([0, 2]), np.arange(4.0), cfg)
    rel = 1.0 + 2.0
    cov = 2.0 * math.log(math.exp(1.0 / 2) + math.exp(0.0) + math.exp(2.0 / 2) + math.exp(0.0))
    red = 2 * math.exp(-(0 - 2) ** 2 / 2)  # the pair (0, 2) counted in both orders
    assert terms["rel"] == pytest.approx(rel)
    assert terms["cov"] == pytest.approx(cov)
    assert terms["red"] == pytest.approx(red)
    assert terms["F"] == pytest.approx(rel + 0.3 * cov - 0.2 * red)


def test_objective_matches_dense_soft_mask_formula():
    """The hard-selection shortcut equals SPEC's formula (plus the visual term: the weakest
    neighbour cosine between two frames, and the log-det term with its ridge) on the full 0/1
    mask, with the bandwidth tied to the budget: gamma = gamma_scale * N / k."""
    rng = np.random.default_rng(3)
    cfg = ObjectiveConfig(lambda_vis=0.7, lambda_det=2.0, det_ridge=0.5)
    s = rng.normal(size=40)
    t = np.arange(40.0)
    e = rng.normal(size=(40, 8))
    idx = np.sort(rng.choice(40, 7, replace=False))
    m = np.zeros(40)
    m[idx] = 1
    gamma = cfg.gamma_scale * 40 / 7
    unit = e / np.linalg.norm(e, axis=1, keepdims=True)
    links = (unit[:-1] * unit[1:]).sum(1)  # cosine of each candidate with the next
    chain = np.array([[links[min(i, j):max(i, j)].min() if i != j else 1.0 for j in range(40)] for i in range(40)])
    kk = np.exp(-((t[:, None] - t[None, :]) ** 2) / (2 * gamma**2)) + 0.7 * np.exp(-(1 - chain) / cfg.sigma_vis)
    rel = (s * m).sum()
    cov = cfg.tau_c * np.log(np.exp(s * m / cfg.tau_c).sum())
    red = m @ kk @ m - (m * m * np.diag(kk)).sum()
    sq = ((unit[idx][:, None, :] - unit[idx][None, :, :]) ** 2).sum(-1)
    d = sum(np.exp(-sq / (2 * a)) for a in (0.125, 0.25, 0.5, 1.0, 2.0)) + cfg.det_ridge * np.eye(7)
    det = np.linalg.slogdet(d)[1]
    f = cfg.lambda_rel * rel + cfg.lambda_cov * cov - cfg.lambda_red * red + cfg.lambda_det * det
    terms = objective_terms(s, idx, t, cfg, embeddings=e)
    assert (terms["rel"], terms["cov"], terms["red"], terms["det"], terms["F"]) == pytest.approx((rel, cov, red, det, f))
    # the bandwidth follows k: the same 7 frames judged for a budget of 14 have a narrower kernel
    assert objective_terms(s, idx, t, cfg, embeddings=e, k=14)["red"] < red


def test_greedy_on_a_small_case_by_hand():
    cfg = ObjectiveConfig(lambda_rel=1.0, lambda_cov=0.0, lambda_red=1.0, gamma=1.0)
    # 0 and 1 are neighbours (K = e^-0.5 = 0.61); 3 is far from both
    s = np.array([1.0, 0.9, -5.0, 0.5])
    sel = create_selector("greedy", objective=cfg).select(s, 2)
    # after picking 0, gain(1) = 0.9 - 2 * 0.61 = -0.31 < gain(3) = 0.5 - 2 * e^-4.5 = 0.478
    assert sel.indices.tolist() == [0, 3]
    assert sel.objective["F"] == pytest.approx(1.0 + 0.5 - 2 * math.exp(-4.5))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cfg", [ObjectiveConfig(gamma=3.0, lambda_vis=0.0), ObjectiveConfig(),
                                 ObjectiveConfig.preset("paper"), ObjectiveConfig(lambda_det=2.0),
                                 ObjectiveConfig(lambda_det=2.0, det_ridge=0.5)],
                         ids=["fixed", "calibrated", "paper", "det", "det-ridge"])
def test_greedy_equals_naive_greedy_on_f(seed, cfg):
    """The incremental gains give the same choices as recomputing F for every candidate."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=30)
    e = rng.normal(size=(30, 6))
    pos = np.arange(30.0)
    chosen: list[int] = []
    for _ in range(8):
        gains = {j: objective_terms(s, np.array(chosen + [j]), pos, cfg, embeddings=e, k=8)["F"]
                 for j in range(30) if j not in chosen}
        chosen.append(max(gains, key=gains.get))
    sel = create_selector("greedy", objective=cfg).select(s, 8, embeddings=e)
    assert sel.indices.tolist() == sorted(chosen)
    assert sel.objective == pytest.approx(objective_terms(s, sel.indices, pos, cfg, embeddings=e, k=8))


def test_greedy_beats_topk_and_uniform_on_f():
    rng = np.random.default_rng(7)
    s = np.convolve(rng.normal(size=300), np.ones(9) / 3, mode="same")  # smooth, clustered scores
    f = {name: create_selector(name).select(s, 16).objective["F"] for name in SELECTORS}
    assert f["greedy"] >= f["topk"] and f["greedy"] >= f["uniform"]


def test_plateau_and_peak():
    """One long high plateau and one short high peak: top-k spends every frame on the plateau,
    greedy covers both events."""
    s = np.zeros(128)
    s[20:60] = 2.0  # a long event
    s[100:102] = 1.9  # a short one, slightly less relevant
    topk = create_selector("topk").select(s, 8).indices
    greedy = create_selector("greedy").select(s, 8).indices
    assert np.all((topk >= 20) & (topk < 60))
    assert np.any((greedy >= 20) & (greedy < 60)) and np.any((greedy >= 100) & (greedy < 102))
    # and greedy spreads over the plateau instead of taking its first 8 frames
    assert np.ptp(greedy[greedy < 60]) > 20


def test_positions_in_seconds_change_the_redundancy():
    s = np.ones(6)
    times = np.array([0.0, 0.1, 0.2, 100.0, 100.1, 100.2])
    cfg = ObjectiveConfig(positions="seconds", gamma=1.0)
    sel = create_selector("greedy", objective=cfg).select(s, 2, times=times)
    assert sel.indices.tolist() == [0, 3]  # one from each burst, far apart in time
    # tied to the budget, gamma is in seconds too: 0.25 * (span 120.24 s) / 2 frames = 15 s,
    # so the second frame is the farthest one (100.2 s)
    sel = create_selector("greedy", objective=ObjectiveConfig(positions="seconds")).select(s, 2, times=times)
    assert sel.indices.tolist() == [0, 5]
    with pytest.raises(InputError):
        ObjectiveConfig(positions="minutes")


# -- the calibrated objective ---------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def test_paper_constants_by_name():
    paper = ObjectiveConfig.preset("paper")
    assert (paper.lambda_rel, paper.lambda_cov, paper.lambda_red, paper.gamma, paper.tau_c, paper.lambda_vis) == (
        1.0, 0.3, 0.2, 10.0, 2.0, 0.0)
    assert ObjectiveConfig.preset("calibrated") == ObjectiveConfig()
    assert ObjectiveConfig().gamma is None  # tied to the budget
    with pytest.raises(InputError, match="unknown objective 'nope'"):
        ObjectiveConfig.preset("nope")


@pytest.mark.parametrize("field,value", [("gamma", 0.0), ("gamma", "wide"), ("gamma_scale", -1.0), ("sigma_vis", 0.0),
                                         ("lambda_vis", -0.5), ("lambda_red", -1.0), ("tau_c", 0.0)])
def test_bad_objective_values_name_the_field(field, value):
    with pytest.raises(InputError, match=rf"ObjectiveConfig\.{field}:"):
        ObjectiveConfig(**{field: value})


@settings(max_examples=40, deadline=None)
@given(n=st.integers(8, 400), data=st.data(), level=st.floats(-3, 3), still=st.booleans())
def test_calibrated_default_never_picks_neighbours_on_flat_scores(n, data, level, still):
    """Flat scores (and a still video: every embedding equal, or no embeddings): with k <= N / 4
    the budget-tied bandwidth keeps every pair of picks at least two candidates apart."""
    k = data.draw(st.integers(1, n // 4))
    emb = np.ones((n, 4)) if still else None
    sel = create_selector("greedy").select(np.full(n, level), k, embeddings=emb)
    assert sel.indices.size == k
    if k > 1:
        assert np.diff(sel.indices).min() >= 2


def test_visual_redundancy_is_within_a_shot_not_across_a_cut():
    """Two shots that look alike (the screen turns red twice) with something else between them
    are not redundant; two frames of one long shot are."""
    red, blue = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    emb = np.array([red] * 10 + [blue] * 20 + [red] * 10)
    s = np.where(np.arange(40) < 10, 2.0, np.where(np.arange(40) >= 30, 1.9, 0.0))
    cfg = ObjectiveConfig(gamma=0.5)  # time redundancy of neighbours only
    sel = create_selector("greedy", objective=cfg).select(s, 2, embeddings=emb)
    assert sel.indices[0] < 10 and sel.indices[1] >= 30  # both red shots
    # one long red shot: its second frame is redundant with the first, so the blue shot wins
    emb_one = np.array([red] * 20 + [blue] * 20)
    s_one = np.where(np.arange(40) < 20, 2.0, 1.0)
    sel = create_selector("greedy", objective=cfg).select(s_one, 2, embeddings=emb_one)
    assert sel.indices[0] < 20 and sel.indices[1] >= 20


def test_paper_constants_pick_neighbours_the_calibrated_default_does_not():
    """The issue's symptom: on per-video z-scores with a broad bump, the paper's fixed gamma
    hardly penalises near-duplicates."""
    t = np.arange(128.0)
    s = np.exp(-((t - 50) ** 2) / (2 * 15.0**2)) * 3 + np.exp(-((t - 100) ** 2) / (2 * 4.0**2)) * 2
    paper = create_selector("greedy", objective=ObjectiveConfig.preset("paper")).select(s, 16).indices
    calibrated = create_selector("greedy").select(s, 16).indices
    assert np.diff(paper).min() == 1
    assert np.diff(calibrated).min() >= 2


@pytest.mark.parametrize("name", ["calibrated", "paper", "seconds", "det", "det-ridge"])
@pytest.mark.parametrize("seed", range(3))
def test_numpy_f_equals_torch_f(name, seed):
    """The training F (torch, batched) and the selection F (numpy) agree on hard masks, with the
    visual term, the budget-tied bandwidth and positions in seconds."""
    import torch

    from hfs.selection.objective_torch import set_objective

    cfg = {"seconds": ObjectiveConfig(positions="seconds"), "det": ObjectiveConfig(lambda_det=2.0),
           "det-ridge": ObjectiveConfig(lambda_det=2.0, det_ridge=0.5)}.get(name) or ObjectiveConfig.preset(name)
    rng = np.random.default_rng(seed)
    b, n, k = 3, 50, 7
    s = rng.normal(size=(b, n))
    emb = rng.normal(size=(b, n, 6))
    times = np.sort(rng.uniform(0, 300, size=(b, n)), axis=1)
    mask = np.zeros((b, n))
    expected = []
    for i in range(b):
        sel = create_selector("greedy", objective=cfg).select(s[i], k, times=times[i], embeddings=emb[i])
        mask[i, sel.indices] = 1.0
        expected.append(sel.objective)
    positions = torch.tensor(times) if name == "seconds" else torch.arange(n, dtype=torch.float64)
    for kk in (k, None):  # the budget given, or read off the hard mask
        got = set_objective(torch.tensor(s), torch.tensor(mask), positions, cfg, embeddings=torch.tensor(emb), k=kk)
        for i in range(b):
            assert set(got) == set(expected[i])
            for key in expected[i]:
                assert float(got[key][i]) == pytest.approx(expected[i][key], rel=1e-9, abs=1e-9)


def test_paper_training_config_uses_the_paper_objective():
    from pathlib import Path

    from hfs.training.config import TrainConfig

    config = TrainConfig.from_yaml(Path(__file__).parents[1] / "configs" / "train_paper.yaml")
    assert config.student.objective == ObjectiveConfig.preset("paper")


def test_objective_yaml_null_gamma_ties_it_to_k(tmp_path):
    from hfs.config import SelectConfig, load_yaml

    path = tmp_path / "select.yaml"
    path.write_text("objective:\n  gamma: null\n  gamma_scale: 0.5\n  lambda_vis: 0\n")
    cfg = load_yaml(SelectConfig, path).objective
    assert cfg.gamma is None and cfg.gamma_scale == 0.5 and cfg.lambda_vis == 0
    path.write_text("objective:\n  sigma_vis: -1\n")
    with pytest.raises(InputError, match=r"ObjectiveConfig\.sigma_vis: must be between"):
        load_yaml(SelectConfig, path)


def test_the_student_trains_on_the_same_f(tiny_qwen_dir):
    """The student's F (torch, in its forward) equals the selection F (numpy) of its hard picks,
    visual term and budget-tied bandwidth included."""
    import torch

    from hfs.student import HFSSelector, StudentConfig

    torch.manual_seed(0)
    model = HFSSelector(StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=16))
    frames = torch.nn.functional.normalize(torch.randn(2, 24, 16, generator=torch.Generator().manual_seed(0)), dim=-1)
    out = model(frames, ["what is red?", "where is the cup?"], None, k=5, generator=torch.Generator().manual_seed(1))
    cfg = model.config.objective
    assert cfg == ObjectiveConfig()
    f = []
    for b in range(2):
        s = out.scores[b].detach().double().numpy()
        z = (s - s.mean()) / s.std(ddof=1)  # the student standardises with torch's (unbiased) std
        f.append(objective_terms(z, out.indices[b].numpy(), np.arange(24.0), cfg, embeddings=frames[b].numpy(), k=5)["F"])
    assert float(out.losses["F"].detach()) == pytest.approx(np.mean(f), rel=1e-4, abs=1e-4)


def test_standardize_is_scale_free_up_to_the_float_limit():
    from hfs.scoring import standardize

    base = np.array([0.1, 0.5, -0.2, 0.9])
    expected = standardize(base)
    for scale in (1e-300, 1.0, 1e154, 1e300):
        np.testing.assert_allclose(standardize(base * scale), expected, rtol=1e-9)
    assert np.allclose(standardize(np.full(5, 1e300)), 0.0)


def test_the_det_term_is_mdp3s_log_det_and_keeps_look_alike_frames_apart():
    e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # frames 0 and 1 look the same
    s = np.array([1.0, 0.99, 0.9])
    cfg = ObjectiveConfig(lambda_det=1.0, lambda_vis=0.0, lambda_red=0.0, lambda_cov=0.0)
    # D_ii = 5 (five Gaussians at distance 0); D_02 at squared distance 2: sum of exp(-1 / a)
    d02 = sum(math.exp(-1.0 / a) for a in (0.125, 0.25, 0.5, 1.0, 2.0))
    terms = objective_terms(s, np.array([0, 2]), np.arange(3.0), cfg, embeddings=e)
    assert terms["det"] == pytest.approx(math.log(25.0 - d02 ** 2))
    assert create_selector("greedy", objective=cfg).select(s, 2, embeddings=e).indices.tolist() == [0, 2]
    assert create_selector("greedy", objective=replace(cfg, lambda_det=0.0)).select(
        s, 2, embeddings=e).indices.tolist() == [0, 1]


def test_the_det_ridge_keeps_a_recurring_look_that_mdp3s_log_det_drops():
    """Red, red, grey, grey, red, red: the second red event looks exactly like the first. Without a
    ridge its Schur complement is 0 and log det drops it for grey; with ridge r it costs only
    log((5 + r) - 25 / (5 + r)), and the time kernel keeps the pick off the first event's frames."""
    red, grey = [1.0, 0.0], [0.0, 1.0]
    e = np.array([red, red, grey, grey, red, red])
    s = np.array([3.0, 3.0, 0.0, 0.0, 3.0, 3.0])
    cfg = ObjectiveConfig(lambda_det=1.0, det_ridge=0.5, lambda_vis=0.0, lambda_red=1.0, gamma=1.0, lambda_cov=0.0)
    assert create_selector("greedy", objective=cfg).select(s, 2, embeddings=e).indices.tolist() == [0, 5]
    terms = objective_terms(s, np.array([0, 5]), np.arange(6.0), cfg, embeddings=e)
    assert terms["det"] == pytest.approx(math.log(5.5 ** 2 - 25.0))
    assert create_selector("greedy", objective=replace(cfg, det_ridge=0.0)).select(
        s, 2, embeddings=e).indices.tolist() == [0, 3]


def test_log_det_greedy_past_the_span_of_the_looks():
    """With fewer distinct looks than k, the chosen frames span every look after three picks; the
    rest must follow F's other terms, not inf / NaN from a zero pivot or the rounding noise of
    the Schur complements (a 1e-15 change of the embeddings changes no pick)."""
    e = np.zeros((32, 4))
    e[:10, 0], e[10:20, 1], e[20:, 2] = 1.0, 1.0, 1.0
    s = np.zeros(32)
    s[3], s[25] = 3.0, 2.9
    noisy = e + 1e-15 * np.random.default_rng(0).standard_normal(e.shape)
    selector = create_selector("greedy", objective=ObjectiveConfig.preset("calibrated-det"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picks = [selector.select(s, 8, embeddings=x) for x in (e, noisy)]
    assert picks[0].indices.tolist() == picks[1].indices.tolist()
    assert {3, 25} <= set(picks[0].indices.tolist()) and np.isfinite(picks[0].objective["F"])
