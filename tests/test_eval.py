"""``hfs eval`` and ``hfs answer`` end to end: a tiny random Qwen2-VL answers generated videos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hfs.atomic import _HOST
from hfs.cli import main
from hfs.errors import InputError
from hfs.eval.results import read_jsonl
from hfs.eval.runner import EvalConfig, run_eval
from hfs.video.synth import Scene, write_video

SELECTORS = ["uniform", "topk", "greedy"]


@pytest.fixture(scope="module")
def answerer(tiny_vlm_dir):
    from hfs.reasoning import MultimodalAnswerer

    return MultimodalAnswerer(str(tiny_vlm_dir), device="cpu")


class CountingAnswerer:
    """The real answerer, counting how many selections it answered."""

    def __init__(self, inner) -> None:
        self.inner, self.calls, self.short_side = inner, 0, inner.short_side

    def answer(self, *args, **kwargs):
        self.calls += 1
        return self.inner.answer(*args, **kwargs)


def _config(tmp_path: Path, model: Path, out: str = "out", **overrides) -> EvalConfig:
    values = dict(benchmark="synthetic", data_root=str(tmp_path / "set"), model=str(model), out=str(tmp_path / out),
                  selectors=SELECTORS, k=[2, 4], encoder="color-names", synthetic_videos=4)
    values.update(overrides)
    return EvalConfig(**values)


def _predictions(records):
    return {(r["id"], r["selector"], r["k"]): r["prediction"] for r in records}


def test_eval_end_to_end_report_agrees_with_the_jsonl(tmp_path, tiny_vlm_dir, answerer):
    counting = CountingAnswerer(answerer)
    report = run_eval(_config(tmp_path, tiny_vlm_dir), answerer=counting, progress=False)
    assert report["num_candidates"] == "auto"  # the default: adaptive candidates, refined per question
    out = tmp_path / "out"
    records = read_jsonl(out / "results.jsonl")
    keys = [(r["id"], r["selector"], r["k"]) for r in records]
    assert len(keys) == len(set(keys)) == 4 * len(SELECTORS) * 2 == counting.calls
    for r in records:
        assert r["prediction"] == int(np.argmax(r["probs"])) and r["correct"] == (r["prediction"] == r["answer"])
        assert r["frames"] == r["k"] == len(r["times"]) and r["times"] == sorted(r["times"])
    saved = json.loads((out / "report.json").read_text())
    assert saved["overall"] == report["overall"]
    for cell in saved["overall"].values():
        mine = [r for r in records if r["selector"] == cell["selector"] and r["k"] == cell["k"]]
        assert cell["n"] == len(mine) == 4
        assert cell["accuracy"] == pytest.approx(np.mean([r["correct"] for r in mine]))
    for cell in saved["by_category"].values():
        for group, g in cell["groups"].items():
            mine = [r["correct"] for r in records if r["selector"] == cell["selector"] and r["k"] == cell["k"]
                    and r["category"] == group]
            assert g["n"] == len(mine) and g["accuracy"] == pytest.approx(np.mean(mine))
    md = (out / "report.md").read_text()
    assert "| greedy | 4 |" in md and "By duration group" in md and "By task category" in md
    assert (out / "accuracy.png").stat().st_size > 5_000
    # selectors saw the same scores: uniform ignores them, top-k and greedy differ from it
    times = {(r["id"], r["selector"], r["k"]): r["times"] for r in records}
    assert any(times[(q, "topk", 4)] != times[(q, "uniform", 4)] for q, _, _ in keys)


def test_eval_resumes_without_answering_anything_twice(tmp_path, tiny_vlm_dir, answerer):
    full = run_eval(_config(tmp_path, tiny_vlm_dir), answerer=CountingAnswerer(answerer), progress=False)
    out = tmp_path / "out"
    complete = read_jsonl(out / "results.jsonl")
    # simulate a kill: only the shard survives, with 7 finished lines and half of the 8th
    shard = out / "shards" / "rank0.jsonl"
    lines = shard.read_text().splitlines(keepends=True)
    shard.write_text("".join(lines[:7]) + lines[7][: len(lines[7]) // 2])
    for name in ("results.jsonl", "report.json", "report.md"):
        (out / name).unlink()
    counting = CountingAnswerer(answerer)
    again = run_eval(_config(tmp_path, tiny_vlm_dir), answerer=counting, progress=False)
    assert counting.calls == len(complete) - 7
    keys = Counter((r["id"], r["selector"], r["k"]) for r in read_jsonl(shard))
    assert max(keys.values()) == 1 and len(keys) == len(complete)
    assert _predictions(read_jsonl(out / "results.jsonl")) == _predictions(complete)
    assert again["overall"] == full["overall"]
    # a finished run has nothing left to do
    counting = CountingAnswerer(answerer)
    run_eval(_config(tmp_path, tiny_vlm_dir), answerer=counting, progress=False)
    assert counting.calls == 0


def test_two_processes_through_accelerate_merge_to_the_one_process_result(tmp_path, tiny_vlm_dir, answerer):
    single = run_eval(_config(tmp_path, tiny_vlm_dir, out="one"), answerer=answerer, progress=False)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "hfs.cli", "eval", "--benchmark", "synthetic",
         "--data-root", str(tmp_path / "set"), "--model", str(tiny_vlm_dir), "--encoder", "color-names",
         "--selector", ",".join(SELECTORS), "-k", "2,4", "--out", str(tmp_path / "two")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    shards = sorted((tmp_path / "two" / "shards").glob("*.jsonl"))
    assert [s.name for s in shards] == ["rank0.jsonl", "rank1.jsonl"]
    ids = [{r["id"] for r in read_jsonl(s)} for s in shards]
    assert ids[0] and ids[1] and not ids[0] & ids[1]  # the questions were split, none done twice
    merged = read_jsonl(tmp_path / "two" / "results.jsonl")
    one = read_jsonl(tmp_path / "one" / "results.jsonl")
    assert [(r["id"], r["selector"], r["k"]) for r in merged] == [(r["id"], r["selector"], r["k"]) for r in one]
    assert _predictions(merged) == _predictions(one)
    two = json.loads((tmp_path / "two" / "report.json").read_text())
    assert {k: v["accuracy"] for k, v in two["overall"].items()} == \
           {k: v["accuracy"] for k, v in single["overall"].items()}


def test_eval_on_a_real_layout_with_a_missing_video(tmp_path, tiny_vlm_dir, answerer):
    root = tmp_path / "lvb"
    (root / "videos").mkdir(parents=True)
    write_video(root / "videos" / "a.mp4", [Scene("red", 2.0), Scene("blue", 2.0)], fps=8, size=(64, 48))
    records = [
        {"video_id": vid, "question": "What colour comes first?", "question_wo_referring_query": "", "candidates":
         ["red", "blue", "green"], "correct_choice": 0, "position": [], "topic_id": 1, "question_category": cat,
         "level": "L1", "id": f"{vid}_0", "video_path": f"{vid}.mp4", "subtitle_path": "", "duration_group": 15,
         "starting_timestamp_for_subtitles": 0, "duration": 4.0}
        for vid, cat in (("a", "S2E"), ("missing", "T3O"))]
    (root / "lvb_val.json").write_text(json.dumps(records))
    config = _config(tmp_path, tiny_vlm_dir, benchmark="longvideobench", data_root=str(root), k=[2])
    with pytest.raises(InputError, match="missing_0.*--skip-bad"):
        run_eval(config, answerer=answerer, progress=False)
    config = _config(tmp_path, tiny_vlm_dir, out="skip", benchmark="longvideobench", data_root=str(root), k=[2],
                     skip_bad=True)
    report = run_eval(config, answerer=answerer, progress=False)
    assert report["run"]["bad_videos"] == 1 and report["questions"] == 1
    assert report["by_duration_group"]["greedy@2"]["groups"] == {"15s": {"n": 1, "accuracy": pytest.approx(
        report["overall"]["greedy@2"]["accuracy"])}}


def test_questions_about_one_video_open_and_decode_it_once(tmp_path, tiny_vlm_dir, answerer, monkeypatch):
    import hfs.eval.runner as runner

    root = tmp_path / "lvb"
    (root / "videos").mkdir(parents=True)
    write_video(root / "videos" / "a.mp4", [Scene("red", 2.0), Scene("blue", 2.0)], fps=8, size=(64, 48))
    records = [
        {"video_id": "a", "question": q, "candidates": ["red", "blue"], "correct_choice": 0, "question_category": "S2E",
         "id": f"a_{n}", "video_path": "a.mp4", "duration_group": 15, "duration": 4.0}
        for n, q in enumerate(["What colour comes first?", "What colour comes last?"])]
    (root / "lvb_val.json").write_text(json.dumps(records))
    opened, decoded = [], []
    real_open = runner.open_video

    def counting_open(path):
        source = real_open(path)
        frames_at = source.frames_at

        def counting_frames_at(times, **kwargs):
            decoded.extend(times)
            return frames_at(times, **kwargs)

        source.frames_at = counting_frames_at
        opened.append(path)
        return source

    monkeypatch.setattr(runner, "open_video", counting_open)
    config = _config(tmp_path, tiny_vlm_dir, benchmark="longvideobench", data_root=str(root), k=[2, 4])
    report = run_eval(config, answerer=answerer, progress=False)
    assert report["questions"] == 2 and len(opened) == 1
    assert len(decoded) == len(set(decoded))  # no candidate frame decoded twice for the answerer


def test_eval_refuses_bad_settings(tmp_path, tiny_vlm_dir):
    with pytest.raises(InputError, match="needs --checkpoint"):
        run_eval(_config(tmp_path, tiny_vlm_dir, selectors=["hfs"]), progress=False)
    with pytest.raises(InputError, match="unknown selector"):
        run_eval(_config(tmp_path, tiny_vlm_dir, selectors=["nope"]), progress=False)


def test_hfs_answer_command_matches_a_hand_run_of_the_answerer(tmp_path, tiny_vlm_dir, answerer, capsys):
    video = write_video(tmp_path / "v.mp4", [Scene("gray", 3.0), Scene("red", 1.0), Scene("gray", 3.0)], fps=8,
                        size=(64, 48))
    args = ["answer", str(video), "-q", "When is the screen red?", "--options", "at the start", "in the middle",
            "at the end", "--model", str(tiny_vlm_dir), "--encoder", "color-names", "-k", "3", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    times = [f["time"] for f in out["frames"]]
    assert any(3.0 <= t < 4.0 for t in times)  # the red frame was selected
    from hfs.video import open_video

    frames = [f.image for f in open_video(video).frames_at(times, short_side=answerer.short_side, unique=False)]
    hand = answerer.answer(frames, times, "When is the screen red?", ["at the start", "in the middle", "at the end"])
    assert out["answer"] == hand.answer == int(np.argmax(out["probs"]))
    assert out["probs"] == pytest.approx(hand.probs.tolist(), abs=1e-4)
    assert main(args[:-1]) == 0
    assert f"answer: {hand.letter}." in capsys.readouterr().out
    assert main(["answer", str(video), "-q", "x?", "--options", "only one", "--model", str(tiny_vlm_dir),
                 "--encoder", "color-names"]) == 1


def test_eval_with_the_trained_student_as_selector_hfs(tmp_path, tiny_vlm_dir, tiny_qwen_dir, answerer):
    import torch

    from hfs.student import HFSSelector, StudentConfig

    torch.manual_seed(0)
    student = HFSSelector(StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=3, encoder="color-names"))
    student.save_pretrained(tmp_path / "student")
    config = _config(tmp_path, tiny_vlm_dir, selectors=["hfs", "greedy"], checkpoint=str(tmp_path / "student"),
                     encoder=None)
    report = run_eval(config, answerer=answerer, progress=False)
    assert set(report["overall"]) == {"hfs@2", "hfs@4", "greedy@2", "greedy@4"}
    records = read_jsonl(tmp_path / "out" / "results.jsonl")
    # the student's own (untrained) scores choose other frames than the colour-matching greedy
    picks = {(r["id"], r["selector"], r["k"]): r["times"] for r in records}
    assert any(picks[(r["id"], "hfs", 4)] != picks[(r["id"], "greedy", 4)] for r in records)


def test_eval_with_a_llava_onevision_answerer(tmp_path, tiny_llava_dir):
    config = _config(tmp_path, tiny_llava_dir, selectors=["uniform", "greedy"], k=[2], limit=2)
    report = run_eval(config, progress=False)  # loads the answerer from the folder, as the CLI does
    assert report["questions"] == 2 and set(report["overall"]) == {"uniform@2", "greedy@2"}
    assert all(len(r["probs"]) == 4 for r in read_jsonl(tmp_path / "out" / "results.jsonl"))


def test_resuming_with_another_setup_is_refused(tmp_path, tiny_vlm_dir, tiny_llava_dir, answerer):
    run_eval(_config(tmp_path, tiny_vlm_dir, k=[2], limit=1), answerer=answerer, progress=False)
    with pytest.raises(InputError, match="another setup.*model"):
        run_eval(_config(tmp_path, tiny_llava_dir, k=[2], limit=1), progress=False)
    # more selectors or budgets in the same setup only add what is missing
    counting = CountingAnswerer(answerer)
    run_eval(_config(tmp_path, tiny_vlm_dir, k=[2, 4], limit=1), answerer=counting, progress=False)
    assert counting.calls == len(SELECTORS)


def test_report_counts_exactly_the_current_questions_selectors_and_ks(tmp_path, tiny_vlm_dir, answerer, capsys):
    counting = CountingAnswerer(answerer)
    first = run_eval(_config(tmp_path, tiny_vlm_dir, selectors=["uniform", "topk"], k=[2, 4], limit=2),
                     answerer=counting, progress=False)
    assert counting.calls == 2 * 2 * 2 and {c["n"] for c in first["overall"].values()} == {2}
    # a smaller run into the same folder: everything is already answered, and only it is reported
    counting = CountingAnswerer(answerer)
    small = run_eval(_config(tmp_path, tiny_vlm_dir, selectors=["uniform"], k=[4], limit=1), answerer=counting,
                     progress=False)
    assert counting.calls == 0
    assert set(small["overall"]) == {"uniform@4"} and small["overall"]["uniform@4"]["n"] == 1
    assert small["questions"] == 1 and small["records"] == 1
    assert [(r["selector"], r["k"]) for r in read_jsonl(tmp_path / "out" / "results.jsonl")] == [("uniform", 4)]
    # a larger one with another selector: reuses uniform@2 of the first two questions, answers the rest
    counting = CountingAnswerer(answerer)
    large = run_eval(_config(tmp_path, tiny_vlm_dir, selectors=["uniform", "greedy"], k=[2], limit=3),
                     answerer=counting, progress=False)
    assert counting.calls == 1 + 3
    assert set(large["overall"]) == {"uniform@2", "greedy@2"} and large["questions"] == 3
    records = read_jsonl(tmp_path / "out" / "results.jsonl")
    for cell in large["overall"].values():
        mine = [r["correct"] for r in records if (r["selector"], r["k"]) == (cell["selector"], cell["k"])]
        assert cell["n"] == len(mine) == 3 and cell["correct"] == sum(mine)
    for table in ("by_duration_group", "by_category"):
        for cell in large[table].values():
            assert sum(g["n"] for g in cell["groups"].values()) == 3
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["overall"] == large["overall"]
    assert "| uniform | 4 |" not in (tmp_path / "out" / "report.md").read_text()


def test_damaged_results_and_leftovers_are_dropped_and_recomputed(tmp_path, tiny_vlm_dir, answerer, capsys, dead_pid):
    config = _config(tmp_path, tiny_vlm_dir, selectors=["uniform", "topk"], k=[2], limit=2)
    run_eval(config, answerer=answerer, progress=False)
    out = tmp_path / "out"
    complete = _predictions(read_jsonl(out / "results.jsonl"))
    shard = out / "shards" / "rank0.jsonl"
    lines = shard.read_bytes().splitlines(keepends=True)
    assert len(lines) == 4
    # a line cut short, garbage bytes, JSON that is no record, then the rest and a truncated tail
    shard.write_bytes(lines[0][:20] + b"\n" + b"\xff\xfe\x00garbage\n" + b'[1, 2]\n{"id": "x"}\n' + lines[1]
                      + lines[2] + lines[3][:-10])
    (out / "results.jsonl").write_bytes(b'{"id": \n')
    dead = dead_pid
    for leftover in (out / f".tmp-{_HOST}-{dead}-abc123.json", out / "shards" / f".tmp-{_HOST}-{dead}-def456.jsonl"):
        leftover.write_text("half")
    capsys.readouterr()
    counting = CountingAnswerer(answerer)
    report = run_eval(config, answerer=counting, progress=False)
    err = capsys.readouterr().err
    assert err.count("hfs: warning:") == 1 and "damaged" in err and "recomputed" in err
    assert counting.calls == 2  # the first and the last record of the shard
    assert _predictions(read_jsonl(out / "results.jsonl")) == complete
    from hfs.eval.results import read_records

    assert read_records(shard) == (read_jsonl(shard), 0) and len(read_jsonl(shard)) == 4
    assert not list(out.glob(".tmp-*")) and not list((out / "shards").glob(".tmp-*"))
    assert {c["n"] for c in report["overall"].values()} == {2}
    # nothing damaged is left: the next run warns about nothing and answers nothing
    counting = CountingAnswerer(answerer)
    run_eval(config, answerer=counting, progress=False)
    assert counting.calls == 0 and "warning" not in capsys.readouterr().err


def test_a_damaged_or_missing_run_manifest(tmp_path, tiny_vlm_dir, answerer, capsys):
    config = _config(tmp_path, tiny_vlm_dir, selectors=["uniform"], k=[2], limit=1)
    run_eval(config, answerer=answerer, progress=False)
    manifest = tmp_path / "out" / "run.json"
    manifest.write_bytes(b'{"benchmark": "synth')  # cut short
    args = ["eval", "--benchmark", "synthetic", "--data-root", str(tmp_path / "set"), "--model", str(tiny_vlm_dir),
            "--encoder", "color-names", "--selector", "uniform", "-k", "2", "--limit", "1", "--out",
            str(tmp_path / "out")]
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hfs: error:") and "run.json is damaged" in err[0]
    manifest.unlink()
    with pytest.raises(InputError, match="holds results but no run.json"):
        run_eval(config, answerer=answerer, progress=False)
    # with no results beside it, a damaged manifest is only rewritten
    fresh = _config(tmp_path, tiny_vlm_dir, out="fresh", selectors=["uniform"], k=[2], limit=1)
    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / "run.json").write_bytes(b"\x00\xff")
    report = run_eval(fresh, answerer=answerer, progress=False)
    assert report["overall"]["uniform@2"]["n"] == 1
    assert json.loads((tmp_path / "fresh" / "run.json").read_text())["model"] == str(tiny_vlm_dir)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError, match="is a file, not a folder"):
        run_eval(_config(tmp_path, tiny_vlm_dir, out="file"), answerer=answerer, progress=False)


class RecordingAnswerer(CountingAnswerer):
    """The real answerer, keeping the times and subtitles of every call."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.seen = []

    def answer(self, frames, times, question, options, **kwargs):
        self.seen.append((list(times), kwargs.get("subtitles")))
        return super().answer(frames, times, question, options, **kwargs)


