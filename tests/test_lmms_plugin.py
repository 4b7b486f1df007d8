"""The lmms-eval plug-in (``hfs[lmms]``): hfs models found through lmms-eval's own registry, run
on generated videos with tiny random Qwen2.5-VL and Qwen3-VL, shown the frames hfs chose with their
real times, at the size lmms-eval's uniform path gives.

Marked ``lmms``: they need the ``lmms`` extra, whose torchvision is a CUDA build of torch (it runs
on a CPU), so README's plain test command leaves them out and ``python -m pytest -q -m lmms`` runs
them after installing it; CI does both. lmms-eval missing is a failure here, never a skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hfs.errors import HfsError, InputError
from hfs.integrations.lmms.indices import read_choices
from hfs.video.synth import Scene, read_counter, write_video

# lmms-eval's Qwen class passes min/max_pixels to the processor call, which transformers deprecates
pytestmark = [pytest.mark.lmms,
              pytest.mark.filterwarnings("ignore:Passing `min_pixels` and `max_pixels`:FutureWarning")]

TASK, SPLIT = "tiny_video_qa", "test"
QUESTION = "When is the screen green?"


def rgb_video(tmp_path_factory, name: str, size: tuple[int, int]) -> Path:
    """12 s at 10 fps, red / blue / green 4 s each, every frame's index drawn in it."""
    return write_video(tmp_path_factory.mktemp("videos") / name,
                       [Scene("red", 4), Scene("blue", 4), Scene("green", 4)], fps=10, size=size,
                       frame_counter=True)


def tiny_model(tmp_path_factory, name: str) -> Path:
    """The folder ``name`` ("tiny-qwen2.5-vl" or "tiny-qwen3-vl") as ``hfs.integrations.lmms.tiny`` writes it."""
    from hfs.integrations.lmms.tiny import build_tiny_qwen2_5_vl, build_tiny_qwen3_vl

    build = {"tiny-qwen2.5-vl": build_tiny_qwen2_5_vl, "tiny-qwen3-vl": build_tiny_qwen3_vl}[name]
    return build(tmp_path_factory.mktemp("models") / name)


@pytest.fixture(scope="module")
def tiny_qwen25_dir(tmp_path_factory) -> Path:
    return tiny_model(tmp_path_factory, "tiny-qwen2.5-vl")


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return rgb_video(tmp_path_factory, "rgb.mp4", (128, 80))


def model_class():
    """``hfs_qwen2_5_vl`` as lmms-eval's CLI finds it: its registry, filled from the entry point."""
    from lmms_eval.models import get_model

    return get_model("hfs_qwen2_5_vl")


def make_model(model_dir: Path, log: Path, **hfs_args):
    extra = ",".join(f"{k}={v}" for k, v in hfs_args.items())
    model = model_class().create_from_arg_string(
        f"pretrained={model_dir},device=cpu,device_map=cpu,max_num_frames=8,min_pixels=3136,max_pixels=12544,"
        f"hfs_log={log},{extra}")
    model.task_dict = {TASK: {SPLIT: [{"video": None, "question": QUESTION}]}}
    return model


class Recorder:
    """The model's processor, keeping what each call was given."""

    def __init__(self, processor) -> None:
        self.processor, self.calls = processor, []

    def __getattr__(self, name):
        return getattr(self.processor, name)

    def __call__(self, *args, **kwargs):
        out = self.processor(*args, **kwargs)
        self.calls.append({**kwargs, "output": out})
        return out


def run_one(model, video: Path):
    """generate_until on one request built as lmms-eval builds a chat task's requests."""
    from lmms_eval.api.instance import Instance

    def doc_to_messages(doc):
        return [{"role": "user", "content": [{"type": "video", "url": str(video)},
                                             {"type": "text", "text": doc["question"]}]}]

    request = Instance(request_type="generate_until", idx=0, metadata={"task": TASK, "doc_id": 0, "repeats": 1},
                       arguments=("", doc_to_messages, {"max_new_tokens": 3}, 0, TASK, SPLIT))
    # what the Hugging Face processor itself is given (inside hfs's wrapper, for hfs's models)
    holder = model.processor if hasattr(model.processor, "inner") else model
    recorder = Recorder(holder.inner if holder is not model else model.processor)
    setattr(holder, "inner" if holder is not model else "processor", recorder)
    out = model.generate_until([request])
    return request, out, recorder.calls


