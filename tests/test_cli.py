"""The ``hfs`` command as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave

import numpy as np
import pytest
from PIL import Image

import hfs
from hfs.cli import main
from hfs.video.synth import Scene, write_video


@pytest.fixture
def run(capsys):
    def _run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


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
