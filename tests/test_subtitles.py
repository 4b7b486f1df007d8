"""Subtitle files in the layouts Video-MME and LongVideoBench release, and the lines each
with-subtitle protocol puts beside a set of frames."""

from __future__ import annotations

import json

import pytest

from hfs.data.benchmarks.subtitles import (
    Subtitle, longvideobench_lines, read_lvb_subtitles, read_srt, videomme_lines,
)
from hfs.errors import InputError

# as in Video-MME's subtitle/<videoID>.srt: every cue wrapped in a font tag
SRT = ('1\r\n00:00:00,000 --> 00:00:02,500\r\n<font color="white" size=".72c">hello &amp; welcome</font>\r\n\r\n'
       '2\r\n00:00:02,500 --> 00:00:06,000\r\n<font color="white" size=".72c">today we cook</font>\r\n\r\n'
       '3\r\n00:00:06,000 --> 00:00:06,040\r\n<font color="white" size=".72c">blink</font>\r\n\r\n'
       '4\r\n00:00:06,000 --> 00:00:06,040\r\n<font color="white" size=".72c">blink, again</font>\r\n\r\n'
       '5\r\n00:01:00,000 --> 00:01:02,000\r\n<font color="white" size=".72c">a minute in</font>\r\n')


def test_read_srt_as_released(tmp_path):
    path = tmp_path / "fFjv93ACGo8.srt"
    path.write_bytes(b"\xef\xbb\xbf" + SRT.encode())
    subs = read_srt(path)
    # cues with the same times keep the last text, as lmms-eval's dict does
    assert subs == [Subtitle(0.0, 2.5, "hello & welcome"), Subtitle(2.5, 6.0, "today we cook"),
                    Subtitle(6.0, 6.04, "blink, again"), Subtitle(60.0, 62.0, "a minute in")]
    path.write_text("1\n00:00:00 --> 00:00:02,500\nhi\n")
    with pytest.raises(InputError, match=r"subtitle block 0: time '00:00:00' is not HH:MM:SS,mmm"):
        read_srt(path)


def test_videomme_rule_takes_the_cues_spanning_the_frames_in_frames():
    subs = [Subtitle(0.0, 2.5, "a"), Subtitle(2.5, 6.0, "b"), Subtitle(6.0, 6.04, "c"), Subtitle(60.0, 62.0, "d")]
    # at 25 fps cue "b" spans frames [62, 150): a frame at 2.48 s is frame 62 -> "b", not "a"
    assert videomme_lines(subs, [2.48, 6.0], 25.0) == [(2.5, "b"), (6.0, "c")]
    assert videomme_lines(subs, [1.0, 61.9], 25.0) == [(0.0, "a"), (60.0, "d")]
    assert videomme_lines(subs, [62.0, 30.0], 25.0) == []  # ends are open
    assert videomme_lines(subs, [2.48], 0.0) == [(0.0, "a")]  # no frame rate: the rule in seconds


def test_read_longvideobench_subtitles_both_schemas_and_offset(tmp_path):
    whisper = [{"timestamp": [100.0, 103.0], "text": " first "}, {"timestamp": [103.0, None], "text": "last"}]
    (tmp_path / "a_en.json").write_text(json.dumps(whisper))
    assert read_lvb_subtitles(tmp_path / "a_en.json", 100.0, 20.0) == [
        Subtitle(0.0, 3.0, "first"), Subtitle(3.0, 20.0, "last")]  # a missing end is the video's end (duration)
    lines = [{"start": "0:00:01.50", "end": "0:00:04.00", "line": "one"},
             {"start": "0:01:00.00", "end": "0:01:00.40", "line": "two"}]
    (tmp_path / "b_en.json").write_text(json.dumps(lines))
    assert read_lvb_subtitles(tmp_path / "b_en.json", 0, 90.0) == [Subtitle(1.5, 4.0, "one"),
                                                                    Subtitle(60.0, 60.4, "two")]
    (tmp_path / "c_en.json").write_text(json.dumps([{"begin": 1}]))
    with pytest.raises(InputError, match=r"c_en\.json: subtitle 0 is not"):
        read_lvb_subtitles(tmp_path / "c_en.json", 0, 10.0)


def test_longvideobench_rule_strict_spans_widened_to_one_second():
    subs = [Subtitle(1.5, 4.0, "one"), Subtitle(60.0, 60.4, "two"), Subtitle(70.0, 75.0, "three")]
    assert longvideobench_lines(subs, [4.0, 60.6]) == [(60.2, "two")]  # 4.0 is not inside (1.5, 4.0)
    assert longvideobench_lines(subs, [2.0, 74.9]) == [(2.75, "one"), (72.5, "three")]
    assert longvideobench_lines(subs, [59.7]) == []  # (59.7, 60.7) is open at 59.7
