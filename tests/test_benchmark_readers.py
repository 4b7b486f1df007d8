"""Benchmark readers on fixture files written in the released Video-MME, LongVideoBench, MLVU (dev)
and NExT-QA layouts."""

from __future__ import annotations

import csv
import json
import re
import sys

import pytest

from hfs.data.benchmarks import (
    BenchmarkQuestion, ReadReport, duration_group_of, list_benchmarks, read_benchmark,
)
from hfs.errors import InputError


def _write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


# --- Video-MME --------------------------------------------------------------------------------

def _videomme_record(video_id, duration, youtube_id, n, task_type, answer, options=None):
    return {"video_id": video_id, "duration": duration, "domain": "Knowledge",
            "sub_category": "Humanity & History", "url": f"https://www.youtube.com/watch?v={youtube_id}",
            "videoID": youtube_id, "question_id": f"{video_id}-{n}", "task_type": task_type,
            "question": f"Question {n} about video {video_id}?",
            "options": options or ["A. Two.", "B. Three.", "C. Four.", "D. Five."], "answer": answer}


VIDEOMME = [
    _videomme_record("001", "short", "fFjv93ACGo8", 1, "Counting Problem", "C"),
    _videomme_record("001", "short", "fFjv93ACGo8", 2, "Information Synopsis", "A",
                     ["A. A history lesson.", "B. A cooking show.", "C. A game.", "D. A concert."]),
    _videomme_record("301", "medium", "xY_z-12AbCd", 1, "Temporal Reasoning", "D"),
]


def _write_parquet(path, records):
    import pyarrow
    import pyarrow.parquet

    path.parent.mkdir(parents=True, exist_ok=True)
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(records), path)
    return path


def test_videomme_parquet(tmp_path):
    _write_parquet(tmp_path / "videomme/test-00000-of-00001.parquet", VIDEOMME)
    qs, report = read_benchmark("videomme", tmp_path)
    assert report.kept == 3 and not report.skipped
    assert all(isinstance(q, BenchmarkQuestion) and q.benchmark == "videomme" for q in qs)
    assert [q.id for q in qs] == ["001-1", "001-2", "301-1"]
    assert [q.answer for q in qs] == [2, 0, 3]
    assert qs[0].options == ["Two.", "Three.", "Four.", "Five."]
    assert qs[0].options[qs[0].answer] == "Four."
    assert [q.duration_group for q in qs] == ["short", "short", "medium"]
    assert [q.category for q in qs] == ["Counting Problem", "Information Synopsis", "Temporal Reasoning"]
    assert qs[0].video == (tmp_path / "data/fFjv93ACGo8.mp4").resolve()
    assert qs[2].video == (tmp_path / "data/xY_z-12AbCd.mp4").resolve()
    assert qs[2].video_id == "301" and qs[0].question == "Question 1 about video 001?" and qs[0].duration is None


def test_videomme_json_and_jsonl_match_parquet(tmp_path):
    from_parquet, _ = read_benchmark("videomme", tmp_path, _write_parquet(tmp_path / "a.parquet", VIDEOMME))
    from_json, _ = read_benchmark("videomme", tmp_path, _write_json(tmp_path / "a.json", VIDEOMME))
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in VIDEOMME))
    from_jsonl, _ = read_benchmark("videomme", tmp_path, jsonl)
    assert from_parquet == from_json == from_jsonl


def test_videomme_bad_records(tmp_path):
    bad = [*VIDEOMME, {**VIDEOMME[0], "question_id": "001-3", "answer": "X"},
           {**VIDEOMME[0], "question_id": "001-4", "answer": "E"},
           {**VIDEOMME[0], "question_id": "001-5", "options": ["Two.", "Three.", "Four.", "Five."]}]
    path = _write_parquet(tmp_path / "bad.parquet", bad)
    qs, report = read_benchmark("videomme", tmp_path, path)  # never raised: counted and named
    assert report.unscorable[0] == "bad.parquet record 3 (id 001-3): answer 'X' is not an option letter"
    assert [name.split(":")[0] for name in report.unscorable] == [
        "bad.parquet record 3 (id 001-3)", "bad.parquet record 4 (id 001-4)", "bad.parquet record 5 (id 001-5)"]
    assert [q.id for q in qs] == ["001-1", "001-2", "301-1"]
    assert report.kept == 3
    assert report.skipped == {"unknown answer letter": 1, "answer out of range": 1, "bad options": 1}


