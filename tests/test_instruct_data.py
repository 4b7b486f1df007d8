"""Training-set readers on fixture files in the real VideoChat2-IT and LLaVA-Video-178K layouts."""

from __future__ import annotations

import json

import pytest

from hfs.data.instruct import ReadReport, answer_index, read_llava_video, read_videochat2, split_options
from hfs.errors import InputError

VIDEOCHAT2 = [
    {"video": "clevrer/video_10000.mp4", "QA": [
        {"i": "Watch the video and answer.", "q": "Question: Which object enters the scene first?\nOptions:\n"
         "(A) the red cube\n(B) the blue sphere\n(C) the green cylinder", "a": "Answer: (B) the blue sphere"},
        {"i": "", "q": "What happens after the collision?", "a": "The cube stops."},
    ]},
    {"video": "nextqa/123.mp4", "QA": [
        {"i": "", "q": "Question: why did the boy fall?\nOptions:\n(A) he slipped\n(B) he jumped", "a": "(A) he slipped"},
        {"i": "", "q": "Question: what colour?\nOptions:\n(A) red\n(B) blue", "a": "(D) green"},
    ]},
]

LLAVA_VIDEO = [
    {"id": "v_abc", "data_source": "1_2_m_academic_v0_1", "video": "academic/v_abc.mp4", "conversations": [
        {"from": "human", "value": "<image>\nWhat is the man holding?\nA. A cup\nB. A phone\nC. A book\nD. A ball\n"
         "Please respond with only the letter of the correct answer."},
        {"from": "gpt", "value": "B."},
        {"from": "human", "value": "Describe the video in detail."},
        {"from": "gpt", "value": "A man walks into a room and picks up a phone."},
    ]},
]


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_videochat2_reader(tmp_path):
    report = ReadReport()
    qs = read_videochat2(_write(tmp_path, "clevrer_mc.json", VIDEOCHAT2), tmp_path, report=report)
    assert [q.answer for q in qs] == [1, 0]
    assert qs[0].question == "Which object enters the scene first?"
    assert qs[0].options == ["the red cube", "the blue sphere", "the green cylinder"]
    assert qs[0].video == (tmp_path / "clevrer/video_10000.mp4").resolve()
    assert report.kept == 2 and report.skipped == {"open-ended": 1, "answer not among the options": 1}
    open_ended = read_videochat2(tmp_path / "clevrer_mc.json", tmp_path, keep_open_ended=True)
    assert [q.answer for q in open_ended] == [1, None, 0]
    assert open_ended[1].answer_text == "The cube stops."


def test_llava_video_reader(tmp_path):
    report = ReadReport()
    qs = read_llava_video(_write(tmp_path, "mc.json", LLAVA_VIDEO), tmp_path, report=report)
    assert len(qs) == 1 and qs[0].answer == 1 and qs[0].options == ["A cup", "A phone", "A book", "A ball"]
    assert qs[0].question.startswith("What is the man holding?") and "<image>" not in qs[0].question
    assert report.skipped == {"open-ended": 1}


def test_jsonl_and_bad_records(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in LLAVA_VIDEO))
    assert len(read_llava_video(path, tmp_path)) == 1
    with pytest.raises(InputError, match=r"bad.json record 0: needs 'video'"):
        read_videochat2(_write(tmp_path, "bad.json", [{"QA": []}]), tmp_path)
    with pytest.raises(InputError, match="escapes the data root"):
        read_videochat2(_write(tmp_path, "esc.json", [{"video": "../../etc/passwd", "QA": []}]), tmp_path)
    with pytest.raises(InputError, match="is absolute"):
        read_llava_video(_write(tmp_path, "abs.json", [{"video": "/etc/x.mp4", "conversations": []}]), tmp_path)
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(InputError, match="broken.json: not valid JSON"):
        read_videochat2(tmp_path / "broken.json", tmp_path)


@pytest.mark.parametrize("answer, expected", [
    ("(B) the blue sphere", 1), ("B.", 1), ("Answer: C", 2), ("Best option: (A)", 0), ("a phone", 1), ("Z", None),
])
def test_answer_index(answer, expected):
    assert answer_index(answer, ["a cup", "a phone", "a book"]) == expected


def test_split_options_keeps_question_text():
    q, opts = split_options("Question: what is it?\nOptions:\n(A) x\n(B) y")
    assert q == "what is it?" and opts == ["x", "y"]
