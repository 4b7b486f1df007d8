"""The synthetic evidence benchmark and ``hfs bench``: ground truth matches pixels, metrics mean
what they say, and the bench ranks selectors from one set of scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hfs.cli import main
from hfs.data.evidence import make_evidence_set
from hfs.errors import InputError
from hfs.eval.bench import BenchConfig, run_bench
from hfs.eval.bench_report import write_bench_report
from hfs.eval.metrics import redundancy, temporal_coverage
from hfs.selection import list_selectors
from hfs.video import open_video
from hfs.video.synth import COLORS


def _mean_colour(path, t):
    return next(open_video(path).frames_at([t])).image.reshape(-1, 3).mean(0)


def test_evidence_set_ground_truth_matches_the_pixels(tmp_path):
    items = make_evidence_set(tmp_path, 8, seed=5)
    assert {i.kind for i in items} == {"single", "multi"}
    for item in items:
        assert len(item.evidence) == (2 if item.kind == "multi" else 1)
        assert item.color in item.question
        for start, end in item.evidence:
            assert np.abs(_mean_colour(tmp_path / item.video, (start + end) / 2) - COLORS[item.color]).max() < 25
        if item.kind == "multi":
            lengths = sorted(b - a for a, b in item.evidence)
            assert lengths[1] > 2.5 * lengths[0]  # one long event, one short
            assert item.options[item.answer] == "twice"
        # nowhere else is the whole screen the asked colour
        times = np.arange(0.125, item.duration, 0.5)
        outside = [t for t in times if not any(a - 0.3 <= t < b + 0.3 for a, b in item.evidence)]
        frames = open_video(tmp_path / item.video).frames_at(outside)
        for frame in frames:
            assert np.abs(frame.image.reshape(-1, 3).mean(0) - COLORS[item.color]).max() > 25
    again = make_evidence_set(tmp_path / "again", 8, seed=5)
    assert [(i.question, i.evidence) for i in again] == [(i.question, i.evidence) for i in items]
    assert [(i.question, i.evidence) for i in make_evidence_set(tmp_path / "other", 8, seed=6)] != \
           [(i.question, i.evidence) for i in items]


def test_evidence_set_refuses_too_short_videos(tmp_path):
    with pytest.raises(InputError, match="too short"):
        make_evidence_set(tmp_path, 1, duration=5.0, fps=4.0)


def test_coverage_and_redundancy_mean_what_they_say():
    k, duration = 8, 64.0
    spread = (np.arange(k) + 0.5) * duration / k  # segment midpoints
    bunched = np.linspace(10.0, 12.0, k)
    assert temporal_coverage(spread, duration, k) == pytest.approx(1.0, abs=1e-9)
    assert temporal_coverage(bunched, duration, k) < 0.2
    assert temporal_coverage([0.0], duration, 1) == pytest.approx(0.5)
    assert redundancy([5.0, 5.0], duration) == pytest.approx(1.0)
    assert redundancy(spread, duration) < 0.1 < 0.9 < redundancy(bunched, duration)


def test_bench_runs_every_selector_on_the_same_scores_and_greedy_beats_topk_on_multi_event(tmp_path, color_encoder):
    config = BenchConfig(videos=10, seed=0, k=[4, 8, 16], data_dir=str(tmp_path / "set"), repeats=1)
    result = run_bench(config, encoder=color_encoder, progress=False)
    paths = write_bench_report(result, tmp_path / "out")
    assert {r["selector"] for r in result.rows} == set(list_selectors())
    data = json.loads(paths["json"].read_text())
    assert data["rows"] == result.rows and data["meta"]["questions"]["multi"] >= 3
    # the table is the mean of the per-question records
    for row in result.rows:
        sub = [r for r in data["records"] if r["selector"] == row["selector"] and r["k"] == row["k"]
               and row["questions"] in ("all", r["kind"])]
        assert row["n"] == len(sub) and row["recall"] == pytest.approx(np.mean([r["recall"] for r in sub]))
    md = paths["markdown"].read_text()
    assert "| greedy | 8 |" in md and f"{result.row('greedy', 8)['recall']:.3f}" in md
    assert paths["plot"].stat().st_size > 10_000
    assert result.row("uniform", 8)["coverage"] > 0.99
    for k in (4, 8):
        greedy, topk = result.row("greedy", k, "multi")["recall"], result.row("topk", k, "multi")["recall"]
        print(f"k={k}: multi-event evidence recall greedy {greedy:.3f}, top-k {topk:.3f}")
        assert greedy >= topk
    assert result.row("greedy", 4, "multi")["recall"] > result.row("topk", 4, "multi")["recall"]
    # a selector that ignores the scores does worse than the score-driven set selection
    assert result.row("greedy", 4)["recall"] > result.row("uniform", 4)["recall"]


def test_hfs_bench_command(tmp_path, capsys):
    code = main(["bench", "--videos", "3", "-k", "4,8", "--selector", "uniform,greedy", "--encoder", "color-names",
                 "--data-dir", str(tmp_path / "set"), "--out", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "greedy" in out and "uniform" in out and "bench.md" in out
    rows = json.loads((tmp_path / "out" / "bench.json").read_text())["rows"]
    assert {(r["selector"], r["k"]) for r in rows} == {(s, k) for s in ("uniform", "greedy") for k in (4, 8)}
    assert main(["bench", "--videos", "2", "--selector", "nope", "--encoder", "color-names",
                 "--data-dir", str(tmp_path / "set"), "--out", str(tmp_path / "o2")]) == 1
    assert "unknown selector" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--fps", "0"], "--fps: must be between 0.1 and 240, got 0.0"),
    (["--fps", "1e6"], "--fps: must be between 0.1 and 240, got 1000000.0"),
    (["--multi-share", "2"], "--multi-share: must be between 0 and 1, got 2.0"),
    (["--duration", "1e9"], "--duration: must be > 0 and <= 86400, got 1000000000.0"),
    (["--duration", "-3"], "--duration: must be > 0"),
    (["--duration", "2"], "a 2s video at 4 fps has 8 frames, too short"),
    # within every range, but too many frames in all: refused with the numbers, nothing generated
    (["--videos", "12", "--duration", "3600", "--fps", "30"],
     "the set would have 12 videos x 3600 s x 30 fps = 1.3e+06 frames, above the limit of 1,000,000"),
])
def test_hfs_bench_refuses_bad_sizes_up_front(tmp_path, capsys, args, message):
    code = main(["bench", *args, "--encoder", "color-names", "--data-dir", str(tmp_path / "set"),
                 "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"hfs: error: {message}"), err
    assert not (tmp_path / "set").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag", ["--duration", "--fps", "--multi-share"])
def test_hfs_bench_refuses_nan(tmp_path, capsys, flag):
    with pytest.raises(SystemExit) as exc:
        main(["bench", flag, "nan", "--encoder", "color-names", "--data-dir", str(tmp_path / "set")])
    assert exc.value.code == 2 and f"argument {flag}: expected a finite number, got nan" in capsys.readouterr().err


def test_bench_config_checks_its_fields():
    with pytest.raises(InputError, match=r"BenchConfig\.videos: expected an integer, got True"):
        BenchConfig(videos=True)
    with pytest.raises(InputError, match=r"BenchConfig\.k\[1\]: must be between 1 and 4096, got 0"):
        BenchConfig(k=[4, 0])
    with pytest.raises(InputError, match=r"BenchConfig\.size: expected \[width, height\]"):
        BenchConfig(size=[64])
    assert BenchConfig(duration=10, fps=4).duration == 10.0  # exactly the 40 frames a video needs