def _lvb_with_subtitles(root: Path) -> Path:
    (root / "videos").mkdir(parents=True)
    (root / "subtitles").mkdir()
    write_video(root / "videos" / "a.mp4", [Scene("red", 2.0), Scene("blue", 2.0)], fps=8, size=(64, 48))
    # the subtitle clock starts 100 s before the video (starting_timestamp_for_subtitles)
    (root / "subtitles" / "a_en.json").write_text(json.dumps([
        {"timestamp": [100.2, 101.8], "text": "the red part"}, {"timestamp": [102.2, 103.8], "text": "the blue part"},
        {"start": "0:01:50.00", "end": "0:01:52.00", "line": "after the end"}]))
    records = [{"video_id": "a", "question": q, "candidates": ["red", "blue"], "correct_choice": 0,
                "question_category": "S2E", "id": f"a_{n}", "video_path": "a.mp4", "subtitle_path": "a_en.json",
                "duration_group": 15, "starting_timestamp_for_subtitles": 100, "duration": 4.0}
               for n, q in enumerate(["Which colour comes first?", "Which colour is said?"])]
    (root / "lvb_val.json").write_text(json.dumps(records))
    return root


def test_eval_with_subtitles_follows_longvideobench_protocol(tmp_path, tiny_vlm_dir, answerer):
    from hfs.data.benchmarks.subtitles import longvideobench_lines, read_lvb_subtitles

    root = _lvb_with_subtitles(tmp_path / "lvb")
    plain = RecordingAnswerer(answerer)
    without = run_eval(_config(tmp_path, tiny_vlm_dir, out="plain", benchmark="longvideobench", data_root=str(root),
                               k=[1, 4]), answerer=plain, progress=False)
    said = RecordingAnswerer(answerer)
    with_ = run_eval(_config(tmp_path, tiny_vlm_dir, out="said", benchmark="longvideobench", data_root=str(root),
                             k=[1, 4], subtitles=True), answerer=said, progress=False)
    # the image-text query never sees subtitles: every selection is the same frames
    assert [t for t, _ in said.seen] == [t for t, _ in plain.seen] and all(s is None for _, s in plain.seen)
    subs = read_lvb_subtitles(root / "subtitles" / "a_en.json", 100.0, 4.0)
    for times, subtitles in said.seen:
        assert subtitles.interleaved and subtitles.lines == tuple(longvideobench_lines(subs, times))
    shown = {text for _, s in said.seen for _, text in s.lines}
    assert "after the end" not in shown and shown <= {"the red part", "the blue part"} and shown
    records = read_jsonl(tmp_path / "said" / "results.jsonl")
    assert [r["subtitle_lines"] for r in records] == [len(s.lines) for _, s in said.seen]
    assert any(a["probs"] != b["probs"] for a, b in zip(records, read_jsonl(tmp_path / "plain" / "results.jsonl")))
    assert with_["subtitles"] is True and without["subtitles"] is False and with_["run"]["without_subtitles"] == 0
    assert "longvideobench with subtitles" in (tmp_path / "said" / "report.md").read_text()
    assert "longvideobench without subtitles" in (tmp_path / "plain" / "report.md").read_text()
    with pytest.raises(InputError, match="another setup.*subtitles: False"):  # one folder, one protocol
        run_eval(_config(tmp_path, tiny_vlm_dir, out="plain", benchmark="longvideobench", data_root=str(root),
                         k=[1, 4], subtitles=True), answerer=said, progress=False)


