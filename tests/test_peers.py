"""The peers (AKS, BOLT, MDP3, Q-Frame, MMR) as their authors' code runs them, pinned on inputs
whose answers can be worked out by hand (or by a plain transcription of the released loop)."""

from __future__ import annotations

import numpy as np
import pytest

from hfs.errors import InputError
from hfs.selection import create_selector, list_selectors
from hfs.selection.aks import aks_depth, judge_and_split
from hfs.selection.qframe import QFrameSelector

PEERS = ["aks", "bolt", "mdp3", "mmr", "qframe"]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_peers_are_registered_and_return_at_most_k_sorted_distinct_frames():
    assert set(PEERS) <= set(list_selectors())
    rng = np.random.default_rng(0)
    for n, k in ((10, 10), (128, 16), (3000, 32)):
        raw, emb = 0.2 + 0.02 * rng.normal(size=n), _unit(rng.normal(size=(n, 8)))
        z = (raw - raw.mean()) / raw.std()
        for name in PEERS:
            sel = create_selector(name).select(z, k, times=np.arange(n) / 2.0, embeddings=emb, raw_scores=raw)
            assert 1 <= sel.indices.size <= k and np.all(np.diff(sel.indices) > 0), name
            drawn = sel.indices.size if sel.repeats is None else int(sel.repeats.sum())
            assert drawn <= k and sel.selector == name


@pytest.mark.parametrize("name", ["mdp3", "mmr"])
def test_embedding_based_peers_say_they_need_embeddings(name):
    with pytest.raises(InputError, match="embeddings"):
        create_selector(name).select(np.arange(8.0), 2)


# ---- AKS (ncTimTang/AKS frame_select.py) ----

def test_aks_keeps_a_segment_whose_top_scores_stand_out():
    scores = np.zeros(16)
    scores[[5, 6]] = 1.0  # top-2 mean 1 minus segment mean 0.125 = 0.875 > t1 = 0.8: kept whole
    assert judge_and_split(scores, 2, 0.8, -100, 1) == [(0, 16, 0)]
    assert create_selector("aks").select(scores, 2).indices.tolist() == [5, 6]


def test_aks_splits_a_flat_segment_down_to_the_leaves_and_takes_each_leafs_best():
    ramp = np.arange(16.0)  # min-max: i / 15; top-4 minus mean is 0.4 at depth 0, 0.13 at depth 1
    assert judge_and_split(ramp / 15, 4, 0.8, -100, 2) == [(0, 4, 2), (4, 8, 2), (8, 12, 2), (12, 16, 2)]
    assert create_selector("aks").select(ramp, 4).indices.tolist() == [3, 7, 11, 15]
    # a leaf's share is int(k / 2^depth): at k = 6 the depth is 2 and each of 4 leaves gives 1 frame
    assert create_selector("aks").select(ramp, 6).indices.tolist() == [3, 7, 11, 15]
    # a kept segment at depth 1 gives int(4 / 2) = 2 frames, a split one 1 per leaf
    mixed = np.r_[np.zeros(32), np.linspace(0.0, 1.0, 32)]
    mixed[[1, 2, 3, 5]] = 1.0  # left half: top-4 mean 1 - mean 0.125 > 0.8 (kept); right: a ramp (split)
    assert create_selector("aks").select(mixed, 4).indices.tolist() == [1, 2, 47, 63]


def test_aks_depth_is_the_released_five_capped_so_every_leaf_keeps_a_frame():
    assert [aks_depth(k, 5) for k in (1, 2, 8, 16, 32, 64, 100)] == [0, 1, 3, 4, 5, 5, 5]
    # as released (depth 5) a flat video gives k = 8 nothing: 32 leaves x int(8 / 32) = 0 frames
    leaves = judge_and_split(np.linspace(0, 1, 128), 8, 0.8, -100, 5)
    assert len(leaves) == 32 and sum(int(8 / 2 ** d) for _, _, d in leaves) == 0


# ---- BOLT (sming256/BOLT select_frames.py) ----

def test_bolt_reads_the_powered_cdf_at_its_quantile_grid_and_keeps_repeats():
    scores = np.array([0.0, 1.0, 1.0, 2.0])  # min-max [0, .5, .5, 1]
    # power 1: cdf [0, .25, .5, 1]; grid linspace(1/4, 3/4, 4) = .25, .417, .583, .75 -> 1, 2, 3, 3
    sel = create_selector("bolt", power=1.0).select(scores, 4)
    assert sel.indices.tolist() == [1, 2, 3] and sel.repeats.tolist() == [1, 1, 2]
    assert [f["drawn"] for f in sel.frames] == [1, 1, 2]
    # the default power 3: weights [0, .125, .125, 1], cdf [0, .1, .2, 1]: every point lands on 3
    sel = create_selector("bolt").select(scores, 4)
    assert sel.indices.tolist() == [3] and sel.repeats.tolist() == [4]
    # k = 1 reads the cdf at 1.0: the last frame whose step reaches it
    assert create_selector("bolt").select(np.array([0.0, 2.0, 1.0, 0.0]), 1).indices.tolist() == [2]