def test_videomme_refuses_escaping_video(tmp_path):
    path = _write_json(tmp_path / "esc.json", [{**VIDEOMME[0], "videoID": "../x"}])
    qs, report = read_benchmark("videomme", tmp_path, path)
    assert qs == [] and len(report.unscorable) == 1
    assert re.match(r"esc\.json record 0 \(id 001-1\): .*escapes the data root", report.unscorable[0])


def test_videomme_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    path = _write_parquet(tmp_path / "a.parquet", VIDEOMME)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match="pip install pyarrow"):
        read_benchmark("videomme", tmp_path, path)


def test_videomme_unreadable_parquet(tmp_path):
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="junk.parquet: not a readable parquet file"):
        read_benchmark("videomme", tmp_path, tmp_path / "junk.parquet")


# --- LongVideoBench ---------------------------------------------------------------------------

def _lvb_record(qid, video_id, candidates, correct, category, group, duration):
    return {"video_id": video_id, "question": f"In the scene where the man waves, {qid}?",
            "question_wo_referring_query": f"{qid}?", "candidates": candidates, "correct_choice": correct,
            "position": [120, 180], "topic_id": 3, "question_category": category, "level": "L2-Relation",
            "id": qid, "video_path": f"{video_id}.mp4", "subtitle_path": f"{video_id}_en.json",
            "duration_group": group, "starting_timestamp_for_subtitles": 0, "duration": duration}


LVB = [
    _lvb_record("86CxyhFV9MI_0", "86CxyhFV9MI", ["red", "blue", "green", "black", "white"], 4, "T3O", 600, 512.3),
    _lvb_record("86CxyhFV9MI_1", "86CxyhFV9MI", ["before", "after", "during"], 1, "S2E", 600, 512.3),
    _lvb_record("Q8AZ16uBhr8_0", "Q8AZ16uBhr8", ["yes", "no"], 0, "E3E", 15, 12.0),
    _lvb_record("Vd0ZGu_2ksc_0", "Vd0ZGu_2ksc", ["a", "b", "c", "d"], 2, "T3O", 3600, 2905.5),
]


def test_longvideobench(tmp_path):
    _write_json(tmp_path / "lvb_val.json", LVB)
    qs, report = read_benchmark("longvideobench", tmp_path)
    assert report.kept == 4 and not report.skipped
    assert [q.id for q in qs] == ["86CxyhFV9MI_0", "86CxyhFV9MI_1", "Q8AZ16uBhr8_0", "Vd0ZGu_2ksc_0"]
    assert [len(q.options) for q in qs] == [5, 3, 2, 4]
    assert [q.answer for q in qs] == [4, 1, 0, 2]
    assert qs[0].options[qs[0].answer] == "white"
    assert [q.duration_group for q in qs] == ["600s", "600s", "15s", "3600s"]
    assert [q.category for q in qs] == ["T3O", "S2E", "E3E", "T3O"]
    assert [q.duration for q in qs] == [512.3, 512.3, 12.0, 2905.5]
    assert qs[2].video == (tmp_path / "videos/Q8AZ16uBhr8.mp4").resolve() and qs[2].video_id == "Q8AZ16uBhr8"
    assert qs[0].question == "In the scene where the man waves, 86CxyhFV9MI_0?"


def test_longvideobench_bad_records(tmp_path):
    bad = [LVB[0], {**LVB[1], "correct_choice": 3}, LVB[2], {k: v for k, v in LVB[3].items() if k != "candidates"},
           LVB[0]]
    path = _write_json(tmp_path / "lvb_bad.json", bad)
    qs, report = read_benchmark("longvideobench", tmp_path, path)
    assert report.unscorable[0] == "lvb_bad.json record 1 (id 86CxyhFV9MI_1): correct_choice 3 but 3 candidates"
    assert len(report.unscorable) == 3
    assert [q.id for q in qs] == ["86CxyhFV9MI_0", "Q8AZ16uBhr8_0"]
    assert report.kept == 2 and report.skipped == {"answer out of range": 1, "missing field": 1, "duplicate id": 1}


