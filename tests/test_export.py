"""Frames for serving stacks: OpenAI-style content lists and vLLM's JPEG-sequence video."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from pydantic import TypeAdapter

import hfs
from hfs.cli import main
from hfs.errors import InputError
from hfs.export import export, openai_content, video_metadata, vllm_request


def _decode_jpeg(b64: str) -> np.ndarray:
    image = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    assert image.format == "JPEG"
    return np.asarray(image.convert("RGB"))


@pytest.fixture
def selection(three_scene_video, color_encoder):
    # red 0-4 s, blue 4-8 s, green 8-12 s at 10 fps
    return hfs.select(three_scene_video, "a blue screen", options=["red", "blue"], k=3, num_candidates=24,
                      selector="topk", encoder=color_encoder, use_cache=False)


def test_openai_content_validates_against_the_openai_schema(selection):
    from openai.types.chat import ChatCompletionUserMessageParam

    content = openai_content(selection, short_side=64)
    message = TypeAdapter(ChatCompletionUserMessageParam).validate_python({"role": "user", "content": content})
    assert len(list(message["content"])) == 2 * 3 + 1  # iterating validates each part
    texts, images = content[0:6:2], content[1:6:2]
    for i, (text, part, t) in enumerate(zip(texts, images, selection.times.tolist())):
        assert text == {"type": "text", "text": f"Frame {i + 1} at {hfs.report.timefmt.format_time(t)}:"}
        url = part["image_url"]["url"]
        assert url.startswith("data:image/jpeg;base64,")
        pixels = _decode_jpeg(url.split(",", 1)[1])
        assert min(pixels.shape[:2]) == 64
        # the chosen frames are the blue ones, and the pictures show blue
        assert 4 <= t < 8
        r, g, b = pixels.reshape(-1, 3).mean(0)
        assert b > 150 and r < 80 and g < 80
    assert content[-1]["text"].startswith("Question: a blue screen") and "B. blue" in content[-1]["text"]


def test_vllm_request_carries_the_frames_and_their_metadata(selection):
    body = vllm_request(selection, short_side=48)
    content = body["messages"][0]["content"]
    video = content[0]
    assert video["type"] == "video_url"
    header, frames = video["video_url"]["url"].split(",", 1)
    assert header == "data:video/jpeg;base64"
    decoded = [_decode_jpeg(f) for f in frames.split(",")]  # how vLLM splits a JPEG sequence
    assert len(decoded) == 3 and all(min(f.shape[:2]) == 48 for f in decoded)
    meta = body["hfs"]
    assert meta["times"] == [round(t, 4) for t in selection.times.tolist()]
    assert meta["fps"] == pytest.approx(10.0) and meta["duration"] == pytest.approx(12.0)
    assert meta["frame_indices"] == [round(t * 10) for t in selection.times.tolist()]
    assert meta["frame_indices"] == sorted(set(meta["frame_indices"]))
    assert body["mm_processor_kwargs"] == {"fps": pytest.approx(3 / 12.0), "do_sample_frames": False}
    json.dumps(body, allow_nan=False)


def test_frame_indices_stay_inside_the_video():
    sel = hfs.Selection(indices=np.array([0, 1]), times=np.array([0.0, 9.99]), scores=np.zeros(2), objective={},
                        selector="uniform", k=2, info={"fps": 10.0, "duration": 10.0, "num_frames": 100})
    assert video_metadata(sel)["frame_indices"] == [0, 99]


def test_cli_format_openai_and_vllm(three_scene_video, capsys):
    args = ["select", str(three_scene_video), "-q", "a green screen", "-k", "2", "-n", "12",
            "--encoder", "color-names", "--selector", "topk", "--no-cache"]
    assert main([*args, "--format", "openai"]) == 0
    parts = json.loads(capsys.readouterr().out)
    assert [p["type"] for p in parts] == ["text", "image_url", "text", "image_url", "text"]
    assert main([*args, "--format", "vllm"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert all(8 <= t < 12 for t in body["hfs"]["times"])


def test_unknown_format_and_missing_video_are_hfs_errors(selection):
    with pytest.raises(InputError, match="unknown export format"):
        export(selection, "mp4")
    selection.video = None
    with pytest.raises(InputError, match="which video"):
        openai_content(selection)
