"""KFS-Bench evidence metrics: the metrics on hand cases, the annotation CSV reader, and
``hfs eval --kfs-annotations`` end to end on a generated LongVideoBench-layout data root."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfs.cli import main
from hfs.data.benchmarks.kfs import EvidenceScene, parse_time, read_kfs_annotations
from hfs.errors import InputError
from hfs.eval.evidence_run import KfsEvalConfig, run_kfs_eval
from hfs.eval.kfs import KfsScores, aggregate, kfs_scores
from hfs.video.synth import Scene, write_video


def scene(*segments, scene_id="0"):
    return EvidenceScene(scene_id, tuple(segments))


# ---- metrics on hand cases -------------------------------------------------------------------

def test_one_scene_half_the_frames_inside():
    # scene [10, 20]; frames 12 and 15 inside, 30 and 40 outside
    s = kfs_scores([12, 15, 30, 40], [scene((10, 20))])
    assert s.kfr == 0.5 and s.shr == 1.0 and s.bsr == 1.0 and s.bds == 1.0
    assert s.ukss == pytest.approx(0.5 ** (1 / 3))


def test_segment_ends_are_inclusive():
    assert kfs_scores([20.0], [scene((10, 20))]).kfr == 1.0
    assert kfs_scores([10.0], [scene((10, 20))]).kfr == 1.0
    assert kfs_scores([20.5], [scene((10, 20))]).kfr == 0.0


def test_unbalanced_frames_over_two_scenes():
    # A = [0, 10] (10 s), B = [50, 60] + [70, 80] (20 s, two segments); 4 frames in A, 1 in B, 1 outside
    s = kfs_scores([1, 2, 3, 4, 55, 90], [scene((0, 10)), scene((50, 60), (70, 80), scene_id="1")])
    assert s.kfr == pytest.approx(5 / 6)
    assert s.shr == 1.0
    # fair shares: A floor(min(10/30*5, 5/2)) = 1, B floor(min(20/30*5, 5/2)) = 2; B has only 1
    assert s.bsr == 0.5
    # distribution (0.8, 0.2) is closest to even (a = 0): cos = 1 / sqrt(0.68 * 2)
    assert s.bds == pytest.approx(1 / math.sqrt(1.36))
    assert s.ukss == pytest.approx((5 / 6 * 0.5 / math.sqrt(1.36)) ** (1 / 3))


def test_frames_in_proportion_to_scene_length_are_perfectly_balanced():
    # A 10 s, B 30 s; 1 frame in A, 3 in B: the distribution matches the lengths (a = 1)
    s = kfs_scores([1, 45, 50, 60], [scene((0, 10)), scene((40, 70), scene_id="1")])
    assert (s.kfr, s.shr, s.bsr, s.bds, s.ukss) == (1.0, 1.0, 1.0, pytest.approx(1.0), pytest.approx(1.0))


def test_a_missed_scene_costs_hit_rate_and_balanced_recall():
    # three 2 s scenes, both frames in the first: hit 1 of 3; n_tp = 2, fair share floor(2/3) -> 1
    scenes = [scene((0, 2)), scene((10, 12), scene_id="1"), scene((20, 22), scene_id="2")]
    s = kfs_scores([0.5, 1.5], scenes)
    assert s.kfr == 1.0 and s.shr == pytest.approx(1 / 3) and s.bsr == pytest.approx(1 / 3)
    assert s.bds == pytest.approx(1 / math.sqrt(3))  # (1, 0, 0) against the even (1, 1, 1)


def test_no_frame_in_any_scene_scores_zero():
    s = kfs_scores([50, 60], [scene((0, 10))])
    assert (s.kfr, s.shr, s.bsr, s.bds, s.ukss) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert kfs_scores([], [scene((0, 10))]).ukss == 0.0


def test_aggregate_means_and_floored_geometric_mean():
    perfect = KfsScores(1.0, 1.0, 1.0, 1.0, 1.0)
    miss = KfsScores(0.0, 0.0, 0.0, 0.0, 0.0)
    half = KfsScores(0.5, 1.0, 0.5, 1.0, 0.25)
    agg = aggregate([perfect, miss])
    assert agg["n"] == 2 and agg["kfr"] == 0.5 and agg["shr"] == 0.5
    assert agg["ukss"] == pytest.approx(0.1)  # sqrt(1 * 0.01): the miss is floored at 0.01
    assert aggregate([perfect, half])["ukss"] == pytest.approx(0.5)
    assert aggregate([perfect, half])["bsr"] == pytest.approx(0.75)


_segment = st.tuples(st.integers(0, 100), st.integers(0, 20)).map(lambda p: (float(p[0]), float(p[0] + p[1] + 1)))


@settings(max_examples=60, deadline=None)
@given(scenes=st.lists(st.lists(_segment, min_size=1, max_size=3), min_size=1, max_size=4),
       times=st.lists(st.floats(0, 130, allow_nan=False), min_size=1, max_size=12))
def test_metrics_are_rates_and_balance_needs_a_hit(scenes, times):
    evidence = [EvidenceScene(str(n), tuple(segs)) for n, segs in enumerate(scenes)]
    s = kfs_scores(times, evidence)
    for value in (s.kfr, s.shr, s.bsr, s.bds, s.ukss):
        assert 0.0 <= value <= 1.0 + 1e-12
    assert s.bsr <= s.shr  # a scene with its fair share of frames is a hit scene
    assert s.ukss == pytest.approx((s.kfr * s.bsr * s.bds) ** (1 / 3))
    assert kfs_scores(list(reversed(times)), evidence) == s  # the order of the frames does not matter


# ---- the annotation CSV ----------------------------------------------------------------------

HEADER = "id,segment_id,scene_id,start,end\n"


def test_parse_time_both_formats_and_fractions():
    assert parse_time("1:02:03") == 3723.0
    assert parse_time("0:00:07.5") == 7.5
    assert parse_time("12:34") == 754.0
    assert parse_time("75:00") == 4500.0  # m:ss past an hour
    assert parse_time(" 0:07.25 ") == 7.25
    assert parse_time("3: 21") == parse_time(" 3:21") == 201.0  # spaces as in lvb_anno.csv
    assert parse_time("0:61") == 61.0 and parse_time("1:60:00") == 7200.0  # eval.py bounds neither
    for bad in ("", "7", "1:2:3:4", "a:bc", "-0:05", "0:05:"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_reader_groups_segments_into_scenes_and_pads_ends(tmp_path):
    path = tmp_path / "anno.csv"
    path.write_text(HEADER + "abc_0,0,0,0:10,0:14\n"
                             "abc_0,1,1,1:05:00,1:05:02.5\n"
                             "abc_0,2,0,0:20,0:20\n"
                             "003-2,0,0,0:49,0:55\n")
    anno = read_kfs_annotations(path)
    assert list(anno) == ["abc_0", "003-2"]
    first, second = anno["abc_0"]
    assert first.scene_id == "0" and first.segments == ((10.0, 15.0), (20.0, 21.0)) and first.length == 6.0
    assert second.scene_id == "1" and second.segments == ((3900.0, 3903.5),)
    assert anno["003-2"] == [EvidenceScene("0", ((49.0, 56.0),))]


def test_reader_takes_scene_labels_as_released(tmp_path):
    # lvb_anno.csv (KFS-Bench commit 2349b9e, line 1516 on) labels the scenes of LB1qPExHQY8 0a and 0b
    path = tmp_path / "lvb_anno.csv"
    path.write_text(HEADER + "mH9LdC7IFH8_1,0,1,1:34,1:34\n"
                             "LB1qPExHQY8_0,0,0a,0:07,0:17\n"
                             "LB1qPExHQY8_1,0,0a,0:12,0:16\n"
                             "LB1qPExHQY8_1,1,0b,1:27,1:27\n"
                             "iJgh2dnudIU_1,0,0,3:20, 3:21\n")
    anno = read_kfs_annotations(path)
    assert anno["LB1qPExHQY8_1"] == [EvidenceScene("0a", ((12.0, 17.0),)), EvidenceScene("0b", ((87.0, 88.0),))]
    assert anno["iJgh2dnudIU_1"] == [EvidenceScene("0", ((200.0, 202.0),))]
    assert kfs_scores([13.0, 87.5], anno["LB1qPExHQY8_1"]).shr == 1.0


@pytest.mark.parametrize("row, problem", [
    ("abc_0,0,0,0:09,0:05", "end 0:05 is before start 0:09"),
    ("abc_0,0,0,0:09,later", "time 'later' is not h:mm:ss or m:ss"),
    ("abc_0,0, ,0:09,0:10", "empty scene_id"),
    ("abc_0,0,0,0:09", "expected 5 fields"),
    (",0,0,0:09,0:10", "empty id"),
])
def test_reader_names_the_bad_row(tmp_path, row, problem):
    path = tmp_path / "anno.csv"
    path.write_text(HEADER + "abc_0,0,0,0:01,0:02\n" + row + "\n")
    with pytest.raises(InputError) as info:
        read_kfs_annotations(path)
    assert str(info.value) == f"{path}:3: {problem}"


def test_reader_refuses_missing_file_columns_and_empty_file(tmp_path):
    with pytest.raises(InputError, match="not found.*NEC-VID/KFS-Bench"):
        read_kfs_annotations(tmp_path / "nope.csv")
    (tmp_path / "cols.csv").write_text("id,start,end\nabc_0,0:01,0:02\n")
    with pytest.raises(InputError, match=r"cols\.csv:1: missing column\(s\) segment_id, scene_id"):
        read_kfs_annotations(tmp_path / "cols.csv")
    (tmp_path / "empty.csv").write_text(HEADER)
    with pytest.raises(InputError, match="no annotation rows"):
        read_kfs_annotations(tmp_path / "empty.csv")


# ---- hfs eval without an answerer ----------------------------------------------------------------

@pytest.fixture(scope="module")
def lvb_root(tmp_path_factory):
    """A LongVideoBench layout: one 12 s video (red 0-4 s, blue 4-8 s, green 8-12 s), four questions,
    and a KFS CSV annotating three of them (one with a scene past the video's end) plus an id the
    benchmark does not have."""
    root = tmp_path_factory.mktemp("lvb")
    (root / "videos").mkdir()
    write_video(root / "videos" / "v.mp4", [Scene("red", 4), Scene("blue", 4), Scene("green", 4)], fps=4,
                size=(48, 32))
    questions = [("v_0", "When is the green scene shown?"), ("v_1", "Are red and green shown?"),
                 ("v_2", "Is there a blue scene?"), ("v_3", "Is there a white scene?")]
    records = [{"video_id": "v", "question": q, "candidates": ["at the start", "at the end"], "correct_choice": 1,
                "question_category": "T3O", "id": qid, "video_path": "v.mp4", "duration_group": 15,
                "duration": 12.0} for qid, q in questions]
    (root / "lvb_val.json").write_text(json.dumps(records))
    (root / "lvb_anno.csv").write_text(HEADER + "v_0,0,0,0:08,0:11\n"
                                                "v_1,0,0,0:00:00,0:00:03\n"
                                                "v_1,1,1,0:08.5,0:09\n"
                                                "v_1,2,1,0:10,0:10\n"
                                                "v_2,0,0,0:00,0:01\n"
                                                "v_2,1,1,1:00:00,1:00:05\n"
                                                "gone_0,0,0,0:01,0:02\n")
    return root


def _config(root, out, **overrides):
    values = dict(benchmark="longvideobench", data_root=str(root), kfs_annotations=str(root / "lvb_anno.csv"),
                  out=str(out), selectors=["uniform", "topk", "greedy"], k=[1, 4], num_candidates=24,
                  encoder="color-names")
    values.update(overrides)
    return KfsEvalConfig(**values)


def test_evidence_run_finds_the_annotated_scene_that_uniform_misses(lvb_root, tmp_path):
    report = run_kfs_eval(_config(lvb_root, tmp_path / "out"), progress=False)
    assert report["questions"] == 3 and report["unannotated_questions"] == 1
    assert report["annotations"] == {"file": str(lvb_root / "lvb_anno.csv"), "questions": 4, "matched": 3,
                                     "without_question": 1}
    assert report["run"]["evidence_past_end"] == 1
    records = [json.loads(line) for line in (tmp_path / "out" / "kfs_records.jsonl").read_text().splitlines()]
    assert len(records) == 3 * 3 * 2
    by_key = {(r["id"], r["selector"], r["k"]): r for r in records}
    # the green scene (8-12 s): top-k's single frame is green; uniform's single frame is mid-video (blue)
    assert by_key[("v_0", "topk", 1)]["ukss"] == 1.0 and 8 <= by_key[("v_0", "topk", 1)]["times"][0] <= 12
    assert by_key[("v_0", "uniform", 1)]["kfr"] == 0.0 and 4 <= by_key[("v_0", "uniform", 1)]["times"][0] < 8
    assert report["overall"]["topk@1"]["shr"] > report["overall"]["uniform@1"]["shr"]
    # two scenes (red, green): 4 uniform frames hit both; top-k spends all 4 on one colour
    assert by_key[("v_1", "uniform", 4)]["shr"] == 1.0 and by_key[("v_1", "topk", 4)]["shr"] == 0.5
    # every record's metrics are the metrics of its frame times, and the report aggregates them
    anno = read_kfs_annotations(lvb_root / "lvb_anno.csv")
    for r in records:
        assert kfs_scores(r["times"], anno[r["id"]]).to_dict() == pytest.approx(
            {m: r[m] for m in ("kfr", "shr", "bsr", "bds", "ukss")}, abs=1e-12)
    for selector in ("uniform", "topk", "greedy"):
        for k in (1, 4):
            cell = report["overall"][f"{selector}@{k}"]
            rows = [r for r in records if r["selector"] == selector and r["k"] == k]
            assert cell == {"selector": selector, "k": k, **aggregate(
                KfsScores(r["kfr"], r["shr"], r["bsr"], r["bds"], r["ukss"]) for r in rows)}
    assert report["by_duration_group"]["greedy@4"]["groups"]["15s"]["n"] == 3
    for name in ("report.md", "report.json", "kfs.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    table = [line for line in (tmp_path / "out" / "report.md").read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 2 * (1 + 3 * 2)  # header + one row per selector x k, in both tables
    assert "evidence starts after their video ends" in (tmp_path / "out" / "report.md").read_text()
    assert json.loads((tmp_path / "out" / "report.json").read_text())["overall"] == report["overall"]


def test_kfs_results_round_trip_through_kfs_bench_input_format(lvb_root, tmp_path):
    from hfs.eval.kfs_export import read_kfs_results

    report = run_kfs_eval(_config(lvb_root, tmp_path / "out"), progress=False)
    records = [json.loads(line) for line in (tmp_path / "out" / "kfs_records.jsonl").read_text().splitlines()]
    anno = read_kfs_annotations(lvb_root / "lvb_anno.csv")
    files = sorted(p.name for p in (tmp_path / "out" / "kfs-results").iterdir())
    assert files == sorted(f"{s}_k{k}.json" for s in ("uniform", "topk", "greedy") for k in (1, 4))
    for selector in ("uniform", "topk", "greedy"):
        for k in (1, 4):
            path = tmp_path / "out" / "kfs-results" / f"{selector}_k{k}.json"
            raw = json.loads(path.read_text())  # exactly the README's format: a list of {id, frame_timestamps}
            assert all(set(row) == {"id", "frame_timestamps"} for row in raw)
            assert [row["id"] for row in raw] == ["v_0", "v_1", "v_2"]
            chosen = read_kfs_results(path)
            mine = {r["id"]: r for r in records if r["selector"] == selector and r["k"] == k}
            assert {qid: times for qid, times in chosen.items()} == {qid: r["times"] for qid, r in mine.items()}
            # scored from the file alone, the figures are the run's own
            assert aggregate(kfs_scores(t, anno[qid]) for qid, t in chosen.items()) == pytest.approx(
                {key: v for key, v in report["overall"][f"{selector}@{k}"].items() if key not in ("selector", "k")})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "v_0"}))
    with pytest.raises(InputError, match="not a KFS-Bench result file"):
        read_kfs_results(bad)


def test_hfs_eval_cli_without_a_model(lvb_root, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["eval", "--benchmark", "longvideobench", "--data-root", str(lvb_root), "--kfs-annotations",
                 str(lvb_root / "lvb_anno.csv"), "--encoder", "color-names", "-n", "24", "-k", "1,2",
                 "--selector", "all", "--limit", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "1 questions with KFS-Bench evidence" in printed and "UKSS@2" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["questions"] == 1 and "mdp3" in report["selectors"] and report["k"] == [1, 2]


def test_hfs_eval_cli_errors_are_one_line(lvb_root, tmp_path, capsys):
    base = ["eval", "--benchmark", "longvideobench", "--data-root", str(lvb_root), "--encoder", "color-names",
            "--out", str(tmp_path / "o")]
    assert main(base) == 1
    assert "needs --model" in capsys.readouterr().err
    assert main(base + ["--model", "m", "--kfs-annotations", str(lvb_root / "lvb_anno.csv")]) == 1
    assert "drop --model" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "v_0,0,0,0:08,0:0x\n")
    assert main(base + ["--kfs-annotations", str(bad)]) == 1
    assert capsys.readouterr().err.strip() == f"hfs: error: {bad}:2: time '0:0x' is not h:mm:ss or m:ss"
    other = tmp_path / "vidmme.csv"
    other.write_text(HEADER + "003-2,0,0,0:49,0:55\n")
    assert main(base + ["--kfs-annotations", str(other)]) == 1
    err = capsys.readouterr().err
    assert "'003-2'" in err and "is it the annotation file of this benchmark" in err and len(err.splitlines()) == 1


def test_evidence_run_refuses_an_accuracy_run_folder(lvb_root, tmp_path):
    (tmp_path / "acc").mkdir()
    (tmp_path / "acc" / "run.json").write_text("{}")
    with pytest.raises(InputError, match="accuracy run"):
        run_kfs_eval(_config(lvb_root, tmp_path / "acc"), progress=False)
    with pytest.raises(InputError, match="unknown selector"):
        run_kfs_eval(_config(lvb_root, tmp_path / "x", selectors=["nope"]), progress=False)