def frame_means(video_tensor) -> np.ndarray:
    """[T, 3] mean colour of each frame the processor got ([T, 3, H, W] floats 0-255)."""
    return np.asarray(video_tensor, dtype=np.float64).mean(axis=(2, 3))


def test_plugin_is_registered_for_all_four_models():
    from lmms_eval.models import MODEL_REGISTRY_V2

    paths = {name: MODEL_REGISTRY_V2.resolve(name) for name in ("hfs_qwen2_5_vl", "hfs_qwen3_vl",
                                                                  "hfs_llava_onevision", "hfs_llava_vid")}
    assert paths["hfs_qwen2_5_vl"].model_type == "chat" and paths["hfs_qwen3_vl"].model_type == "chat"
    assert paths["hfs_qwen3_vl"].class_path == "hfs.integrations.lmms.qwen3_vl.HfsQwen3_VL"
    assert paths["hfs_qwen2_5_vl"].class_path == "hfs.integrations.lmms.qwen2_5_vl.HfsQwen2_5_VL"
    assert paths["hfs_llava_onevision"].class_path == "hfs.integrations.lmms.llava_onevision.HfsLlavaOneVision"
    assert paths["hfs_llava_vid"].class_path == "hfs.integrations.lmms.llava_vid.HfsLlavaVid"
    from lmms_eval.models.chat.qwen2_5_vl import Qwen2_5_VL

    from lmms_eval.models import get_model
    from lmms_eval.models.chat.qwen3_vl import Qwen3_VL

    assert issubclass(model_class(), Qwen2_5_VL) and issubclass(get_model("hfs_qwen3_vl"), Qwen3_VL)


def test_qwen_is_shown_the_frames_hfs_selects_with_their_times(tiny_qwen25_dir, video, tmp_path):
    import hfs

    log = tmp_path / "hfs_selections.jsonl"
    model = make_model(tiny_qwen25_dir, log, hfs_k=4, hfs_candidates=24, hfs_encoder="color-names")
    request, out, calls = run_one(model, video)

    expected = hfs.select(video, QUESTION, k=4, num_candidates=24, encoder="color-names")
    times = [round(float(t), 4) for t in expected.times]
    indices = [int(round(t * 10)) for t in expected.times]
    assert len(out) == 1 and isinstance(out[0].text, str)
    (call,) = calls
    (meta,) = call["video_metadata"]
    assert meta["frames_indices"] == indices and meta["fps"] == pytest.approx(10.0)
    assert meta["total_num_frames"] == 120
    # Qwen2.5-VL places the frames in time from them: 4 frames over 12 s, 2 frames a temporal patch
    assert [float(s) for s in call["output"]["second_per_grid_ts"]] == [pytest.approx(2 / (4 / 12))]
    # the pictures decoded are the frames at those indices (each carries its index) ...
    (chosen,) = model.hfs_last
    assert [read_counter(image) for image in chosen.images] == indices
    # ... and they are what the processor got, in order
    shown = frame_means(call["videos"][0])
    assert shown.shape == (4, 3)
    decoded = np.array([image.reshape(-1, 3).mean(axis=0) for image in chosen.images])
    assert np.abs(shown - decoded).max() < 12
    # logged with the sample, with the scores hfs gave the frames
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["times"] == times and record["frame_indices"] == indices
    assert (record["task"], record["doc_id"], record["question"]) == (TASK, 0, QUESTION)
    assert record["scores"] == [round(float(s), 4) for s in expected.scores]


def test_indices_file_reuses_precomputed_selections(tiny_qwen25_dir, video, tmp_path):
    indices_file = tmp_path / "chosen.jsonl"
    indices_file.write_text(json.dumps({"task": TASK, "doc_id": 0, "video": str(video),
                                        "times": [0.5, 2.5, 6.5, 10.5]}) + "\n")
    model = make_model(tiny_qwen25_dir, tmp_path / "log.jsonl", hfs_indices=indices_file)
    _, _, calls = run_one(model, video)
    (meta,) = calls[0]["video_metadata"]
    assert meta["frames_indices"] == [5, 25, 65, 105]
    assert [read_counter(image) for image in model.hfs_last[0].images] == [5, 25, 65, 105]
    # the run's own log is an indices file that replays it
    assert read_choices(tmp_path / "log.jsonl")[0].times == [0.5, 2.5, 6.5, 10.5]


