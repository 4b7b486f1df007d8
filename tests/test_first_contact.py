"""What a newcomer meets first: source frame numbers, the colour encoder's limits, the hints of
the no-weights errors, plainly local paths, and the summaries and help that must add up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import hfs
from hfs.cli import main
from hfs.encoders import create_encoder
from hfs.encoders.fetch import fetch_model
from hfs.errors import EncoderNotAvailableError, InputError
from hfs.report.contact_sheet import contact_sheet
from hfs.report.writer import selected_frames


# --- source frame numbers ---------------------------------------------------------------------

def test_frame_numbers_in_json_and_selection_json(run, three_scene_video, tmp_path):
    # three_scene_video: 10 fps, every frame draws its own number; N = 12 midpoints of 1 s each
    code, out, err = run("select", three_scene_video, "-q", "a red screen", "-k", 3, "-n", 12, "--encoder",
                         "color-names", "--selector", "uniform", "--json", "--out", tmp_path / "o")
    assert code == 0, err
    frames = json.loads(out)["frames"]
    assert [list(f)[:3] for f in frames] == [["index", "frame", "time"]] * 3
    # candidate i sits at (i + 0.5) s: the frame shown then is number 10 i + 5
    assert [f["frame"] for f in frames] == [10 * f["index"] + 5 for f in frames]
    assert json.loads((tmp_path / "o" / "selection.json").read_text())["frames"] == frames


def test_frame_numbers_in_the_table(run, three_scene_video):
    code, out, err = run("select", three_scene_video, "-q", "a red screen", "-k", 3, "-n", 12, "--encoder",
                         "color-names", "--selector", "uniform")
    assert code == 0, err
    header = next(line for line in out.splitlines() if "index" in line)
    assert header.index("index") < header.index("frame") < header.index("time")
    rows = [line.replace("│", " ").split() for line in out.splitlines() if "00:0" in line or "00:1" in line]
    assert [(int(r[0]), int(r[1])) for r in rows] == [(2, 25), (6, 65), (10, 105)]


def test_frame_numbers_stop_at_the_last_frame_and_are_absent_without_fps():
    sel = hfs.create_selector("uniform").select(np.zeros(4), 2)
    sel.times = np.array([0.0, 11.99])
    assert sel.frame_numbers is None and "frame" not in sel.frames[0]
    sel.info = {"fps": 10.0, "num_frames": 120}
    assert sel.frame_numbers == [0, 119]


def test_contact_sheet_shows_the_frame_numbers(three_scene_video, tmp_path, color_encoder):
    from hfs.report import write_outputs

    sel = hfs.select(three_scene_video, "a red screen", k=2, num_candidates=6, encoder=color_encoder, use_cache=False)
    paths = write_outputs(sel, tmp_path)
    written = np.asarray(Image.open(paths["contact_sheet"]).convert("RGB"))
    images = selected_frames(sel, 720)
    args = (images, sel.times.tolist(), sel.scores.tolist(), sel.indices.tolist())
    title = sel.question
    with_numbers = np.asarray(contact_sheet(*args, title=title, frames=sel.frame_numbers))
    without = np.asarray(contact_sheet(*args, title=title))
    np.testing.assert_array_equal(written, with_numbers)
    assert not np.array_equal(with_numbers, without)


# --- the colour encoder and the no-weights errors ---------------------------------------------

def test_color_encoder_warns_once_when_the_question_names_no_colour(capsys, color_encoder):
    color_encoder.encode_texts(["What does the man put in the box?", "What does the man put in the box?"])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hfs: warning: the color-names encoder scores colour words only")
    assert "'What does the man put in the box?' names none" in err[0]
    color_encoder.encode_texts(["When does the screen turn red?"])
    assert capsys.readouterr().err == ""


def test_select_with_a_colourless_question_warns(run, three_scene_video):
    code, _, err = run("select", three_scene_video, "-q", "what does the man hold?", "-k", 2, "-n", 6,
                       "--encoder", "color-names")
    assert code == 0 and err.count("hfs: warning: the color-names encoder scores colour words only") == 1


def test_no_weights_error_names_color_names_as_the_offline_way(run, three_scene_video):
    code, _, err = run("select", three_scene_video, "-q", "a red screen", "--encoder", "nobody/no-such-model",
                       "--offline")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "hf download nobody/no-such-model" in err and "--encoder color-names" in err


def test_no_weights_hint_follows_where_the_model_was_named():
    with pytest.raises(EncoderNotAvailableError) as exc:
        fetch_model("nobody/no-such-model", flag="student.encoder")
    message = str(exc.value)
    assert "set student.encoder to a model folder" in message and "student.encoder color-names" in message
    assert "--encoder" not in message


@pytest.mark.parametrize("name", ["runs/learning/models/clip", "./clip", "~/no/such/clip"])
def test_a_plainly_local_missing_path_is_not_a_hub_name(name):
    with pytest.raises(InputError, match=r"no such model folder") as exc:
        create_encoder(name)
    assert "hf download" not in str(exc.value)


def test_answer_without_the_model_names_allow_download(run, three_scene_video):
    code, _, err = run("answer", three_scene_video, "-q", "what colour?", "--options", "red", "blue",
                       "--model", "nobody/no-such-vlm", "-k", 2, "-n", 6, "--encoder", "color-names")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "--allow-download" in err and "HF_HUB_OFFLINE" in err  # the tests run with downloads off


# --- hfs train: the template config and the hints ---------------------------------------------

def test_train_template_config_says_which_field_is_missing(run, tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    config = Path(__file__).resolve().parents[1] / "configs" / "train_shapes_mini.yaml"
    code, _, err = run("train", config)
    assert code == 1
    assert err.startswith("hfs: error: student.base_lm: runs/learning/models/student-lm: no such file or folder")
    assert "--encoder" not in err and "hf download" not in err


# --- summaries, help, reports -----------------------------------------------------------------

def test_embed_summary_adds_up_with_a_video_listed_twice(run, three_scene_video, tmp_path):
    manifest = tmp_path / "videos.txt"
    manifest.write_text(f"{three_scene_video}\n{three_scene_video}\n{tmp_path / 'missing.mp4'}\n")
    code, out, err = run("embed", manifest, "--encoder", "color-names", "-n", 6, "--workers", 1,
                         "--out", tmp_path / "cache")
    assert code == 0, err
    assert "3 videos: 1 embedded, 0 already cached, 1 skipped as unreadable, 1 listed more than once" in out


def test_eval_help_describes_every_flag(run, capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--seed SEED seed of the random selectors" in text
    assert "which benchmark's files --data-root holds" in text


def test_json_reports_the_shot_scan_as_decode_mode(run, three_scene_video):
    code, out, err = run("select", three_scene_video, "-q", "a red screen", "-k", 3, "--first-pass", "shots",
                         "--encoder", "color-names", "--no-cache", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["passes"][0]["name"] == "shots" and data["decode_mode"] == "shots"
