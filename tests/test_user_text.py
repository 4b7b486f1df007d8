"""User text (file names, questions, options, folders, selector names) prints exactly as given:
Rich never reads it as markup or emoji codes. One test per place hfs prints through Rich."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from rich.console import Console

from hfs.console import console, text
from hfs.progress import progress_bar

NAME = "clip [dQw4w9WgXcQ].mp4"
QUESTION = "is it [red] or blue? [/] :smile: \\"
OUT = "out [v1]"


@pytest.fixture
def bracket_video(three_scene_video, tmp_path):
    path = tmp_path / NAME
    shutil.copy(three_scene_video, path)
    return path


def test_text_survives_rich_markup_and_emoji():
    buffer = io.StringIO()
    out = console(file=buffer, width=200)
    out.print(f"[bold]{text(NAME)}[/bold] {text(QUESTION)}")
    assert buffer.getvalue().rstrip("\n") == f"{NAME} {QUESTION}"


def test_select_table_prints_the_file_question_and_folder_as_given(run, bracket_video, tmp_path):
    out_dir = tmp_path / OUT
    code, out, err = run("select", bracket_video, "-q", QUESTION, "-k", 3, "-n", 12, "--encoder", "color-names",
                         "--out", out_dir)
    assert code == 0, err
    assert "Traceback" not in err and "MarkupError" not in err
    assert str(bracket_video) in out
    assert f"Q: {QUESTION}" in out
    assert f"wrote {out_dir / 'selection.json'}" in out


def test_bench_table_keeps_paths_as_given(run, tmp_path):
    out_dir = tmp_path / OUT
    code, out, err = run("bench", "--videos", "2", "-k", "4", "--selector", "uniform", "--encoder", "color-names",
                         "--data-dir", tmp_path / "set", "--out", out_dir)
    assert code == 0, err
    assert str(out_dir / "bench.md") in out


def test_bench_traces_keeps_selector_variant_names(run, tmp_path):
    code, out, err = run("bench", "--traces", "--questions", "5", "--seeds", "0", "-k", "8", "--selector", "greedy",
                         "--out", tmp_path / OUT)
    assert code == 0, err
    assert "greedy[paper]" in out and "greedy[calibrated-time]" in out
    assert str(tmp_path / OUT / "traces.md") in out


def test_answer_prints_options_as_given(run, three_scene_video, tiny_vlm_dir, tiny_clip_dir):
    options = ["[red] screen", "[/] blue", ":smile: green"]
    code, out, err = run("answer", three_scene_video, "-q", QUESTION, "--options", *options, "--model", tiny_vlm_dir,
                         "-k", 2, "-n", 8, "--encoder", tiny_clip_dir, "--selector", "uniform")
    assert code == 0, err
    for letter, option in zip("ABC", options):
        assert f"{letter}. {option}" in out
    assert "answer: " in out and "(uniform)" in out


def test_progress_bar_shows_file_names_as_given():
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, width=200, color_system=None)
    with progress_bar(3, f"decode + embed {NAME}", console=terminal) as bar:
        bar.advance(3)
    assert f"decode + embed {NAME}" in buffer.getvalue()


def test_json_keeps_user_text(run, bracket_video):
    code, out, err = run("select", bracket_video, "-q", QUESTION, "-k", 3, "-n", 12, "--encoder", "color-names",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["video"] == str(bracket_video) and data["question"] == QUESTION.strip()
