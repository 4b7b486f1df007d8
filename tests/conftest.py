"""Shared fixtures: a tiny random CLIP, generated videos, an isolated cache folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hfs.encoders import HFImageTextEncoder, build_tiny_clip
from hfs.encoders.base import ImageTextEncoder, l2_normalize
from hfs.video.synth import COLORS, Scene, write_video


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's ~/.cache/hfs."""
    monkeypatch.setenv("HFS_CACHE_DIR", str(tmp_path_factory.mktemp("hfs-cache")))


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


class ColorEncoder(ImageTextEncoder):
    """A transparent stand-in for an image-text model: a frame's embedding is its mean colour,
    a text's is the mean of the colour words it names. Cosine similarity then says how close a
    frame's colour is to the colours asked for, which lets tests check what the pipeline does
    with meaningful scores without model weights."""

    name = "color-encoder"
    fingerprint = "color-encoder-v1"
    dim = 3
    short_side = 32

    def encode_image_batch(self, images):
        means = np.stack([img.reshape(-1, 3).mean(axis=0) for img in images]) / 255.0
        return l2_normalize(means - 0.45)

    def encode_texts(self, texts):
        out = []
        for text in texts:
            words = [COLORS[w] for w in text.lower().replace("?", " ").split() if w in COLORS]
            vec = np.mean(words, axis=0) / 255.0 - 0.45 if words else np.ones(3)
            out.append(vec)
        return l2_normalize(np.stack(out))


@pytest.fixture
def color_encoder() -> ColorEncoder:
    return ColorEncoder()


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    from hfs.student import build_tiny_qwen2

    return build_tiny_qwen2(tmp_path_factory.mktemp("models") / "tiny-qwen2", seed=0)


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory) -> Path:
    from hfs.reasoning import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("models") / "tiny-qwen2-vl", seed=0)