def test_odd_frame_counts_are_padded_for_qwen(tiny_qwen25_dir, video, tmp_path):
    indices_file = tmp_path / "chosen.jsonl"
    indices_file.write_text(json.dumps({"doc_id": 0, "video": "elsewhere/rgb.mp4", "times": [1.0, 5.0, 9.0]}))
    model = make_model(tiny_qwen25_dir, tmp_path / "log.jsonl", hfs_indices=indices_file)
    _, _, calls = run_one(model, video)
    (meta,) = calls[0]["video_metadata"]
    assert meta["frames_indices"] == [10, 50, 90, 90]
    assert frame_means(calls[0]["videos"][0]).shape[0] == 4


def test_hfs_select_json_lines_are_an_indices_file(tiny_qwen25_dir, video, tmp_path, capsys):
    """`hfs select VIDEO -q Q --json >> FILE` writes records the model reuses (matched by video
    name and question)."""
    from hfs.cli import main

    assert main(["select", str(video), "-q", QUESTION, "-k", "4", "-n", "16", "--encoder", "color-names",
                 "--json"]) == 0
    line = capsys.readouterr().out.strip()
    (choice,) = read_choices(_write(tmp_path / "sel.jsonl", line + "\n"))
    expected = [round(frame["time"], 4) for frame in json.loads(line)["frames"]]
    assert choice.times == expected and choice.fps == pytest.approx(10.0)
    assert choice.frame_indices == [round(t * 10) for t in expected]
    model = make_model(tiny_qwen25_dir, tmp_path / "log.jsonl", hfs_indices=tmp_path / "sel.jsonl")
    _, _, calls = run_one(model, video)
    assert calls[0]["video_metadata"][0]["frames_indices"] == choice.frame_indices


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_choice_records_round_trip(video, color_encoder, tmp_path):
    import hfs
    from hfs.integrations.lmms.indices import append_choice, choice_from_selection

    sel = hfs.select(video, QUESTION, k=3, num_candidates=12, encoder=color_encoder)
    append_choice(tmp_path / "out" / "sel.jsonl", choice_from_selection(sel, "videomme", 7))
    (back,) = read_choices(tmp_path / "out" / "sel.jsonl")
    assert (back.task, back.doc_id, back.question) == ("videomme", 7, QUESTION)
    assert back.times == [round(float(t), 4) for t in sel.times]
    assert back.extra == {"selector": "greedy", "encoder": "color-names", "k": 3}


@pytest.mark.parametrize("args, named", [
    ("hfs_k=0", "hfs_k"),
    ("hfs_selector=nope", "hfs_selector"),
    ("hfs_kk=3", "hfs_kk"),
    ("hfs_k=200,hfs_candidates=100", "hfs_k"),
    ("hfs_uniform=true,hfs_encoder=color-names", "hfs_uniform"),
])
def test_bad_args_are_one_line_naming_the_arg(args, named, tmp_path):
    with pytest.raises(InputError) as err:
        model_class().create_from_arg_string(f"pretrained={tmp_path},device=cpu,{args}")
    message = str(err.value)
    assert named in message and "\n" not in message


def test_missing_or_broken_indices_file_names_it(tmp_path):
    with pytest.raises(InputError, match="hfs_indices: .*missing.jsonl: no such file"):
        model_class().create_from_arg_string(f"pretrained={tmp_path},hfs_indices={tmp_path / 'missing.jsonl'}")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": 1, "video": "a.mp4", "times": [1.0]}\n{"doc_id": 2, "video": "a.mp4"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: needs 'times'"):
        read_choices(bad)


def test_llava_onevision_load_video_gives_the_chosen_frames(video, tmp_path):
    """LLaVA-OneVision reads frames through ``load_video``; lmms-eval's ``__init__`` needs the
    LLaVA-NeXT package and weights, so only the hfs part of the set-up runs here."""
    from lmms_eval.models import get_model

    import hfs
    from hfs.integrations.lmms.query import SampleQuery
    from hfs.integrations.lmms.selection import Sample

    cls = get_model("hfs_llava_onevision")
    model = cls.__new__(cls)
    rest = model._hfs_setup({"hfs_k": 4, "hfs_candidates": 16, "hfs_encoder": "color-names",
                             "hfs_log": str(tmp_path / "log.jsonl"), "conv_template": "qwen_1_5"})
    assert rest == {"conv_template": "qwen_1_5"}  # what lmms-eval's class gets
    model._hfs_sample = Sample(TASK, 3, SampleQuery(QUESTION))
    frames = model.load_video([str(video)], 32)
    expected = hfs.select(video, QUESTION, k=4, num_candidates=16, encoder="color-names")
    assert frames.shape == (4, 80, 128, 3) and frames.dtype == np.uint8
    assert [read_counter(f) for f in frames] == [round(t * 10) for t in expected.times]


