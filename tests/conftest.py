"""Shared fixtures: a tiny random CLIP, generated videos, an isolated cache folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hfs.encoders import HFImageTextEncoder, build_tiny_clip
from hfs.video.synth import Scene, write_video


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's ~/.cache/hfs, or downloads anything."""
    monkeypatch.setenv("HFS_CACHE_DIR", str(tmp_path_factory.mktemp("hfs-cache")))
    # and none reaches the Hugging Face Hub: a model not in the local cache is an error, not a download
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def run(capsys):
    """``run(*args)``: the ``hfs`` command in this process -> (exit code, stdout, stderr)."""
    from hfs.cli import main

    def _run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited: what a killed writer's temporary names carry."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("models") / "tiny-clip", seed=0)


@pytest.fixture(scope="session")
def tiny_encoder(tiny_clip_dir) -> HFImageTextEncoder:
    return HFImageTextEncoder(str(tiny_clip_dir))


@pytest.fixture(scope="session")
def three_scene_video(tmp_path_factory) -> Path:
    """12 s at 10 fps: red 0-4 s, blue 4-8 s, green 8-12 s; frame index drawn in each frame."""
    path = tmp_path_factory.mktemp("videos") / "rgb.mp4"
    return write_video(path, [Scene("red", 4), Scene("blue", 4), Scene("green", 4)], fps=10, size=(128, 80),
                       frame_counter=True)


@pytest.fixture
def color_encoder():
    from hfs.encoders.color import ColorNamesEncoder

    return ColorNamesEncoder()


@pytest.fixture
def counting_encoder():
    """A factory of color-names encoders that count the frames they embed (``.frames``)."""
    from hfs.encoders.color import ColorNamesEncoder

    class CountingEncoder(ColorNamesEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.frames = 0

        def encode_image_batch(self, images):
            self.frames += len(images)
            return super().encode_image_batch(images)

    return CountingEncoder


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    from hfs.student import build_tiny_qwen2

    return build_tiny_qwen2(tmp_path_factory.mktemp("models") / "tiny-qwen2", seed=0)


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory) -> Path:
    from hfs.reasoning import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("models") / "tiny-qwen2-vl", seed=0)


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory) -> Path:
    from hfs.reasoning import build_tiny_llava_onevision

    return build_tiny_llava_onevision(tmp_path_factory.mktemp("models") / "tiny-llava-onevision", seed=0)