def test_longvideobench_refuses_escaping_video(tmp_path):
    _write_json(tmp_path / "lvb_val.json", [{**LVB[0], "video_path": "../x.mp4"}])
    qs, report = read_benchmark("longvideobench", tmp_path)
    assert qs == [] and report.skipped == {"video path outside the data root": 1}
    assert re.search(r"record 0 \(id 86CxyhFV9MI_0\): video path '\.\./x\.mp4' escapes", report.unscorable[0])
    _write_json(tmp_path / "lvb_val.json", [{**LVB[0], "video_path": "/etc/x.mp4"}])
    qs, report = read_benchmark("longvideobench", tmp_path)
    assert qs == [] and re.search(r"record 0 \(id 86CxyhFV9MI_0\): video path '/etc/x\.mp4' is absolute",
                                  report.unscorable[0])


# --- MLVU (dev) -------------------------------------------------------------------------------

def _mlvu_record(video, duration, candidates, answer, qtype):
    return {"video": video, "duration": duration, "question": f"What happens in {video}?",
            "candidates": candidates, "answer": answer, "question_type": qtype}


MLVU = {
    "1_plotQA": [_mlvu_record("movie101_66.mp4", 246.1, ["a dog", "a cat", "a bird", "a fish"], "a bird", "plotQA"),
                 _mlvu_record("movie101_67.mp4", 180.0, ["runs", "sits", "jumps", "sleeps"], "runs", "plotQA")],
    "2_needle": [_mlvu_record("needle_32.mp4", 1200.5, ["red", "green", "blue"], "blue", "needle")],
    "3_ego": [_mlvu_record("ego_35.mp4", 420.0, ["kitchen", "garage", "garden", "office"], "garage", "ego")],
    "4_count": [_mlvu_record("count_1.mp4", 600.0, ["1", "2", "3", "4", "5", "6"], "5", "count")],
    "5_order": [_mlvu_record("order_3.mp4", 700.0, ["1->2->3", "3->2->1", "2->1->3", "1->3->2"], "2->1->3",
                             "order")],
    "6_anomaly_reco": [_mlvu_record("surveil_9.mp4", 200.0, ["Robbery", "Normal", "Arson", "Fighting"], "Arson",
                                    "anomaly_reco")],
    "7_topic_reasoning": [],
    "8_sub_scene": [{"video": "subPlot_1.mp4", "duration": 500.0, "question": "Describe the scene.",
                     "answer": "A man ...", "question_type": "subPlot", "scoring_points": ["man", "door"]},
                    {"video": "subPlot_2.mp4", "duration": 510.0, "question": "Describe the scene.",
                     "answer": "A woman ...", "question_type": "subPlot", "scoring_points": ["woman"]}],
    "9_summary": [{"video": "summary_1.mp4", "duration": 900.0, "question": "Summarize the video.",
                   "answer": "It is about ...", "question_type": "summary"}],
}


def _write_mlvu(root, tasks=MLVU):
    for stem, records in tasks.items():
        _write_json(root / "json" / f"{stem}.json", records)


def test_mlvu(tmp_path):
    _write_mlvu(tmp_path)
    qs, report = read_benchmark("mlvu", tmp_path)
    assert report.kept == 7 and report.skipped == {"open-ended": 3}
    assert [q.id for q in qs] == ["1_plotQA/0", "1_plotQA/1", "2_needle/0", "3_ego/0", "4_count/0", "5_order/0",
                                  "6_anomaly_reco/0"]
    assert [q.answer for q in qs] == [2, 0, 2, 1, 4, 2, 2]
    assert all(q.options[q.answer] == r["answer"]
               for q, r in zip(qs, [r for stem in list(MLVU)[:7] for r in MLVU[stem]]))
    assert [len(q.options) for q in qs[:5]] == [4, 4, 3, 4, 6]
    assert [q.duration_group for q in qs[:4]] == ["medium", "short", "long", "medium"]
    assert [q.category for q in qs] == ["plotQA", "plotQA", "needle", "ego", "count", "order", "anomaly_reco"]
    assert qs[0].video == (tmp_path / "video/1_plotQA/movie101_66.mp4").resolve()
    assert qs[2].video == (tmp_path / "video/2_needle/needle_32.mp4").resolve()
    assert qs[0].duration == 246.1 and qs[0].video_id == "1_plotQA/movie101_66"


