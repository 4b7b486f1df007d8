"""The score-trace generator (hfs.data.traces) and its benchmark (hfs.eval.traces, hfs bench --traces)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hfs.cli import main
from hfs.config import ObjectiveConfig
from hfs.data.traces import (
    DURATION_GROUPS, EVENT_COUNT_PROBS, EVENT_LENGTH_DECILES, REPORT_SEEDS, TUNING_SEEDS, TraceConfig,
    make_traces, sample_event_counts, sample_event_lengths,
)
from hfs.errors import InputError
from hfs.eval.traces import TraceBenchConfig, compare, hits, run_trace_bench, score_selector
from hfs.selection import create_selector


@pytest.fixture(scope="module")
def traces():
    return make_traces(TUNING_SEEDS[0], TraceConfig(questions=240))


def test_tuning_and_report_seeds_are_disjoint():
    assert not set(TUNING_SEEDS) & set(REPORT_SEEDS)


def test_same_seed_same_traces_other_seed_other_traces():
    cfg = TraceConfig(questions=12)
    a, b, c = make_traces(5, cfg), make_traces(5, cfg), make_traces(6, cfg)
    assert np.array_equal(a.scores, b.scores) and np.array_equal(a.embeddings, b.embeddings)
    assert np.array_equal(a.times, b.times) and a.groups == b.groups
    assert all(np.array_equal(x, y) for x, y in zip(a.events, b.events))
    assert not np.allclose(a.scores, c.scores)


def test_event_count_distribution_follows_kfs_bench():
    counts = sample_event_counts(np.random.default_rng(0), 20000)
    shares = np.bincount(counts, minlength=7)[1:] / counts.size
    expected = np.array(EVENT_COUNT_PROBS) / np.sum(EVENT_COUNT_PROBS)
    assert np.allclose(shares, expected, atol=0.01)


def test_event_length_deciles_follow_kfs_bench():
    lengths = sample_event_lengths(np.random.default_rng(1), 20000)
    got = np.quantile(lengths, np.arange(0.05, 1.0, 0.1))
    assert np.allclose(np.log(got), np.log(EVENT_LENGTH_DECILES), atol=0.12)


def test_trace_set_layout(traces):
    q, n = traces.scores.shape
    assert (q, n) == (240, 128) and traces.embeddings.shape[:2] == (240, 128)
    assert np.allclose(np.linalg.norm(traces.embeddings, axis=-1), 1.0, atol=1e-5)
    # a third of each duration group, durations inside the group's range
    assert {g: traces.groups.count(g) for g in DURATION_GROUPS} == {g: 80 for g in DURATION_GROUPS}
    for d, g, t in zip(traces.durations, traces.groups, traces.times):
        lo, hi = DURATION_GROUPS[g]
        assert lo <= d <= hi
        assert np.allclose(t, (np.arange(n) + 0.5) * d / n)  # segment midpoints
    counts = traces.event_counts()
    assert counts.min() >= 1 and counts.max() <= 6
    assert 0.62 <= np.mean(counts == 1) <= 0.82 and np.mean(counts >= 2) > 0.15
    for ev, d in zip(traces.events, traces.durations):
        assert np.all(ev[:, 0] >= 0) and np.all(ev[:, 1] <= d) and np.all(ev[:, 1] > ev[:, 0])
        assert np.all(ev[1:, 0] >= ev[:-1, 1])  # sorted, no overlap


def test_evidence_scores_higher_than_the_rest(traces):
    """The simulation carries signal: candidates inside evidence events score above the others
    on average, though not always (faint events, distractors)."""
    inside, outside = [], []
    for i in range(len(traces)):
        z = (traces.scores[i] - traces.scores[i].mean()) / traces.scores[i].std()
        mask = np.zeros(128, bool)
        for a, b in traces.events[i]:
            mask |= (traces.times[i] >= a) & (traces.times[i] < b)
        inside.extend(z[mask])
        outside.extend(z[~mask])
    assert np.mean(inside) > np.mean(outside) + 0.8
    assert np.mean(np.array(inside) < 0) > 0.05


def test_hits_by_hand():
    events = np.array([[0.0, 1.0], [5.0, 6.0], [9.0, 9.5]])
    assert hits(np.array([0.5, 6.0, 9.2]), events).tolist() == [True, False, True]  # [start, end)


def test_greedy_beats_topk_on_multi_event_traces(traces):
    """On questions with several events, set-level selection finds more of them than top-k,
    which spends its budget on the highest stretch."""
    multi = [i for i in range(len(traces)) if len(traces.events[i]) >= 2]
    assert len(multi) >= 30
    sub = type(traces)(seed=traces.seed, scores=traces.scores[multi], embeddings=traces.embeddings[multi],
                       times=traces.times[multi], durations=traces.durations[multi],
                       groups=[traces.groups[i] for i in multi], events=[traces.events[i] for i in multi])
    for k in (8, 16):
        greedy = score_selector(sub, create_selector("greedy"), k)
        topk = score_selector(sub, create_selector("topk"), k)
        assert greedy["recall"] > topk["recall"] + 0.05
        assert greedy["all_hit"] > topk["all_hit"]


def test_run_trace_bench_rows():
    cfg = TraceBenchConfig(seeds=[0, 1], k=[4, 8], selectors=["uniform", "greedy"], traces=TraceConfig(questions=20))
    result = run_trace_bench(cfg, objectives={"greedy[paper]": ObjectiveConfig.preset("paper")})
    rows = {(r["selector"], r["k"]): r for r in result["rows"]}
    assert set(rows) == {(s, k) for s in ("uniform", "greedy", "greedy[paper]") for k in (4, 8)}
    for r in rows.values():
        assert 0 <= r["all_hit"] <= r["recall"] <= 1 and r["recall_std"] >= 0 and r["time_us"] > 0
    per_seed = [p for p in result["per_seed"] if p["selector"] == "uniform" and p["k"] == 8]
    assert rows[("uniform", 8)]["recall"] == pytest.approx(np.mean([p["recall"] for p in per_seed]))
    with pytest.raises(InputError, match="k must be"):
        run_trace_bench(TraceBenchConfig(seeds=[0], k=[200], traces=TraceConfig(questions=2)))
    with pytest.raises(InputError, match="unknown selector"):
        run_trace_bench(TraceBenchConfig(seeds=[0], selectors=["nope"], traces=TraceConfig(questions=2)))


def test_bench_traces_cli(tmp_path, capsys):
    code = main(["bench", "--traces", "--questions", "10", "--seeds", "0,1", "-k", "8", "--selector",
                 "topk,greedy", "--out", str(tmp_path)])
    assert code == 0
    data = json.loads((tmp_path / "traces.json").read_text())
    # greedy also runs under every other named objective, for comparison
    assert {r["selector"] for r in data["rows"]} == {"topk", "greedy", "greedy[paper]", "greedy[calibrated-time]",
                                                     "greedy[calibrated-det]", "greedy[calibrated-det-ridge]"}
    assert data["meta"]["seeds"] == [0, 1] and data["meta"]["questions_per_seed"] == 10
    assert "| greedy | 8 |" in (tmp_path / "traces.md").read_text()
    assert "greedy against each selector" in (tmp_path / "traces.md").read_text()
    assert "traces.md" in capsys.readouterr().out


def test_bad_trace_config():
    with pytest.raises(InputError, match="distractor_share"):
        TraceConfig(distractor_share=1.5)
    with pytest.raises(InputError, match="layout must be one of kfs, uniform"):
        TraceConfig(layout="even")


def test_uniform_layout_draws_one_to_three_events_of_two_to_twenty_seconds():
    uni = make_traces(3, TraceConfig(questions=300, layout="uniform"))
    counts = uni.event_counts()
    assert set(counts.tolist()) == {1, 2, 3} and abs(np.mean(counts) - 2.0) < 0.15
    lengths = np.concatenate([e[:, 1] - e[:, 0] for e in uni.events])
    assert lengths.min() >= 2.0 and lengths.max() <= 20.0
    # the KFS layout is the default and is not changed by the option: mostly one event, long tails
    kfs = make_traces(3, TraceConfig(questions=300))
    assert np.mean(kfs.event_counts() == 1) > 0.6 and np.array_equal(kfs.scores, make_traces(3, TraceConfig(
        questions=300, layout="kfs")).scores)


def test_bench_traces_cli_layout(tmp_path):
    code = main(["bench", "--traces", "--layout", "uniform", "--questions", "6", "--seeds", "0", "-k", "8",
                 "--selector", "mdp3,aks", "--out", str(tmp_path)])
    assert code == 0
    data = json.loads((tmp_path / "traces.json").read_text())
    assert data["meta"]["traces"]["layout"] == "uniform"
    assert (tmp_path / "traces.md").read_text().startswith("Score traces (uniform layout)")


def test_select_objective_flag(three_scene_video, capsys):
    """``hfs select --objective paper`` selects and scores with the paper's constants."""
    from hfs.selection.objective import objective_terms

    code = main(["select", str(three_scene_video), "-q", "a red screen", "-k", "4", "-n", "24",
                 "--encoder", "color-names", "--json", "--no-cache", "--objective", "paper"])
    assert code == 0
    paper = json.loads(capsys.readouterr().out)
    idx = np.array([f["index"] for f in paper["frames"]])
    scores = np.zeros(24)
    scores[idx] = [f["score"] for f in paper["frames"]]
    # the paper's Red: fixed gamma = 10 candidate steps, no visual term
    expected = objective_terms(scores, idx, np.arange(24.0), ObjectiveConfig.preset("paper"))["red"]
    assert paper["objective"]["red"] == pytest.approx(expected, abs=1e-4)
    with pytest.raises(SystemExit):
        main(["select", str(three_scene_video), "-q", "x", "--objective", "nope"])