def test_bolt_is_uniform_on_flat_scores_and_ignores_standardising():
    flat = np.ones(16)
    # cdf (i + 1) / 16 read at .25, .417, .583, .75: the grid is not (i + 0.5) / k, so not the midpoints
    assert create_selector("bolt").select(flat, 4).indices.tolist() == [3, 6, 9, 11]
    raw = np.random.default_rng(1).normal(size=64)
    a = create_selector("bolt").select(raw, 8).indices
    assert a.tolist() == create_selector("bolt").select(3.0 * raw + 1.0, 8).indices.tolist()


# ---- MDP3 (sunh-23/MDP3 mdp3_frame_selector.py, as vendored in joslefaure/frames-dont-add-up) ----

def _kernel(sq: np.ndarray) -> np.ndarray:
    return sum(np.exp(-sq / (2 * a)) for a in (0.125, 0.25, 0.5, 1.0, 2.0))  # the released widths 2^-3 .. 2^1


def _released_mdp3(raw: np.ndarray, emb: np.ndarray, k: int, seg: int = 32, lam: float = 0.2) -> list[int]:
    """The released loop written plainly: full log-dets, every candidate tried at every step."""
    gram = _kernel(((emb[:, None] - emb[None]) ** 2).sum(-1))
    log_r = np.log(_kernel(2.0 - 2.0 * raw))
    best, traces = [0.0] + [-np.inf] * k, [[] for _ in range(k + 1)]
    for start in range(0, len(raw), seg):
        cands = list(range(start, min(start + seg, len(raw))))
        new, new_traces = [0.0] + [-np.inf] * k, [[] for _ in range(k + 1)]
        for s in range(min(k, start) + 1):
            cond, cur, scores = traces[s][-1:], [], [0.0]
            for _ in range(min(k - s, len(cands))):
                objs = [(2 / lam * log_r[cond + cur + [i]].sum()
                         + np.linalg.slogdet(gram[np.ix_(cond + cur + [i], cond + cur + [i])])[1], i)
                        for i in cands if i not in cur]
                obj, pick = max(objs, key=lambda o: o[0])
                cur.append(pick)
                scores.append(obj)
            for m, score in enumerate(scores):
                if best[s] + score > new[s + m]:
                    new[s + m], new_traces[s + m] = best[s] + score, traces[s] + sorted(cur[:m])
        best, traces = new, new_traces
    return traces[k]


@pytest.mark.parametrize("n,k,seed", [(64, 4, 0), (70, 5, 1), (96, 3, 2)])
def test_mdp3_matches_the_released_loop(n, k, seed):
    rng = np.random.default_rng(seed)
    emb = _unit(rng.normal(size=(n, 6)) + 0.5 * np.sin(np.arange(n) / 9.0)[:, None])
    raw = 0.2 + 0.05 * rng.normal(size=n)
    z = (raw - raw.mean()) / raw.std()
    got = create_selector("mdp3").select(z, k, embeddings=emb, raw_scores=raw).indices.tolist()
    assert got == _released_mdp3(raw, emb, k)


def test_mdp3_conditions_each_segment_on_the_last_pick_before_it():
    e = np.eye(3)
    emb = np.stack([e[0], e[1], e[0], e[2]])  # frame 2 repeats frame 0, in the next segment
    raw = np.array([0.5, 0.0, 0.5, 0.45])
    # conditioned, frame 2 would add nothing to the log-det next to frame 0: frame 3 instead
    assert create_selector("mdp3", segment_size=2).select(raw, 2, embeddings=emb).indices.tolist() == [0, 3]
    # unconditioned segments cannot see the repeat and take the better-scored copy
    assert create_selector("mdp3", segment_size=2, condition_size=0).select(
        raw, 2, embeddings=emb).indices.tolist() == [0, 2]


def test_mdp3_scores_raw_cosines_not_z_scores():
    rng = np.random.default_rng(3)
    emb = _unit(rng.normal(size=(64, 8)))
    z = rng.normal(size=64)
    # the same z-scores from cosines of different spread: the relevance term weighs differently
    picks = {tuple(create_selector("mdp3").select(z, 8, embeddings=emb, raw_scores=0.2 + s * z).indices)
             for s in (0.001, 0.1)}
    assert len(picks) == 2


