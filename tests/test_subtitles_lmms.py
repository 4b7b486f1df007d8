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
from hfs.video.synth import Scene, read_counter, write_video

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


# -- hfs_subtitles: the subtitle block of lmms-eval's videomme_w_subtitle prompt at hfs's frames ---

VID = "aBcDeFgHiJk"
SUB_QUESTION = "When is the screen green?"
# one Video-MME cue a second, wrapped as the released files wrap them: cue n spans frames [10n, 10n + 10)
SECOND_CUES = "".join(f'{n + 1}\n00:00:{n:02d},000 --> 00:00:{n + 1:02d},000\n<font color="white" size=".72c">'
                      f"line {n}</font>\n\n" for n in range(12))


@pytest.fixture(scope="module")
def videomme_home(tmp_path_factory):
    """An HF_HOME holding one Video-MME video (12 s at 10 fps, red / blue / green, frame indices
    drawn in) and its .srt, where lmms-eval's videomme task reads them."""
    home = tmp_path_factory.mktemp("hf")
    (home / "videomme" / "data").mkdir(parents=True)
    (home / "videomme" / "subtitle").mkdir()
    write_video(home / "videomme" / "data" / f"{VID}.mp4", [Scene("red", 4), Scene("blue", 4), Scene("green", 4)],
                fps=10, size=(128, 80), frame_counter=True)
    (home / "videomme" / "subtitle" / f"{VID}.srt").write_text(SECOND_CUES)
    return home


@pytest.fixture
def videomme_task(videomme_home, monkeypatch):
    """lmms-eval's Video-MME task functions reading ``videomme_home`` (they take HF_HOME at import)."""
    from lmms_eval.tasks.videomme import utils

    monkeypatch.setattr(utils, "base_cache_dir", str(videomme_home))
    return utils


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    from hfs.integrations.lmms.tiny import build_tiny_qwen2_5_vl

    return build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("models") / "tiny-qwen2.5-vl")


DOC = {"videoID": VID, "question": SUB_QUESTION, "options": ["A. at the start", "B. in the middle", "C. at the end"]}
TASK_KWARGS = {"frame_num": 8, "pre_prompt": "", "post_prompt": ""}  # 8 frames: 0, 17, ..., 119 exactly


def lmms_eval_prompt(utils) -> str:
    return utils.videomme_doc_to_text_subtitle(dict(DOC), dict(TASK_KWARGS))


def block(prompt: str) -> list[str]:
    return prompt.split("listed below: \n", 1)[1].split("\nSelect the best")[0].split("\n")


def run_subtitled(model_dir, utils, log, args: str) -> tuple[str, dict, str]:
    """One videomme_w_subtitle request through hfs_qwen2_5_vl, its messages made by lmms-eval's
    own doc_to_text; (the text its processor got, the frame record, lmms-eval's prompt)."""
    from lmms_eval.api.instance import Instance
    from lmms_eval.models import get_model

    model = get_model("hfs_qwen2_5_vl").create_from_arg_string(
        f"pretrained={model_dir},device=cpu,device_map=cpu,max_num_frames=8,min_pixels=3136,max_pixels=12544,"
        f"hfs_log={log},{args}")
    model.task_dict = {"videomme_w_subtitle": {"test": [dict(DOC)]}}
    texts = []

    def doc_to_messages(doc):
        return [{"role": "user", "content": [{"type": "video", "url": utils.videomme_doc_to_visual(doc)[0]},
                                             {"type": "text", "text": lmms_eval_prompt(utils)}]}]

    class Recording:  # the Hugging Face processor, keeping the text it is given
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def __call__(self, *a, **kw):
            texts.append(kw["text"][0])
            return self.inner(*a, **kw)

    model.processor.inner = Recording(model.processor.inner)
    request = Instance(request_type="generate_until", idx=0, arguments=("", doc_to_messages, {"max_new_tokens": 2}, 0,
                       "videomme_w_subtitle", "test"),
                       metadata={"task": "videomme_w_subtitle", "doc_id": 0, "repeats": 1})
    model.generate_until([request])
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    return texts[0], record, lmms_eval_prompt(utils)