def test_standardize_of_many_videos_equals_standardize_of_each():
    from hfs.scoring import standardize

    x = np.random.default_rng(0).normal(size=(4, 9))
    x[2] = 1.5  # a flat row becomes zeros
    x[3] *= 1e300  # and a huge one is the same as its unscaled self
    rows = np.stack([standardize(r) for r in x])
    assert np.allclose(standardize(x), rows) and np.allclose(rows[2], 0.0)
    np.testing.assert_allclose(rows[3], standardize(x[3] / 1e300), rtol=1e-9)


def test_compare_pairs_by_seed_and_calls_lead_tie_trail():
    meta = {"seeds": [0, 1, 2, 3, 4], "k": [8]}
    ref = [0.70, 0.72, 0.71, 0.69, 0.70]
    rows = [{"selector": "greedy", "k": 8, "seed": s, "recall": r, "all_hit": r} for s, r in zip(meta["seeds"], ref)]
    rows += [{"selector": "ahead", "k": 8, "seed": s, "recall": r - 0.01, "all_hit": r - 0.01 * (s % 2 * 2 - 1)}
             for s, r in zip(meta["seeds"], ref)]
    rows += [{"selector": "better", "k": 8, "seed": s, "recall": r + 0.02, "all_hit": r + (0.02 if s else -0.01)}
             for s, r in zip(meta["seeds"], ref)]
    out = {(r["other"], r["metric"]): r for r in compare({"per_seed": rows, "meta": meta})}
    assert out[("ahead", "recall")]["verdict"] == "leads" and out[("ahead", "recall")]["ahead"] == 5
    assert np.isclose(out[("ahead", "recall")]["difference"], 0.01)
    assert out[("ahead", "all_hit")]["verdict"] == "ties"  # ahead on 2 seeds, behind on 3
    assert out[("better", "recall")]["verdict"] == "trails"
    assert out[("better", "all_hit")]["verdict"] == "trails" and out[("better", "all_hit")]["behind"] == 4