# -- Qwen3-VL, sizes like uniform, failing fast, where the records go ------------------------------


@pytest.fixture(scope="module")
def tiny_qwen3_dir(tmp_path_factory) -> Path:
    return tiny_model(tmp_path_factory, "tiny-qwen3-vl")


@pytest.fixture(scope="module")
def wide_video(tmp_path_factory) -> Path:
    """640x360: not a multiple of Qwen's 28 / 32 pixel grid."""
    return rgb_video(tmp_path_factory, "wide.mp4", (640, 360))


def run_model(name: str, model_dir: Path, video: Path, args: str, question: str = QUESTION):
    """One generate_until of lmms-eval model ``name`` (hfs's or lmms-eval's own) on ``video``;
    (the model, what its Hugging Face processor was given and returned)."""
    from lmms_eval.models import get_model

    model = get_model(name).create_from_arg_string(f"pretrained={model_dir},device=cpu,device_map=cpu,{args}")
    model.task_dict = {TASK: {SPLIT: [{"question": question}]}}
    _, _, (call,) = run_one(model, video)
    return model, call


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_hfs_frames_reach_the_model_at_uniforms_size(family, tiny_qwen25_dir, tiny_qwen3_dir, wide_video, tmp_path):
    """Same model args, same number of frames: hfs's frames and lmms-eval's uniform ones give the
    same pixels per frame and the same visual tokens (qwen_vl_utils would make a list of frames
    smaller: 336x616 instead of 364x644 for Qwen2.5-VL here)."""
    model_dir = tiny_qwen25_dir if family == "qwen2_5_vl" else tiny_qwen3_dir
    args = "max_num_frames=8"
    _, uniform = run_model(family, model_dir, wide_video, args)
    model, hfs_call = run_model(f"hfs_{family}", model_dir, wide_video,
                                f"{args},hfs_encoder=color-names,hfs_log={tmp_path / 'log.jsonl'}")
    assert model.hfs_args.hfs_k == 8  # hfs_k defaults to the model's own max_num_frames
    assert hfs_call["videos"][0].shape == uniform["videos"][0].shape
    assert hfs_call["videos"][0].shape[-2:] == ((364, 644) if family == "qwen2_5_vl" else (352, 640))
    assert hfs_call["output"]["video_grid_thw"].tolist() == uniform["output"]["video_grid_thw"].tolist()
    assert hfs_call["output"]["pixel_values_videos"].shape == uniform["output"]["pixel_values_videos"].shape
    # the frames differ: uniform's are evenly spread, hfs's follow the question (green: 8-12 s)
    assert uniform["video_metadata"][0]["frames_indices"] != hfs_call["video_metadata"][0]["frames_indices"]
    # hfs_uniform=true: lmms-eval's own frames through hfs's model (same prompt as the hfs run)
    model, same = run_model(f"hfs_{family}", model_dir, wide_video, f"{args},hfs_uniform=true,"
                            f"hfs_log={tmp_path / 'u.jsonl'}")
    assert same["video_metadata"][0]["frames_indices"] == uniform["video_metadata"][0]["frames_indices"]
    assert same["text"] == uniform["text"]
    assert same["output"]["video_grid_thw"].tolist() == uniform["output"]["video_grid_thw"].tolist()
    # decoded by PyAV here, by decord there: the same frames, up to colour conversion
    difference = (same["videos"][0] - uniform["videos"][0]).abs().mean()
    assert float(difference) < 2.0