def _choice_bench_letter(candidates, answer):
    """The answer letter as MLVU's choice_bench.py builds it: every candidate compared in turn,
    the last match kept, '@' (chr(ord('A') - 1)) when none matches."""
    index = -1
    for i, c in enumerate(candidates):
        if c == answer:
            index = i
    return chr(ord("A") + index)


# the anomalies of the released MLVU dev files, one record each
MLVU_ODD = {
    "1_plotQA": [_mlvu_record("movie101_23.mp4", 300.0, ["", "There is an archery scene", "There is no archery scene",
                                                          ""], "There is an archery scene", "plotQA"),
                 _mlvu_record("movie101_24.mp4", 300.0, ["a hat", "a coat", "a hat", "a cane"], "a hat", "plotQA")],
    "2_needle": [_mlvu_record("needle_33.mp4", 100.0, ["x", "y", "w"], "z", "needle")],
    "3_ego": [_mlvu_record("ego_7.mp4", 420.0, ["in the sink", "", "on the table", "in the drawer"], "", "ego")],
    "4_count": [{k: v for k, v in _mlvu_record("count_9.mp4", 60.0, ["1", "2"], "1", "count").items()
                 if k != "candidates"}],
    "5_order": [], "6_anomaly_reco": [], "7_topic_reasoning": [],
}


def test_mlvu_odd_records_are_scored_as_choice_bench_scores_them(tmp_path):
    _write_mlvu(tmp_path, MLVU_ODD)
    qs, report = read_benchmark("mlvu", tmp_path)  # nothing raised
    assert [q.id for q in qs] == ["1_plotQA/0", "1_plotQA/1", "2_needle/0", "3_ego/0"]
    assert qs[0].options == ["", "There is an archery scene", "There is no archery scene", ""]  # empties kept
    assert [q.answer for q in qs] == [1, 2, -1, 1]  # duplicate -> last; not among candidates -> -1
    records = [r for stem in ("1_plotQA", "2_needle", "3_ego") for r in MLVU_ODD[stem]]
    for q, record in zip(qs, records):
        gt = _choice_bench_letter(record["candidates"], record["answer"])
        for prediction in range(len(q.options)):  # every possible answer is right exactly when choice_bench says
            assert (prediction == q.answer) == (chr(ord("A") + prediction) == gt)
    assert report.kept == 4 and report.skipped == {"missing field": 1}
    assert report.unscorable == ["4_count.json record 0 (id 4_count/0): missing field 'candidates'"]


def test_mlvu_refuses_escaping_video(tmp_path):
    _write_mlvu(tmp_path, {**MLVU, "3_ego": [{**MLVU["3_ego"][0], "video": "../x.mp4"}]})
    qs, report = read_benchmark("mlvu", tmp_path)
    assert "3_ego/0" not in [q.id for q in qs] and len(report.unscorable) == 1
    assert re.match(r"3_ego\.json record 0 \(id 3_ego/0\): video path '\.\./x\.mp4' escapes", report.unscorable[0])


