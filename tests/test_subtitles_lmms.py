"""hfs's subtitle rules against lmms-eval's own with-subtitle prompts (its real task functions, on
files laid out where it reads them), at lmms-eval's uniform frames."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hfs.data.benchmarks.subtitles import longvideobench_lines, read_lvb_subtitles, read_srt, videomme_lines
from hfs.reasoning.formats import Subtitles, place_subtitles
from hfs.video.synth import Scene, write_video

pytestmark = pytest.mark.lmms

# the task modules read HF_HOME when imported, so each call runs in a fresh interpreter
LMMS = r"""
import json, sys
import cv2
import numpy as np
from lmms_eval.tasks.longvideobench import utils as lvb
from lmms_eval.tasks.videomme import utils as vmme

args = json.loads(sys.argv[1])
video = cv2.VideoCapture(args["video"])
out = {"fps": video.get(cv2.CAP_PROP_FPS), "total": int(video.get(cv2.CAP_PROP_FRAME_COUNT))}
out["videomme"] = vmme.videomme_doc_to_text_subtitle(args["vmme_doc"], {"frame_num": 8, "pre_prompt": "",
                                                                         "post_prompt": ""})
out["lvb"] = lvb.longvideobench_doc_to_text(args["lvb_doc"], {"pre_prompt": "", "post_prompt": "",
                                                               "insert_interleave_subtitles": True})
out["lvb_times"] = lvb.compute_frame_timestamps(args["lvb_doc"]["duration"], 16)
print(json.dumps(out))
"""

SRT = "".join(f'{n + 1}\n00:00:{a:02d},{am:03d} --> 00:00:{b:02d},{bm:03d}\n<font color="white" size=".72c">cue {n}'
              f"</font>\n\n" for n, (a, am, b, bm) in enumerate(
                  [(0, 0, 0, 500), (1, 0, 3, 0), (3, 0, 3, 100), (4, 200, 6, 0), (8, 0, 9, 900), (10, 0, 11, 0)]))
LVB_SUBS = [{"timestamp": [100.0, 101.5], "text": "w0"}, {"timestamp": [103.0, 103.4], "text": "short"},
            {"timestamp": [105.1, 109.0], "text": "w2"}, {"start": "0:01:52.00", "end": "0:01:55.50", "line": "w3"},
            {"timestamp": [121.0, 125.0], "text": "w4"}, {"timestamp": [131.0, 139.5], "text": "w5"}]


def test_subtitle_rules_match_lmms_eval(tmp_path):
    home = tmp_path / "hf"
    vid = "fFjv93ACGo8"
    (home / "videomme" / "data").mkdir(parents=True)
    (home / "videomme" / "subtitle").mkdir()
    video = home / "videomme" / "data" / f"{vid}.mp4"
    write_video(video, [Scene("red", 6.0), Scene("blue", 6.0)], fps=10, size=(64, 48))
    (home / "videomme" / "subtitle" / f"{vid}.srt").write_text(SRT)
    lvb_dir = home / "datasets" / "longvideobench" / "subtitles"
    lvb_dir.mkdir(parents=True)
    (lvb_dir / "x_en.json").write_text(json.dumps(LVB_SUBS))
    args = {"video": str(video),
            "vmme_doc": {"videoID": vid, "question": "Which colour?", "options": ["A. red", "B. blue"]},
            "lvb_doc": {"question": "Which word?", "option0": "a", "option1": "b", "option2": "N/A",
                        "option3": "N/A", "option4": "N/A", "subtitle_path": "x_en.json",
                        "starting_timestamp_for_subtitles": 100, "duration": 40.0}}
    run = subprocess.run([sys.executable, "-c", LMMS, json.dumps(args)], capture_output=True, text=True,
                         env={**os.environ, "HF_HOME": str(home)}, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = json.loads(run.stdout.strip().splitlines()[-1])

    # Video-MME: the cues lmms-eval lists for its 8 uniform frames are the ones hfs picks for them
    fps = theirs["fps"]
    frames = [int(i) for i in np.linspace(0, theirs["total"] - 1, 8, dtype=int)]
    mine = videomme_lines(read_srt(home / "videomme" / "subtitle" / f"{vid}.srt"), [f / fps for f in frames], fps)
    block = theirs["videomme"].split("This video's subtitles are listed below: \n", 1)[1].split("\nSelect the best")[0]
    assert [text for _, text in mine] == block.split("\n") and 0 < len(mine) < 6

    # LongVideoBench: the same lines, interleaved with the frames in the same order
    times = theirs["lvb_times"]
    lines = longvideobench_lines(read_lvb_subtitles(lvb_dir / "x_en.json", 100, 40.0), times)
    prefix = theirs["lvb"].split("\nWhich word?")[0]
    ours = place_subtitles([(t, "<image>\n") for t in times], Subtitles(tuple(lines), interleaved=True))
    assert ours == prefix + "\n" and 0 < len(lines) < len(LVB_SUBS)
