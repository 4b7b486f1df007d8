"""The peer selectors (AKS, BOLT, MDP3, Q-Frame, MMR) on hand-made cases with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hfs.errors import InputError
from hfs.selection import create_selector, list_selectors, uniform_indices
from hfs.selection.mdp3 import allocate, greedy_dpp

PEERS = ["aks", "bolt", "mdp3", "mmr", "qframe"]


def test_peers_are_registered_and_return_k_sorted_distinct_frames():
    assert set(PEERS) <= set(list_selectors())
    rng = np.random.default_rng(0)
    for n, k in ((10, 10), (128, 16), (3000, 32)):
        scores, emb = rng.normal(size=n), rng.normal(size=(n, 8))
        for name in PEERS:
            sel = create_selector(name).select(scores, k, times=np.arange(n) / 2.0, embeddings=emb)
            assert sel.indices.size == k and np.all(np.diff(sel.indices) > 0), name
            assert sel.selector == name


@pytest.mark.parametrize("name", ["mdp3", "mmr"])
def test_embedding_based_peers_say_they_need_embeddings(name):
    with pytest.raises(InputError, match="embeddings"):
        create_selector(name).select(np.arange(8.0), 2)


def test_aks_keeps_distinctive_top_scores_and_splits_flat_segments():
    peak = np.zeros(16)
    peak[[5, 6]] = 5.0
    assert create_selector("aks").select(peak, 2).indices.tolist() == [5, 6]
    halves = np.r_[np.ones(8), np.zeros(8)]
    # top-4 stands 1 std above the mean: distinctive at threshold 0.8, so no split
    assert create_selector("aks", threshold=0.8).select(halves, 4).indices.tolist() == [0, 1, 2, 3]
    # not distinctive at 1.5: split into halves, then quarters, one frame each
    assert create_selector("aks", threshold=1.5).select(halves, 4).indices.tolist() == [0, 4, 8, 12]
    # depth 0 forbids splitting: plain top-k
    assert create_selector("aks", threshold=1.5, max_depth=0).select(halves, 4).indices.tolist() == [0, 1, 2, 3]


def test_aks_gives_an_odd_budgets_extra_frame_to_the_better_half():
    scores = np.zeros(16)
    scores[12] = 0.5  # best frame in the right half; nothing is distinctive at threshold 5
    sel = create_selector("aks", threshold=5.0, max_depth=1).select(scores, 3)
    assert (sel.indices >= 8).sum() == 2 and 12 in sel.indices


@pytest.mark.parametrize("n,k", [(128, 16), (100, 7), (16, 16), (1000, 32)])
def test_bolt_with_sharpness_zero_is_uniform_sampling(n, k):
    scores = np.random.default_rng(n).normal(size=n)
    assert create_selector("bolt", sharpness=0.0).select(scores, k).indices.tolist() == uniform_indices(n, k).tolist()


def test_bolt_puts_more_frames_where_scores_are_high():
    scores = np.zeros(128)
    scores[32:48] = 1.0
    inside = lambda name, **p: int(((s := create_selector(name, **p).select(scores, 16).indices) >= 32).sum()
                                   - (s >= 48).sum())
    assert inside("bolt", sharpness=0.0) == 2
    assert 10 <= inside("bolt", sharpness=1.0) < 16  # the rest of the video keeps some frames
    assert inside("bolt", sharpness=4.0) == 16


def test_mdp3_never_picks_identical_embeddings_while_distinct_ones_remain():
    basis = np.eye(4)
    emb = np.repeat(basis, 4, axis=0)  # 16 frames, 4 copies of each of 4 directions
    scores = np.repeat([3.0, 2.0, 1.0, 0.0], 4)  # the best frames are all copies of one direction
    sel = create_selector("mdp3", segment_len=16).select(scores, 4, embeddings=emb)
    assert len({tuple(e) for e in emb[sel.indices]}) == 4
    # across independently solved segments too
    sel = create_selector("mdp3", segment_len=4).select(scores, 4, embeddings=emb)
    assert len({tuple(e) for e in emb[sel.indices]}) == 4
    assert create_selector("topk").select(scores, 4).indices.tolist() == [0, 1, 2, 3]


def test_greedy_dpp_gains_are_the_log_determinant_increments():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(12, 6))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    quality = np.exp(0.5 * rng.normal(size=12))
    picks, gains = greedy_dpp(quality, emb, 5, ridge=1e-3)
    kernel = (quality[:, None] * emb) @ (quality[:, None] * emb).T + 1e-3 * np.eye(12)
    for m in range(1, 6):
        sub = kernel[np.ix_(picks[:m], picks[:m])]
        assert np.isclose(np.linalg.slogdet(sub)[1], gains[:m].sum(), atol=1e-8)
    # each pick is the best single addition to the previous ones
    rest = [i for i in range(12) if i not in picks[:1]]
    dets = [np.linalg.slogdet(kernel[np.ix_([picks[0], i], [picks[0], i])])[1] for i in rest]
    assert rest[int(np.argmax(dets))] == picks[1]


def test_mdp3_budget_allocation_is_optimal():
    rng = np.random.default_rng(2)
    curves = [np.concatenate([[0.0], np.cumsum(rng.normal(size=rng.integers(1, 5)))]) for _ in range(4)]
    k = 5
    counts = allocate(curves, k)
    best = max((sum(c[m] for c, m in zip(curves, ms)), ms)
               for ms in itertools.product(*(range(len(c)) for c in curves)) if sum(ms) == k)
    assert sum(counts) == k
    assert np.isclose(sum(c[m] for c, m in zip(curves, counts)), best[0])


def test_mmr_with_lambda_one_is_top_k_and_lower_lambda_diversifies():
    rng = np.random.default_rng(3)
    scores, emb = rng.normal(size=64), rng.normal(size=(64, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    top = create_selector("topk").select(scores, 8).indices.tolist()
    assert create_selector("mmr", lam=1.0).select(scores, 8, embeddings=emb).indices.tolist() == top
    dup = np.repeat(np.eye(4), 4, axis=0)
    flat = np.repeat([3.0, 2.0, 1.0, 0.0], 4)
    sel = create_selector("mmr", lam=0.3).select(flat, 4, embeddings=dup)
    assert len({tuple(e) for e in dup[sel.indices]}) == 4


def test_qframe_is_seeded_and_tends_to_top_k_as_tau_shrinks():
    scores = np.random.default_rng(4).normal(size=200)
    a = create_selector("qframe", seed=7).select(scores, 16).indices
    assert a.tolist() == create_selector("qframe", seed=7).select(scores, 16).indices.tolist()
    assert a.tolist() != create_selector("qframe", seed=8).select(scores, 16).indices.tolist()
    top = create_selector("topk").select(scores, 16).indices.tolist()
    assert create_selector("qframe", tau=1e-6).select(scores, 16).indices.tolist() == top
    assert a.tolist() != top


@pytest.mark.parametrize("name,params", [("bolt", {"sharpness": -1}), ("qframe", {"tau": 0}), ("mmr", {"lam": 2}),
                                         ("aks", {"max_depth": -1}), ("mdp3", {"segment_len": 0})])
def test_bad_peer_parameters_are_refused(name, params):
    with pytest.raises(InputError, match=name):
        create_selector(name, **params)