# ---- Q-Frame (its authors' lmms-eval sampler, text_image_matching) ----

def test_qframe_ranks_log_softmax_at_temperature_plus_gumbel_noise():
    raw = 0.2 + 0.03 * np.random.default_rng(5).normal(size=40)
    sel = QFrameSelector(seed=3)
    assert sel.tau == 0.8
    logits = raw / 0.8
    log_probs = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
    expected = np.sort(np.argsort(-(log_probs + sel.noise(raw)))[:6])
    assert sel.select(np.zeros(40), 6, raw_scores=raw).indices.tolist() == expected.tolist()
    # a temperature far below the cosines' spread leaves the noise no say: top-k
    top = np.sort(np.argsort(-raw)[:6])
    assert QFrameSelector(seed=3, tau=1e-5).select(np.zeros(40), 6, raw_scores=raw).indices.tolist() == top.tolist()


def test_qframe_draws_fresh_noise_for_every_video_reproducibly():
    rng = np.random.default_rng(6)
    a, b = 0.2 + 0.02 * rng.normal(size=64), 0.2 + 0.02 * rng.normal(size=64)
    sel = QFrameSelector(seed=0)
    assert not np.allclose(sel.noise(a), sel.noise(b))  # another video, other noise
    assert np.array_equal(sel.noise(a), QFrameSelector(seed=0).noise(a))  # the same video, the same
    assert not np.allclose(sel.noise(a), QFrameSelector(seed=1).noise(a))  # another seed, other noise
    first = sel.select(a, 8).indices.tolist()
    assert sel.select(b, 8).indices.tolist() != first and sel.select(a, 8).indices.tolist() == first


# ---- MMR ----

def test_mmr_with_lambda_one_is_top_k_and_lower_lambda_diversifies():
    rng = np.random.default_rng(3)
    scores, emb = rng.normal(size=64), _unit(rng.normal(size=(64, 16)))
    top = create_selector("topk").select(scores, 8).indices.tolist()
    assert create_selector("mmr", lam=1.0).select(scores, 8, embeddings=emb).indices.tolist() == top
    dup = np.repeat(np.eye(4), 4, axis=0)
    flat = np.repeat([3.0, 2.0, 1.0, 0.0], 4)
    sel = create_selector("mmr", lam=0.3).select(flat, 4, embeddings=dup)
    assert len({tuple(e) for e in dup[sel.indices]}) == 4


@pytest.mark.parametrize("name,params", [("bolt", {"power": 0}), ("qframe", {"tau": 0}), ("mmr", {"lam": 2}),
                                         ("aks", {"max_depth": -1}), ("mdp3", {"segment_size": 0}),
                                         ("mdp3", {"condition_size": 2}), ("mdp3", {"lam": 0})])
def test_bad_peer_parameters_are_refused(name, params):
    with pytest.raises(InputError, match=name):
        create_selector(name, **params)


def test_the_trace_bench_hands_mdp3_and_qframe_the_raw_cosines():
    from hfs.data.traces import TraceConfig, make_traces
    from hfs.eval.traces import hits, score_selector
    from hfs.scoring import standardize

    traces = make_traces(0, TraceConfig(questions=12))
    for name in ("mdp3", "qframe"):
        sel = create_selector(name)

        def recall(raw_of):
            out = []
            for i in range(len(traces)):
                z = standardize(traces.scores[i])
                idx = sel.select(z, 8, times=traces.times[i], embeddings=traces.embeddings[i],
                                 raw_scores=raw_of(i, z)).indices
                out.append(hits(traces.times[i][idx], traces.events[i]).mean())
            return float(np.mean(out))

        with_raw, with_z = recall(lambda i, z: traces.scores[i]), recall(lambda i, z: z)
        assert with_raw != with_z, name  # the scale matters to this peer
        assert score_selector(traces, sel, 8)["recall"] == with_raw, name


def test_hfs_select_hands_the_peers_raw_cosines_and_reports_kept_repeats(three_scene_video, capsys):
    import json

    import hfs
    from hfs.cli import main

    sel = hfs.select(three_scene_video, "a red screen", k=6, num_candidates=32, encoder="color-names",
                     selector="qframe", use_cache=False)
    # Q-Frame's ranking is the raw cosines over its temperature plus the video's noise
    key = sel.raw_scores / 0.8 + QFrameSelector().noise(sel.raw_scores)
    assert sel.indices.tolist() == np.sort(np.argsort(-key, kind="stable")[:6]).tolist()
    code = main(["select", str(three_scene_video), "-q", "a red screen", "-k", "8", "-n", "32", "--encoder",
                 "color-names", "--selector", "bolt", "--json", "--no-cache"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and sum(f.get("drawn", 1) for f in out["frames"]) == 8
