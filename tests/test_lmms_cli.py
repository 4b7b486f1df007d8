"""The real ``lmms-eval`` command, run in a subprocess as a user runs it: a local task read from
JSON with ``--include_path`` (generated videos, multiple-choice questions behind a subtitle
preamble laid out like lmms-eval's ``videomme_doc_to_text_subtitle``), tiny random Qwen2.5-VL
and Qwen3-VL folders, and hfs's models next to lmms-eval's own uniform ``qwen2_5_vl``.

Marked ``lmms`` (they need the ``lmms`` extra; see tests/test_lmms_plugin.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hfs.video.synth import Scene, write_video

pytestmark = pytest.mark.lmms

FPS, SCENE = 8, 2.0  # each video: three 2 s colour scenes at 8 fps
VIDEOS = {"rgb": ("red", "blue", "green"), "gbr": ("green", "blue", "red"), "brg": ("blue", "red", "green")}
# (video, the colour asked about): the subtitles name the other colours, many times over
DOCS = [("rgb", "red"), ("gbr", "blue"), ("brg", "green")]
OPTION_PROMPT = ("Select the best answer to the following multiple-choice question based on the video and the "
                 "subtitles. Respond with only the letter (A, B, C, or D) of the correct option.")
ARGS = "device_map=cpu,max_num_frames=4,min_pixels=3136,max_pixels=12544"
HFS_ARGS = "hfs_encoder=color-names,hfs_selector=topk,hfs_candidates=18"

TASK_UTILS = f'''
"""A local task laid out like lmms-eval's videomme_w_subtitle: subtitles first."""

def doc_to_visual(doc):
    return [doc["video"]]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    options = "\\n".join(doc["options"])
    return ("This video's subtitles are listed below: \\n" + doc["subtitle"] + "\\n" + {OPTION_PROMPT!r}
            + "\\n" + doc["question"] + "\\n" + options + "\\n" + "The best answer is:")


def process_results(doc, results):
    return {{"tiny_acc": float(results[0].strip()[:1] == doc["answer"])}}