def test_eval_with_subtitles_on_videomme_layout(tmp_path, tiny_vlm_dir, answerer):
    from hfs.reasoning.formats import Subtitles

    root = tmp_path / "vmme"
    (root / "data").mkdir(parents=True)
    (root / "subtitle").mkdir()
    for vid in ("AAAAAAAAAAA", "BBBBBBBBBBB"):
        write_video(root / "data" / f"{vid}.mp4", [Scene("red", 2.0), Scene("blue", 2.0)], fps=8, size=(64, 48))
    (root / "subtitle" / "AAAAAAAAAAA.srt").write_text(
        '1\n00:00:00,000 --> 00:00:02,000\n<font color="white" size=".72c">red now</font>\n\n'
        '2\n00:00:02,000 --> 00:00:04,000\n<font color="white" size=".72c">blue now</font>\n')
    records = [{"video_id": f"00{n}", "duration": "short", "domain": "d", "sub_category": "s", "url": "",
                "videoID": vid, "question_id": f"00{n}-1", "task_type": "Counting Problem",
                "question": "Which colour?", "options": ["A. red", "B. blue"], "answer": "A"}
               for n, vid in enumerate(("AAAAAAAAAAA", "BBBBBBBBBBB"), 1)]
    (root / "ann.json").write_text(json.dumps(records))
    said = RecordingAnswerer(answerer)
    report = run_eval(_config(tmp_path, tiny_vlm_dir, benchmark="videomme", data_root=str(root),
                              annotations=str(root / "ann.json"), selectors=["uniform"], k=[2], subtitles=True),
                      answerer=said, progress=False)
    (times, first), (_, second) = said.seen
    assert times[0] < 2.0 <= times[1] and first == Subtitles(((0.0, "red now"), (2.0, "blue now")))
    assert second == Subtitles(available=False)  # no .srt for this video: "No subtitles available"
    assert report["run"]["without_subtitles"] == 1