def test_mlvu_annotation_override_and_missing_task(tmp_path):
    _write_mlvu(tmp_path / "elsewhere")
    qs, _ = read_benchmark("mlvu", tmp_path, tmp_path / "elsewhere/json")
    assert len(qs) == 7 and qs[0].video == (tmp_path / "video/1_plotQA/movie101_66.mp4").resolve()
    one, report = read_benchmark("mlvu", tmp_path, tmp_path / "elsewhere/json/2_needle.json")
    assert [q.id for q in one] == ["2_needle/0"] and report.kept == 1
    none, report = read_benchmark("mlvu", tmp_path, tmp_path / "elsewhere/json/8_sub_scene.json")
    assert none == [] and report.kept == 0 and report.skipped == {"open-ended": 2}
    (tmp_path / "elsewhere/json/4_count.json").unlink()
    with pytest.raises(InputError, match=r"4_count\.json: annotation file not found; .*MLVU/MVLU"):
        read_benchmark("mlvu", tmp_path, tmp_path / "elsewhere/json")


# --- NExT-QA ----------------------------------------------------------------------------------

NEXTQA_COLUMNS = ["video", "frame_count", "width", "height", "question", "answer", "qid", "type",
                  "a0", "a1", "a2", "a3", "a4"]
NEXTQA = [
    ["4010069381", "1612", "640", "480", "why did the boy pick up the ball", "3", "0", "CW",
     "to eat it", "to sleep", "to hide", "to throw it", "to wash it"],
    ["4010069381", "1612", "640", "480", "what did the boy do after throwing", "1", "1", "TN",
     "sat down", "ran after the dog", "cried", "laughed", "left"],
    ["6233408665", "900", "640", "360", "where is this video taken", "0", "4", "DL",
     "park", "beach", "kitchen", "office", "car"],
    ["6233408665", "900", "640", "360", "how many people are there", "2", "5", "DC",
     "one", "two", "three", "four", "five"],
]
NEXTQA_MAP = {"4010069381": "1106/4010069381", "6233408665": "1010/6233408665"}


def _write_nextqa(root, rows=NEXTQA, name="val.csv"):
    folder = root / "nextqa"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(NEXTQA_COLUMNS)
        writer.writerows(rows)
    _write_json(folder / "map_vid_vidorID.json", NEXTQA_MAP)
    return folder / name


def test_nextqa(tmp_path):
    _write_nextqa(tmp_path)
    qs, report = read_benchmark("nextqa", tmp_path)
    assert report.kept == 4 and not report.skipped
    assert [q.id for q in qs] == ["4010069381_0", "4010069381_1", "6233408665_4", "6233408665_5"]
    assert [q.answer for q in qs] == [3, 1, 0, 2]
    assert qs[0].options == ["to eat it", "to sleep", "to hide", "to throw it", "to wash it"]
    assert qs[0].options[qs[0].answer] == "to throw it"
    assert [q.category for q in qs] == ["CW", "TN", "DL", "DC"]
    assert [q.duration_group for q in qs] == ["causal", "temporal", "descriptive", "descriptive"]
    assert qs[0].video == (tmp_path / "NExTVideo/1106/4010069381.mp4").resolve()
    assert qs[2].video == (tmp_path / "NExTVideo/1010/6233408665.mp4").resolve()
    assert qs[2].video_id == "6233408665" and qs[0].question == "why did the boy pick up the ball"


def test_nextqa_bad_records(tmp_path):
    rows = [NEXTQA[0], ["9999999999", *NEXTQA[1][1:6], "7", *NEXTQA[1][7:]], NEXTQA[2],
            [*NEXTQA[3][:5], "5", *NEXTQA[3][6:]], [*NEXTQA[3][:6], "9", "XX", *NEXTQA[3][8:]]]
    path = _write_nextqa(tmp_path, rows, name="test.csv")
    qs, report = read_benchmark("nextqa", tmp_path, path)
    assert report.unscorable[0].startswith("test.csv record 1 (id 9999999999_7): video 9999999999 is not in")
    assert [q.id for q in qs] == ["4010069381_0", "6233408665_4"]
    assert report.kept == 2
    assert report.skipped == {"video not in map": 1, "answer out of range": 1, "unknown question type": 1}