@pytest.mark.filterwarnings("ignore:Passing `min_pixels` and `max_pixels`:FutureWarning")
def test_vlm_gets_the_subtitles_of_the_frames_hfs_shows(tiny_qwen, videomme_task, tmp_path):
    args = "hfs_k=4,hfs_candidates=24,hfs_encoder=color-names"
    text, record, theirs = run_subtitled(tiny_qwen, videomme_task, tmp_path / "a.jsonl", args)
    at_frames = [f"line {n}" for n in sorted({i // 10 for i in record["frame_indices"]})]
    uniform = block(theirs)
    assert uniform == ["line 0", "line 1", "line 3", "line 5", "line 6", "line 8", "line 10", "line 11"]
    assert at_frames != uniform and "\n".join(at_frames) in text
    assert f"listed below: \n{chr(10).join(at_frames)}\nSelect the best" in text and "line 3" not in text
    assert SUB_QUESTION in text and record["subtitles"] == "frames"
    assert record["subtitle_starts"] == [float(line.split()[1]) for line in at_frames]

    # hfs_subtitles=task: lmms-eval's text as it built it, the same frames
    text, record_task, _ = run_subtitled(tiny_qwen, videomme_task, tmp_path / "b.jsonl", f"{args},hfs_subtitles=task")
    assert theirs in text and "line 3" in text
    assert record_task["subtitles"] == "task" and record_task["frame_indices"] == record["frame_indices"]


@pytest.mark.filterwarnings("ignore:Passing `min_pixels` and `max_pixels`:FutureWarning")
def test_uniform_frames_give_exactly_lmms_evals_subtitles(tiny_qwen, videomme_task, tmp_path):
    frames, record, theirs = run_subtitled(tiny_qwen, videomme_task, tmp_path / "a.jsonl", "hfs_uniform=true")
    task, _, _ = run_subtitled(tiny_qwen, videomme_task, tmp_path / "b.jsonl", "hfs_uniform=true,hfs_subtitles=task")
    assert record["frame_indices"] == [0, 17, 34, 51, 68, 85, 102, 119] and record["subtitles"] == "frames"
    assert frames == task and theirs in frames


def test_llava_context_lists_the_subtitles_of_the_frames_load_video_gives(videomme_task, tmp_path):
    """The simple (LLaVA) path: frames chosen while the request is prepared, the context's block at
    them, and ``load_video`` handed those very frames (only hfs's part: lmms-eval's LLaVA classes
    need the LLaVA-NeXT package)."""
    from lmms_eval.api.instance import Instance
    from lmms_eval.models import get_model

    from hfs.integrations.lmms.query import SampleQuery
    from hfs.integrations.lmms.selection import Sample
    from hfs.integrations.lmms.subtitles import subtitle_task

    cls = get_model("hfs_llava_onevision")
    model = cls.__new__(cls)
    model._hfs_setup({"hfs_k": 4, "hfs_candidates": 24, "hfs_encoder": "color-names",
                      "hfs_log": str(tmp_path / "log.jsonl")})
    model.task_dict = {"videomme_w_subtitle": {"test": [dict(DOC)]}}
    theirs = lmms_eval_prompt(videomme_task)
    request = Instance(request_type="generate_until", idx=0, metadata={"task": "videomme_w_subtitle", "doc_id": 0,
                                                                       "repeats": 1},
                       arguments=(theirs, {}, videomme_task.videomme_doc_to_visual, 0, "videomme_w_subtitle", "test"))
    model._hfs_sample = Sample("videomme_w_subtitle", 0, SampleQuery(SUB_QUESTION, DOC["options"]),
                               subtitle_task(request))
    context = model._hfs_prepare(request).args[0]
    frames = model.load_video(videomme_task.videomme_doc_to_visual(DOC), 32)
    shown = [read_counter(f) for f in frames]
    assert shown == model.hfs_last[0].choice.frame_indices
    assert block(context) == [f"line {n}" for n in sorted({i // 10 for i in shown})] != block(theirs)
    assert context.split("\nSelect the best")[1] == theirs.split("\nSelect the best")[1]
    assert model.hfs_last[0].choice.extra["subtitles"] == "frames"


def test_block_is_found_in_both_prompt_formats(videomme_task):
    """lmms-eval's default and ``qwen3_vl`` prompts: rebuilt at lmms-eval's own 8 frames, the
    text is exactly its own; at other frames only the block changes."""
    from hfs.integrations.lmms.indices import FrameChoice
    from hfs.integrations.lmms.subtitles import FrameSubtitles

    def at(indices):
        return FrameChoice(video="v.mp4", times=[i / 10 for i in indices], frame_indices=indices, fps=10.0,
                           total_num_frames=120, duration=12.0)

    qwen3 = {**TASK_KWARGS, "format": "qwen3_vl", "pre_prompt": "Question: ", "post_prompt": "Answer with the "
             "option letter only."}
    for kwargs in (TASK_KWARGS, qwen3):
        theirs = videomme_task.videomme_doc_to_text_subtitle(dict(DOC), dict(kwargs))
        same, info = FrameSubtitles().rewrite(theirs, vars(videomme_task), DOC, [at([0, 17, 34, 51, 68, 85, 102, 119])])
        assert same == theirs and info["subtitles"] == "frames"
        other, info = FrameSubtitles().rewrite(theirs, vars(videomme_task), DOC, [at([25, 95])])
        head, tail = theirs.split("listed below: \n")[0], theirs.split("line 11")[1]
        assert other == f"{head}listed below: \nline 2\nline 9{tail}" and info["subtitle_starts"] == [2.0, 9.0]