def test_subtitles_are_refused_where_none_are_released(tmp_path, tiny_vlm_dir):
    with pytest.raises(InputError, match="--subtitles: synthetic ships no subtitles"):
        run_eval(_config(tmp_path, tiny_vlm_dir, subtitles=True), progress=False)
    (tmp_path / "lvb").mkdir()
    with pytest.raises(InputError, match=r"--subtitles: .*lvb/subtitles not found; extract subtitles\.tar"):
        run_eval(_config(tmp_path, tiny_vlm_dir, benchmark="longvideobench", data_root=str(tmp_path / "lvb"),
                         subtitles=True), progress=False)


def test_eval_reads_odd_mlvu_records_and_names_the_unscorable_one(tmp_path, tiny_vlm_dir, answerer, capsys):
    root = tmp_path / "mlvu"
    (root / "video" / "2_needle").mkdir(parents=True)
    (root / "json").mkdir()
    write_video(root / "video" / "2_needle" / "n.mp4", [Scene("red", 2.0), Scene("blue", 2.0)], fps=8, size=(64, 48))
    record = {"video": "n.mp4", "duration": 4.0, "question": "Which colour?", "question_type": "needle"}
    tasks = {"2_needle": [{**record, "candidates": ["red", "blue", ""], "answer": "green"},  # not a candidate
                          {**record, "candidates": ["", "red", "blue", ""], "answer": "red"},
                          {**record, "answer": "red"}]}  # no candidates: cannot be scored
    for stem in ("1_plotQA", "2_needle", "3_ego", "4_count", "5_order", "6_anomaly_reco", "7_topic_reasoning"):
        (root / "json" / f"{stem}.json").write_text(json.dumps(tasks.get(stem, [])))
    report = run_eval(_config(tmp_path, tiny_vlm_dir, benchmark="mlvu", data_root=str(root), k=[2]),
                      answerer=answerer, progress=False)
    err = capsys.readouterr().err
    assert err.count("hfs: warning: mlvu: 1 annotation record(s) cannot be scored") == 1
    assert "2_needle.json record 2 (id 2_needle/2): missing field 'candidates'" in err
    assert report["questions"] == 2 and report["unscorable_records"] == [
        "2_needle.json record 2 (id 2_needle/2): missing field 'candidates'"]
    records = read_jsonl(tmp_path / "out" / "results.jsonl")
    assert {r["answer"] for r in records if r["id"] == "2_needle/0"} == {-1}
    assert not any(r["correct"] for r in records if r["id"] == "2_needle/0")  # always wrong, as choice_bench.py
    assert all(len(r["probs"]) == 4 for r in records if r["id"] == "2_needle/1")  # empty options kept
    assert "Records that cannot be scored (left out): 2_needle.json record 2" in \
        (tmp_path / "out" / "report.md").read_text()


def test_cli_subtitles_flag_errors_are_one_line(tmp_path, tiny_vlm_dir, capsys):
    base = ["eval", "--benchmark", "nextqa", "--data-root", str(tmp_path), "--out", str(tmp_path / "o"), "--subtitles"]
    assert main(base + ["--model", str(tiny_vlm_dir)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "hfs: error: --subtitles: nextqa ships no subtitles (only videomme, longvideobench do)"
    assert main(base + ["--kfs-annotations", str(tmp_path / "a.csv")]) == 1
    assert "the evidence run has none" in capsys.readouterr().err