'''


def task_yaml(name: str, docs: Path) -> str:
    return textwrap.dedent(f"""\
        task: {name}
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: {docs}
        test_split: test
        output_type: generate_until
        doc_to_visual: !function utils.doc_to_visual
        doc_to_text: !function utils.doc_to_text
        doc_to_target: answer
        generation_kwargs:
          max_new_tokens: 2
          do_sample: false
        process_results: !function utils.process_results
        metric_list:
          - metric: tiny_acc
            aggregation: mean
            higher_is_better: true
        """)


def scene_of(video: str, colour: str) -> tuple[float, float]:
    i = VIDEOS[video].index(colour)
    return i * SCENE, (i + 1) * SCENE


def question_doc(name: str, colour: str, **fields) -> dict:
    """A doc asking when video ``name`` shows ``colour``, with ``fields``."""
    return {**fields, "question": f"When is the screen {colour}?",
            "options": ["A. At the start.", "B. In the middle.", "C. At the end.", "D. Never."],
            "answer": "ABC"[VIDEOS[name].index(colour)]}


def task_folder(root: Path, docs: list[dict], utils: str) -> Path:
    """``root/docs.json`` holding ``docs``, and ``root/tasks`` with ``utils`` as its utils.py."""
    (root / "docs.json").write_text(json.dumps(docs))
    tasks = root / "tasks"
    tasks.mkdir()
    (tasks / "utils.py").write_text(utils)
    return tasks


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict:
    """Tiny models, the videos, the docs and two local tasks: ``videomme_tiny_w_subtitle`` (a
    Video-MME task name: its query comes from the doc's fields) and ``tiny_subtitle_qa`` (an
    unknown task: its query comes from the cleaned prompt)."""
    from hfs.integrations.lmms.tiny import build_tiny_qwen2_5_vl, build_tiny_qwen3_vl

    root = tmp_path_factory.mktemp("lmms_cli")
    models = root / "models"
    q25, q3 = build_tiny_qwen2_5_vl(models / "tiny-qwen2.5-vl"), build_tiny_qwen3_vl(models / "tiny-qwen3-vl")
    docs = []
    for doc_id, (video, colour) in enumerate(DOCS):
        path = root / f"{video}.mp4"
        if not path.exists():
            write_video(path, [Scene(c, SCENE) for c in VIDEOS[video]], fps=FPS, size=(96, 64))
        others = [c for c in ("red", "blue", "green", "yellow") if c != colour]
        subtitle = "\n".join(f"{i + 1}\n00:00:0{i},000 --> 00:00:0{i + 1},000\nThe {others[i % 3]} light is on, "
                             f"then {others[(i + 1) % 3]} again." for i in range(12))
        docs.append(question_doc(video, colour, video_id=video, video=str(path), subtitle=subtitle))
    tasks = task_folder(root, docs, TASK_UTILS)
    for name in ("videomme_tiny_w_subtitle", "tiny_subtitle_qa"):
        (tasks / f"{name}.yaml").write_text(task_yaml(name, root / "docs.json"))
    return {"root": root, "q25": q25, "q3": q3, "tasks": tasks, "docs": docs}


def lmms_eval(setup: dict, model: str, model_args: str, tasks: str, out: Path, include: Path | None = None,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """The ``lmms-eval`` console script installed with the lmms extra, as a user runs it."""
    command = [str(Path(sys.executable).with_name("lmms-eval")), "--model", model, "--model_args", model_args,
               "--tasks", tasks, "--include_path", str(include or setup["tasks"]), "--batch_size", "1",
               "--device", "cpu", "--output_path", str(out), "--log_samples"]
    env = {**os.environ, "HF_DATASETS_CACHE": str(setup["root"] / "datasets"), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=setup["root"], timeout=600)
    # lmms-eval 0.7.3 logs a failed evaluation and still exits 0
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Error during evaluation" not in log, log[-4000:]
    return proc


def one(folder: Path, pattern: str) -> Path:
    (found,) = sorted(folder.glob(pattern))
    return found


def check_run(setup: dict, out: Path, model_dir: Path, tasks: list[str]) -> list[dict]:
    """lmms-eval's results and samples, and hfs's frame records beside them: one per sample."""
    folder = out / f"models__{model_dir.name}"
    results = json.loads(one(folder, "*_results.json").read_text())
    for task in tasks:
        assert 0.0 <= results["results"][task]["tiny_acc,none"] <= 1.0
        samples = [json.loads(line) for line in one(folder, f"*_samples_{task}.jsonl").read_text().splitlines()]
        assert sorted(s["doc_id"] for s in samples) == [0, 1, 2]
    records = [json.loads(line) for line in one(folder, "*_hfs_frames.jsonl").read_text().splitlines()]
    assert sorted((r["task"], r["doc_id"]) for r in records) == sorted((t, d) for t in tasks for d in range(3))
    return records


@pytest.mark.parametrize("model", ["hfs_qwen2_5_vl", "hfs_qwen3_vl"])
def test_lmms_eval_runs_hfs_and_frames_follow_the_question(setup, model, tmp_path):
    """Behind the same subtitles naming other colours, each question's frames come from the
    scene it asks about (top-k, colour encoder), in a Video-MME-named task (query from the doc's
    fields) and in an unknown one (query from the cleaned prompt)."""
    model_dir = setup["q25"] if model == "hfs_qwen2_5_vl" else setup["q3"]
    tasks = ["videomme_tiny_w_subtitle", "tiny_subtitle_qa"]
    lmms_eval(setup, model, f"pretrained={model_dir},{ARGS},{HFS_ARGS}", ",".join(tasks), tmp_path)
    records = check_run(setup, tmp_path, model_dir, tasks)
    for record in records:
        video, colour = DOCS[record["doc_id"]]
        doc = setup["docs"][record["doc_id"]]
        start, end = scene_of(video, colour)
        assert record["video"] == doc["video"] and len(record["times"]) == 4  # hfs_k: max_num_frames
        assert all(start <= t < end for t in record["times"]), (record, start, end)
        assert record["frame_indices"] == [round(t * FPS) for t in record["times"]]
        assert record["question"] == doc["question"] and record["options"] == doc["options"]
        assert record["query_from"] == ("doc" if record["task"].startswith("videomme") else "prompt")
        assert len(record["scores"]) == 4 and record["encoder"] == "color-names"


def test_lmms_eval_runs_its_own_uniform_qwen_on_the_same_task(setup, tmp_path):
    """lmms-eval's own ``qwen2_5_vl`` (uniform frames) runs the same task: the pinned install
    works for lmms-eval's models too, and no hfs records are written for it."""
    folder = tmp_path / f"models__{setup['q25'].name}"
    lmms_eval(setup, "qwen2_5_vl", f"pretrained={setup['q25']},{ARGS}", "videomme_tiny_w_subtitle", tmp_path)
    results = json.loads(one(folder, "*_results.json").read_text())
    assert 0.0 <= results["results"]["videomme_tiny_w_subtitle"]["tiny_acc,none"] <= 1.0
    assert not list(folder.glob("*_hfs_frames.jsonl"))


SRT_TASK_UTILS = """
from lmms_eval.tasks.videomme.utils import videomme_doc_to_text_subtitle, videomme_doc_to_visual


def process_results(doc, results):
    return {"tiny_acc": float(results[0].strip()[:1] == doc["answer"])}
"""


def test_lmms_eval_videomme_subtitles_are_those_of_the_frames_hfs_shows(setup, tmp_path):
    """A local task built from lmms-eval's own Video-MME functions (``videomme_doc_to_visual``,
    ``videomme_doc_to_text_subtitle`` with ``frame_num: 4``) on an HF_HOME laid out as Video-MME
    releases it: the frame records list the subtitles of the frames hfs chose."""
    home = tmp_path / "hf"
    (home / "videomme" / "data").mkdir(parents=True)
    (home / "videomme" / "subtitle").mkdir()
    docs = []
    for doc_id, (video, colour) in enumerate(DOCS):
        write_video(home / "videomme" / "data" / f"{video}.mp4", [Scene(c, SCENE) for c in VIDEOS[video]], fps=FPS,
                    size=(96, 64))
        (home / "videomme" / "subtitle" / f"{video}.srt").write_text("".join(
            f'{n + 1}\n00:00:0{n},000 --> 00:00:0{n + 1},000\n<font color="white" size=".72c">cue {n}</font>\n\n'
            for n in range(6)))
        docs.append(question_doc(video, colour, videoID=video))
    tasks = task_folder(tmp_path, docs, SRT_TASK_UTILS)
    yaml = task_yaml("tiny_videomme_srt", tmp_path / "docs.json")
    yaml = yaml.replace("utils.doc_to_visual", "utils.videomme_doc_to_visual").replace(
        "utils.doc_to_text", "utils.videomme_doc_to_text_subtitle")
    (tasks / "tiny_videomme_srt.yaml").write_text(yaml + textwrap.dedent("""\
        lmms_eval_specific_kwargs:
          default:
            frame_num: 4
            pre_prompt: ""
            post_prompt: ""
        """))
    out = tmp_path / "out"
    lmms_eval(setup, "hfs_qwen2_5_vl", f"pretrained={setup['q25']},{ARGS},{HFS_ARGS}", "tiny_videomme_srt", out,
              include=tasks, env={"HF_HOME": str(home)})
    records = check_run(setup, out, setup["q25"], ["tiny_videomme_srt"])
    for record in records:
        video, colour = DOCS[record["doc_id"]]
        start, end = scene_of(video, colour)
        assert all(start <= t < end for t in record["times"])
        # cue n spans frames [8n, 8n + 8): the cues at the chosen frames, those of the scene asked about
        assert record["subtitles"] == "frames"
        assert record["subtitle_starts"] == sorted({float(i // FPS) for i in record["frame_indices"]})
        assert set(record["subtitle_starts"]) <= {start, start + 1}