def test_nextqa_refuses_escaping_video_and_needs_the_map(tmp_path):
    _write_nextqa(tmp_path)
    _write_json(tmp_path / "nextqa/map_vid_vidorID.json", {**NEXTQA_MAP, "4010069381": "../x"})
    qs, report = read_benchmark("nextqa", tmp_path)
    assert len(qs) == 2 and re.search(r"record 0 \(id 4010069381_0\): video path '\.\./x\.mp4' escapes",
                                      report.unscorable[0])
    (tmp_path / "nextqa/map_vid_vidorID.json").unlink()
    with pytest.raises(InputError, match=r"map_vid_vidorID\.json: annotation file not found; .*doc-doc/NExT-QA"):
        read_benchmark("nextqa", tmp_path)


# --- registry and shared helpers --------------------------------------------------------------

def test_list_and_unknown_benchmark(tmp_path):
    assert list_benchmarks() == ["videomme", "longvideobench", "mlvu", "nextqa", "synthetic"]
    with pytest.raises(InputError, match="unknown benchmark 'egoschema'; choose one of: videomme, longvideobench, "
                                         "mlvu, nextqa"):
        read_benchmark("egoschema", tmp_path)


@pytest.mark.parametrize("name, default, source", [
    ("videomme", "videomme/test-00000-of-00001.parquet", "lmms-lab/Video-MME"),
    ("longvideobench", "lvb_val.json", "longvideobench/LongVideoBench"),
    ("mlvu", "json", "MLVU/MVLU"),
    ("nextqa", "nextqa/val.csv", "doc-doc/NExT-QA"),
])
def test_missing_annotations_name_path_and_source(tmp_path, name, default, source):
    with pytest.raises(InputError, match=rf"{tmp_path / default}: .*not found; .*{source}"):
        read_benchmark(name, tmp_path)


def test_reports_are_fresh_read_reports(tmp_path):
    _write_json(tmp_path / "lvb_val.json", LVB[:1])
    _, first = read_benchmark("longvideobench", tmp_path)
    _, second = read_benchmark("longvideobench", tmp_path)
    assert isinstance(first, ReadReport) and first is not second and second.kept == 1


@pytest.mark.parametrize("seconds, group", [
    (0, "short"), (239.9, "short"), (240, "medium"), (900, "medium"), (900.5, "long"), (3600, "long"),
])
def test_duration_group_of(seconds, group):
    assert duration_group_of(seconds) == group


@pytest.mark.parametrize("seconds", [-1, float("nan"), "60"])
def test_duration_group_of_refuses_non_durations(seconds):
    with pytest.raises(InputError):
        duration_group_of(seconds)


def test_synthetic_reader_reads_a_generated_set_and_names_bad_records(tmp_path):
    from hfs.data.evidence import make_evidence_set

    items = make_evidence_set(tmp_path, 3, seed=1)
    qs, report = read_benchmark("synthetic", tmp_path)
    assert [q.id for q in qs] == [i.id for i in items] and report.kept == 3
    assert [(q.answer, q.category, q.video) for q in qs] == [(i.answer, i.kind, tmp_path / i.video) for i in items]
    data = json.loads((tmp_path / "items.json").read_text())
    data[1]["answer"] = 9
    _write_json(tmp_path / "items.json", data)
    qs, report = read_benchmark("synthetic", tmp_path)
    assert report.unscorable == ["items.json record 1 (id evidence-1-1): answer 9 but 4 options"]
    assert len(qs) == 2 and report.skipped == {"answer out of range": 1}


def test_unscorable_records_are_named_in_one_line(tmp_path):
    from hfs.data.benchmarks.common import unscorable_line

    bad = [{**LVB[i], "correct_choice": 9} for i in range(4)] + [LVB[0]]
    path = _write_json(tmp_path / "lvb.json", bad)
    qs, report = read_benchmark("longvideobench", tmp_path, path)
    assert len(qs) == 1 and unscorable_line("longvideobench", ReadReport()) is None
    line = unscorable_line("longvideobench", report, show=2)
    assert "\n" not in line and line.startswith("longvideobench: 4 annotation record(s) cannot be scored")
    assert "lvb.json record 0 (id 86CxyhFV9MI_0): correct_choice 9 but 5 candidates" in line
    assert "record 2" not in line and line.endswith("and 2 more (report.json lists them all)")
