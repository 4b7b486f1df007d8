"""The ``hfs`` command as a user runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
import subprocess
import sys
import wave

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import hfs
from hfs.cli import main
from hfs.video.synth import Scene, write_video


def test_json_output_schema(run, three_scene_video, tiny_clip_dir):
    code, out, err = run("select", three_scene_video, "-q", "what colour is it?", "--options", "red", "blue",
                         "-k", 5, "-n", 20, "--encoder", tiny_clip_dir, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {"video", "question", "options", "selector", "k", "num_candidates", "encoder", "frames",
            "objective", "timing"} <= set(data)
    assert data["k"] == 5 and data["num_candidates"] == 20 and data["selector"] == "greedy"
    assert data["options"] == ["red", "blue"]
    indices = [f["index"] for f in data["frames"]]
    assert len(indices) == 5 and indices == sorted(set(indices))
    for f in data["frames"]:
        assert set(f) >= {"index", "time", "score"} and 0 <= f["time"] <= 12
    assert set(data["timing"]) >= {"decode", "encode", "select"}
    assert set(data["objective"]) == {"F", "rel", "cov", "red"}


def test_table_output(run, three_scene_video, tiny_clip_dir):
    code, out, _ = run("select", three_scene_video, "-q", "a red screen", "-k", 3, "-n", 12,
                       "--encoder", tiny_clip_dir, "--selector", "uniform")
    assert code == 0
    assert "index" in out and "time" in out and "score" in out
    # uniform over 12 candidates of 12 s: indices 2, 6, 10 at 2.5, 6.5, 10.5 s (nearest frames)
    for time in ("00:02.5", "00:06.5", "00:10.5"):
        assert time in out


def test_out_dir_files(run, three_scene_video, tiny_clip_dir, tmp_path):
    out_dir = tmp_path / "out"
    code, out, err = run("select", three_scene_video, "-q", "a red screen", "-k", 4, "-n", 16,
                         "--encoder", tiny_clip_dir, "--out", out_dir, "--json")
    assert code == 0, err
    printed = json.loads(out)
    saved = json.loads((out_dir / "selection.json").read_text())
    assert saved["frames"] == printed["frames"]
    jpgs = sorted((out_dir / "frames").glob("*.jpg"))
    assert len(jpgs) == 4
    for jpg, frame in zip(jpgs, saved["frames"]):
        assert jpg.name.startswith(f"frame_{frame['index']:04d}_t")
        assert Image.open(jpg).size == (128, 80)
    sheet = Image.open(out_dir / "contact_sheet.png")
    assert sheet.size[0] > 2 * 128 and sheet.size[1] > 2 * 80  # a 2x2 grid of 4 frames
    timeline = Image.open(out_dir / "timeline.png")
    assert timeline.size[0] > 600
    # the frame pictures show the chosen frames: red frames are red
    for jpg, frame in zip(jpgs, saved["frames"]):
        pixel = np.asarray(Image.open(jpg))[60, 64]
        expected = (220, 20, 20) if frame["time"] < 4 else (20, 40, 220) if frame["time"] < 8 else (20, 180, 40)
        assert np.abs(pixel.astype(int) - expected).max() < 30


def _no_video_stream(path):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.zeros(800, dtype=np.int16).tobytes())


@pytest.mark.parametrize("case, message", [
    ("missing", "missing.mp4: file not found"),
    ("empty", "empty.mp4: file is empty"),
    ("text", "text.mp4: not a readable video file"),
    ("truncated", "truncated.mkv: video is truncated"),
    ("audio", "audio.wav: contains no video stream"),
])
def test_bad_files_give_one_clear_line(run, tmp_path, tiny_clip_dir, case, message):
    path = tmp_path / {"missing": "missing.mp4", "empty": "empty.mp4", "text": "text.mp4",
                       "truncated": "truncated.mkv", "audio": "audio.wav"}[case]
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("hello\n" * 100)
    elif case == "audio":
        _no_video_stream(path)
    elif case == "truncated":
        full = write_video(tmp_path / "full.mkv", [Scene("red", 10)], fps=10)
        data = full.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    code, out, err = run("select", path, "-q", "a red screen", "-k", 4, "-n", 16, "--encoder", tiny_clip_dir)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hfs: error: {path.parent}/{message}")
    assert "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["-q", ""], "the question is empty"),
    (["-q", "x", "-k", "20", "-n", "16"], "k=20 is larger than the number of candidate frames (16)"),
])
def test_bad_arguments_give_one_clear_line(run, three_scene_video, tiny_clip_dir, args, message):
    code, out, err = run("select", three_scene_video, *args, "--encoder", tiny_clip_dir)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_k_below_one_is_a_usage_error(run, three_scene_video):
    with pytest.raises(SystemExit) as exc:
        run("select", three_scene_video, "-q", "x", "-k", "0")
    assert exc.value.code == 2


def test_version(run, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"hfs {hfs.__version__}"


def test_installed_console_script(three_scene_video, tiny_clip_dir, tmp_path):
    """The real entry point, in a fresh process, as a user types it."""
    exe = shutil.which("hfs") or str(__import__("pathlib").Path(sys.executable).parent / "hfs")
    proc = subprocess.run([exe, "select", str(three_scene_video), "-q", "a red screen", "-k", "2", "-n", "8",
                           "--encoder", str(tiny_clip_dir), "--json", "--cache-dir", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["frames"]) == 2
    proc = subprocess.run([exe, "select", str(tmp_path / "nope.mp4"), "-q", "x"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.strip() == f"hfs: error: {tmp_path / 'nope.mp4'}: file not found"


# --- issue 14: every bad value is one line, before any work -------------------------------------

def _one_line(code, out, err, message):
    assert code == 1 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hfs: error: ") and message in lines[0], err
    assert "NaN" not in out and "Traceback" not in err


@pytest.mark.parametrize("yaml_text, message", [
    ("objective: 5\n", "SelectConfig.objective: expected a mapping of ObjectiveConfig fields, got 5"),
    ("cache_dir: 5\n", "SelectConfig.cache_dir: expected a string, got 5"),
    ("encoder: [1]\n", "SelectConfig.encoder: expected a string, got [1]"),
    ("k: true\n", "SelectConfig.k: expected an integer, got True"),
    ("batch_size: 0\n", "SelectConfig.batch_size: must be between 1 and 4096, got 0"),
    ("seed: x\n", "SelectConfig.seed: expected an integer, got 'x'"),
    ("decode_mode: warp\n", "SelectConfig.decode_mode: must be one of auto, seek, sequential, keyframe, got 'warp'"),
    ("objective:\n  lambda_rel: .nan\n", "ObjectiveConfig.lambda_rel: expected a finite number, got nan"),
    ("objective:\n  gamma: 1e-9\n", "ObjectiveConfig.gamma: must be between 0.001 and 1e+06, got 1e-09"),
    ("- k\n", "SelectConfig: expected a mapping, got list"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a text (UTF-8) YAML file"),
    ("k: [\n", "not valid YAML"),
])
def test_bad_select_config_file_is_one_line(run, three_scene_video, tmp_path, yaml_text, message):
    path = tmp_path / "select.yaml"
    path.write_bytes(yaml_text if isinstance(yaml_text, bytes) else yaml_text.encode())
    code, out, err = run("select", three_scene_video, "-q", "red", "-k", 2, "-n", 8, "--encoder", "color-names",
                         "--config", path, "--json", "--out", tmp_path / "out")
    _one_line(code, out, err, f"{path}: {message}")
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_config_file_scalars_are_yaml_1_2(run, three_scene_video, tmp_path):
    """`1e-1` is a number and `no` a string, as people write them (YAML 1.1 reads them the other way)."""
    from hfs.config import SelectConfig, load_yaml
    from hfs.training.config import TrainConfig

    path = tmp_path / "c.yaml"
    path.write_text("objective:\n  lambda_red: 1e-1\n")
    assert load_yaml(SelectConfig, path).objective.lambda_red == 0.1
    path.write_text("mixed_precision: no\nlr: 3e-5\n")
    config = TrainConfig.from_yaml(path)
    assert config.mixed_precision == "no" and config.lr == 3e-5
    path.write_text("use_cache: yes\n")
    with pytest.raises(hfs.errors.InputError, match="SelectConfig.use_cache: expected true or false, got 'yes'"):
        load_yaml(SelectConfig, path)


@pytest.mark.parametrize("where, message", [
    ("file", "exists and is not a folder"),
    ("under-file", "cannot create the folder"),
    ("proc", "cannot create the folder"),
])
def test_unusable_out_folder_is_one_line(run, three_scene_video, tmp_path, where, message):
    (tmp_path / "file").write_text("x")
    out_dir = {"file": tmp_path / "file", "under-file": tmp_path / "file" / "sub", "proc": "/proc/hfs-x/y"}[where]
    code, out, err = run("select", three_scene_video, "-q", "red", "-k", 2, "-n", 8, "--encoder", "color-names",
                         "--out", out_dir)
    _one_line(code, out, err, f"--out {out_dir}: {message}")


def test_reused_out_folder_keeps_only_this_selection_frames(run, three_scene_video, tmp_path):
    out_dir = tmp_path / "out"
    code, _, err = run("select", three_scene_video, "-q", "red", "-k", 10, "-n", 16, "--encoder", "color-names",
                       "--out", out_dir)
    assert code == 0, err
    assert len(list((out_dir / "frames").glob("*.jpg"))) == 10
    (out_dir / "frames" / "notes.txt").write_text("mine")  # not an hfs picture: left alone
    (out_dir / "frames" / "holiday.jpg").write_bytes(b"x")
    code, out, err = run("select", three_scene_video, "-q", "red", "-k", 2, "-n", 16, "--encoder", "color-names",
                         "--out", out_dir, "--json")
    assert code == 0, err
    names = sorted(p.name for p in (out_dir / "frames").iterdir())
    expected = sorted(f"frame_{f['index']:04d}_t" for f in json.loads(out)["frames"])
    assert sorted(n[:12] for n in names if n.startswith("frame_")) == expected
    assert set(names) - {n for n in names if n.startswith("frame_")} == {"notes.txt", "holiday.jpg"}


def test_writer_refuses_an_unwritable_folder_in_one_error(three_scene_video, color_encoder, tmp_path):
    from hfs.errors import InputError, WriteError
    from hfs.report import write_outputs

    selection = hfs.select(three_scene_video, "red", k=2, num_candidates=8, encoder=color_encoder)
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match="out/frames: cannot write the frames folder"):
        write_outputs(selection, tmp_path / "file" / "out")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "frames").write_text("x")
    with pytest.raises(InputError, match="frames: exists and is not a folder"):
        write_outputs(selection, tmp_path / "out")


def test_json_is_never_nan():
    from hfs.errors import InputError
    from hfs.report.jsonout import dumps_finite

    assert json.loads(dumps_finite({"F": 1.5, "frames": [{"score": -2.0}]})) == {"F": 1.5, "frames": [{"score": -2.0}]}
    with pytest.raises(InputError, match=r"the selection: objective\.F is nan"):
        dumps_finite({"k": 2, "objective": {"F": float("nan")}}, what="the selection")
    with pytest.raises(InputError, match=r"frames\[1\]\.score is -inf"):
        dumps_finite({"frames": [{"score": 0.0}, {"score": float("-inf")}]})


@pytest.mark.parametrize("args, message", [
    (["--image-fps", "0"], "argument --image-fps: must be a number between 0.001 and 1000, got 0"),
    (["--image-fps", "-1"], "argument --image-fps"),
    (["--image-fps", "nan"], "argument --image-fps"),
    (["--seed", "-1"], "argument --seed: must be between 0 and 4294967295"),
    (["-n", "100000"], "argument -n/--num-candidates: must be between 1 and 4096"),
])
def test_bad_flag_values_are_usage_errors(run, capsys, three_scene_video, args, message):
    with pytest.raises(SystemExit) as exc:
        run("select", three_scene_video, "-q", "x", *args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith(f"hfs select: error: {message}") and len(err.splitlines()) == 1


def test_answer_refuses_k_above_candidates_before_loading_a_model(run, three_scene_video):
    code, out, err = run("answer", three_scene_video, "-q", "x", "--options", "a", "b", "--model", "no-such-model",
                         "-k", 20, "-n", 8)
    _one_line(code, out, err, "k=20 is larger than the number of candidate frames (8)")


@pytest.mark.parametrize("bench_name, name", [("synthetic", "items.json"), ("mlvu", "task.json"),
                                             ("nextqa", "val.csv"), ("videomme", "test.jsonl")])
def test_binary_annotations_are_one_line(run, tmp_path, bench_name, name):
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 4)
    code, out, err = run("eval", "--benchmark", bench_name, "--data-root", tmp_path, "--model", "no-such-model",
                         "--annotations", path, "--out", tmp_path / "eval")
    _one_line(code, out, err, f"{path}: not a text annotation file")


def test_binary_annotations_from_the_api(tmp_path):
    from hfs.data.benchmarks import read_benchmark
    from hfs.errors import InputError

    path = tmp_path / "items.json"
    path.write_bytes("[{\"id\": \"caf\u00e9\"}]".encode("latin-1"))  # not UTF-8, no NUL
    with pytest.raises(InputError, match="not a text annotation file"):
        read_benchmark("synthetic", tmp_path, path)


def test_train_flags_and_file_are_checked(run, tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("k: 4\n")
    code, out, err = run("train", path, "--max-steps", 0, "--output-dir", tmp_path / "run")
    _one_line(code, out, err, "TrainConfig.max_steps: must be >= 1, got 0")
    path.write_text("student:\n  num_queries: true\n")
    code, out, err = run("train", path)
    _one_line(code, out, err, f"{path}: StudentConfig.num_queries: expected an integer, got True")
    assert not (tmp_path / "run").exists()


def test_empty_selector_list_is_refused(run, tmp_path):
    code, out, err = run("eval", "--benchmark", "synthetic", "--data-root", tmp_path, "--model", "no-such-model",
                         "--selector", " , ", "--out", tmp_path / "eval")
    _one_line(code, out, err, "--selector: expected comma-separated names, got ' , '")
    code, out, err = run("bench", "--selector", ",,", "--encoder", "color-names", "--data-dir", tmp_path / "set",
                         "--out", tmp_path / "bench")
    _one_line(code, out, err, "--selector: expected comma-separated names, got ',,'")
    assert not (tmp_path / "set").exists()


PLANTED = ["selection.json", "contact_sheet.png", "timeline.png", "frames", "frames/frame_0001_t00-00.5.jpg"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.sets(st.sampled_from(PLANTED), min_size=1), reuse=st.booleans())
def test_out_folder_symlinks_are_replaced_and_their_targets_never_touched(links, reuse, three_scene_video,
                                                                         color_encoder):
    """Links planted in --out (to files or a folder elsewhere) are replaced by hfs's own files;
    what they point to is never written or deleted, and the outputs are regular files."""
    import tempfile

    from hfs.report import frame_filename, write_outputs

    selection = hfs.select(three_scene_video, "red", k=3, num_candidates=8, encoder=color_encoder)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        elsewhere = root / "elsewhere"
        elsewhere.mkdir()
        for name in ("frame_0001_t00-00.5.jpg", "frame_0002_t00-01.0.jpg", "victim.json"):
            (elsewhere / name).write_bytes(b"not yours: " + name.encode())
        out = root / "out"
        (out / "frames").mkdir(parents=True)
        if reuse:  # an earlier selection's files, which the new one replaces
            write_outputs(selection, out)
        for name in sorted(links, key=len, reverse=True):  # frames/x before frames itself
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(elsewhere if name == "frames" else elsewhere / "victim.json")
        before = {p.name: p.read_bytes() for p in elsewhere.iterdir()}
        paths = write_outputs(selection, out)
        assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before
        for path in [paths["json"], paths["contact_sheet"], paths["timeline"]]:
            assert path.is_file() and not path.is_symlink(), path
        assert not (out / "frames").is_symlink()
        assert json.loads((out / "selection.json").read_text())["frames"] == selection.to_dict()["frames"]
        # this selection's pictures, as regular files; a link planted among them is not hfs's to delete
        pictures = sorted(p.name for p in (out / "frames").iterdir() if not p.is_symlink())
        assert pictures == sorted(frame_filename(i, t) for i, t in zip(selection.indices.tolist(),
                                                                        selection.times.tolist()))