def test_qwen3_writes_the_chosen_frames_real_times_into_its_prompt(tiny_qwen3_dir, video, tmp_path):
    """Qwen3-VL's own processor turns the frames' source indices and fps into ``<t seconds>``
    before each pair of frames: with hfs's metadata those are the chosen frames' real times."""
    import hfs

    indices_file = tmp_path / "chosen.jsonl"
    indices_file.write_text(json.dumps({"task": TASK, "doc_id": 0, "video": str(video),
                                        "times": [0.5, 1.5, 9.0, 11.0]}) + "\n")
    model, call = run_model("hfs_qwen3_vl", tiny_qwen3_dir, video,
                            f"max_num_frames=4,hfs_indices={indices_file},hfs_log={tmp_path / 'log.jsonl'}")
    (meta,) = call["video_metadata"]
    assert meta["frames_indices"] == [5, 15, 90, 110] and meta["fps"] == pytest.approx(10.0)
    prompt = model.tokenizer.decode(call["output"]["input_ids"][0])
    # pairs (0.5 s, 1.5 s) and (9.0 s, 11.0 s): their mean times, as Qwen3-VL computes them
    assert "<1.0 seconds>" in prompt and "<10.0 seconds>" in prompt
    assert prompt.count("seconds>") == 2
    # and selected by hfs (not read from a file): the prompt's times are those of the chosen frames
    model, call = run_model("hfs_qwen3_vl", tiny_qwen3_dir, video,
                            f"max_num_frames=4,hfs_encoder=color-names,hfs_candidates=24,hfs_log={tmp_path / 'l2.jsonl'}")
    sel = hfs.select(video, QUESTION, k=4, num_candidates=24, encoder="color-names")
    t = [round(float(x) * 10) / 10 for x in sel.times]
    expected = [f"<{(t[0] + t[1]) / 2:.1f} seconds>", f"<{(t[2] + t[3]) / 2:.1f} seconds>"]
    prompt = model.tokenizer.decode(call["output"]["input_ids"][0])
    assert all(e in prompt for e in expected), (prompt[:300], expected)


def test_a_missing_encoder_fails_before_the_vlm_naming_the_model_arg(tmp_path, monkeypatch):
    """No weights for the encoder: one error naming ``hfs_encoder=``, raised before lmms-eval's
    class loads anything (``pretrained`` here does not even exist)."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty Hugging Face cache, offline
    with pytest.raises(HfsError) as err:
        model_class().create_from_arg_string(f"pretrained={tmp_path / 'no-such-model'},device=cpu")
    message = str(err.value)
    assert message.startswith("hfs_encoder=") and "\n" not in message and "--encoder" not in message
    with pytest.raises(HfsError, match=r"^hfs_encoder=nope: unknown encoder"):
        model_class().create_from_arg_string(f"pretrained={tmp_path / 'no-such-model'},hfs_encoder=nope")
    with pytest.raises(HfsError, match=r"^hfs_checkpoint=.*missing"):
        model_class().create_from_arg_string(f"pretrained={tmp_path},hfs_checkpoint={tmp_path / 'missing'}")


def test_frame_records_go_next_to_lmms_evals_output(tmp_path, monkeypatch):
    from hfs.integrations.lmms.records import frame_log_path

    argv = ["--model", "hfs_qwen2_5_vl", "--output_path", str(tmp_path / "out"), "--timezone", "UTC"]
    path = frame_log_path({"pretrained": "Qwen/Qwen2.5-VL-7B-Instruct"}, argv)
    assert path.parent == tmp_path / "out" / "Qwen__Qwen2.5-VL-7B-Instruct"  # lmms-eval's own folder
    assert path.name.endswith("_hfs_frames.jsonl") and len(path.name) == len("20261206_203000_hfs_frames.jsonl")
    config = tmp_path / "run.yaml"
    config.write_text(f"model: hfs_qwen2_5_vl\noutput_path: {tmp_path / 'cfg'}\n")
    assert frame_log_path({"pretrained": "/m/qwen"}, ["--config", str(config)]).parent == tmp_path / "cfg" / "m__qwen"
    monkeypatch.chdir(tmp_path)
    assert frame_log_path({"pretrained": "/m/qwen"}, ["--model", "x"]) == Path("hfs_frames.jsonl")


def test_hfs_k_follows_the_models_own_frame_count(tmp_path, capsys):
    """hfs_k left out: the wrapped class's max_num_frames as given, else its default (32 for
    lmms-eval's Qwen classes); with lmms-eval's fps= sampling a warning says to pass hfs_k."""
    cls = model_class()
    common = {"hfs_encoder": "color-names", "hfs_log": str(tmp_path / "log.jsonl")}
    model = cls.__new__(cls)
    assert model._hfs_setup({**common, "max_num_frames": 12}) == {"max_num_frames": 12}
    assert model.hfs_args.hfs_k == 12
    model._hfs_setup({**common, "fps": 1.0})
    assert model.hfs_args.hfs_k == 32
    assert "fps=1.0: hfs shows hfs_k=32 frames" in capsys.readouterr().err
