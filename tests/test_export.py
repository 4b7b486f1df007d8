"""Frames for serving stacks: OpenAI-style content lists and vLLM's JPEG-sequence video."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from pydantic import TypeAdapter

import hfs
from hfs.cli import main
from hfs.errors import InputError
from hfs.export import export, openai_content, video_metadata, vllm_request, vllm_video
from hfs.video.synth import read_counter


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


def vllm_split(body: dict) -> tuple[list[np.ndarray], dict]:
    """The frames and metadata vLLM's JPEG-sequence loader takes from a request body: it keeps the
    first ``num_frames`` parts (32 unless the request says; -1: all) and reads the rest of
    ``media_io_kwargs.video`` as the frames' metadata (vllm-project/vllm 055e47c,
    vllm/frontend/processing/multimodal/media/video.py, VideoMediaIO.load_base64)."""
    (video,) = [p for p in body["messages"][0]["content"] if p["type"] == "video_url"]
    header, data = video["video_url"]["url"].split(",", 1)
    assert header == "data:video/jpeg;base64"
    kwargs = body["media_io_kwargs"]["video"]
    num_frames = kwargs.get("num_frames", 32)
    parts = data.split(",") if num_frames == -1 else data.split(",", num_frames)[:num_frames]
    return [_decode_jpeg(p) for p in parts], kwargs


def test_vllm_request_follows_vllms_request_contract(selection):
    body = vllm_request(selection, short_side=48)
    assert set(body) == {"messages", "media_io_kwargs"}  # nothing vLLM would ignore
    frames, kwargs = vllm_split(body)
    assert len(frames) == 3 and all(min(f.shape[:2]) == 48 for f in frames)
    indices = [round(t * 10) for t in selection.times.tolist()]
    assert kwargs == {"num_frames": -1, "fps": pytest.approx(10.0), "frames_indices": indices,
                      "total_num_frames": 120, "duration": pytest.approx(12.0), "do_sample_frames": False}
    assert all(isinstance(i, int) for i in kwargs["frames_indices"])  # vLLM refuses anything else
    # the pictures sent are the blue frames chosen, at those indices
    assert all(40 <= i < 80 for i in indices)
    assert all(f.reshape(-1, 3).mean(0)[2] > 150 for f in frames)
    texts = [p["text"] for p in body["messages"][0]["content"] if p["type"] == "text"]
    assert texts[0].startswith("The video's 3 frames are taken at ") and texts[1].startswith("Question: a blue")
    json.dumps(body, allow_nan=False)


def test_vllm_request_keeps_every_frame_past_32(three_scene_video, color_encoder):
    sel = hfs.select(three_scene_video, "a green screen", k=40, num_candidates=60, selector="uniform",
                     encoder=color_encoder, use_cache=False)
    frames, kwargs = vllm_split(vllm_request(sel, short_side=80))  # the original size: counters readable
    assert len(frames) == 40 == len(kwargs["frames_indices"])
    # each frame carries its own index drawn in it: the 40th picture is the 40th frame chosen
    assert [read_counter(f) for f in frames[-3:]] == kwargs["frames_indices"][-3:]


def test_frame_indices_stay_inside_the_video():
    sel = hfs.Selection(indices=np.array([0, 1]), times=np.array([0.0, 9.99]), scores=np.zeros(2), objective={},
                        selector="uniform", k=2, info={"fps": 10.0, "duration": 10.0, "num_frames": 100})
    assert video_metadata(sel)["frame_indices"] == [0, 99] == sel.frame_numbers
    # a frame count nowhere known: the numbers are not capped (all 0 before), and vLLM's total covers them
    unknown = hfs.Selection(indices=np.array([0, 1]), times=np.array([0.0, 9.99]), scores=np.zeros(2), objective={},
                            selector="uniform", k=2, info={"fps": 10.0})
    assert video_metadata(unknown)["frame_indices"] == [0, 100] == unknown.frame_numbers
    assert vllm_video(unknown, jpegs=["a", "b"])[1]["video"]["total_num_frames"] == 101


def test_cli_format_openai_and_vllm(three_scene_video, capsys):
    args = ["select", str(three_scene_video), "-q", "a green screen", "-k", "2", "-n", "12",
            "--encoder", "color-names", "--selector", "topk", "--no-cache"]
    assert main([*args, "--format", "openai"]) == 0
    parts = json.loads(capsys.readouterr().out)
    assert [p["type"] for p in parts] == ["text", "image_url", "text", "image_url", "text"]
    assert main([*args, "--format", "vllm"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert all(80 <= i < 120 for i in body["media_io_kwargs"]["video"]["frames_indices"])


def test_cli_refuses_format_with_json(three_scene_video, capsys):
    args = ["select", str(three_scene_video), "-q", "a green screen", "-k", "2", "--encoder", "color-names"]
    assert main([*args, "--json", "--format", "vllm"]) == 1
    expected = "hfs: error: --json and --format vllm ask for two outputs; give one of them"
    assert capsys.readouterr().err.strip() == expected


def test_unknown_format_and_missing_video_are_hfs_errors(selection):
    with pytest.raises(InputError, match="unknown export format"):
        export(selection, "mp4")
    selection.video = None
    with pytest.raises(InputError, match="which video"):
        openai_content(selection)


def _tiny_processor(family: str):
    """Qwen2.5-VL's or Qwen3-VL's own processor (tokenizer, image and video processor), small pixels."""
    from transformers import (Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor, Qwen3VLProcessor,
                              Qwen3VLVideoProcessor)

    from hfs.reasoning.tiny import _SPECIALS, _tokenizer

    tokenizer = _tokenizer(_SPECIALS)[0]
    if family == "qwen2_5_vl":
        pixels = dict(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16, patch_size=14, merge_size=2,
                      temporal_patch_size=2)
        return Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(**pixels), tokenizer=tokenizer,
                                   video_processor=Qwen2VLVideoProcessor(**pixels))
    size = {"shortest_edge": 32 * 32 * 4, "longest_edge": 32 * 32 * 16}
    return Qwen3VLProcessor(image_processor=Qwen2VLImageProcessor(patch_size=16, merge_size=2, size=size),
                            tokenizer=tokenizer, video_processor=Qwen3VLVideoProcessor(size=size))


def _as_vllm_calls_the_processor(processor, body: dict):
    """What vLLM's Qwen-VL models do with a JPEG-sequence video: its frames and metadata to the
    Hugging Face processor, ``do_sample_frames`` taken from the metadata."""
    from transformers.video_utils import VideoMetadata

    frames, kwargs = vllm_split(body)
    meta = {k: v for k, v in kwargs.items() if k not in ("num_frames", "do_sample_frames")}
    text = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>question<|im_end|>"
    return processor(text=[text], videos=[np.stack(frames)], video_metadata=[VideoMetadata(**meta)],
                     do_sample_frames=kwargs["do_sample_frames"], return_tensors="pt")


@pytest.mark.lmms  # the video processors need torchvision (the lmms extra)
@pytest.mark.parametrize("k", [4, 40])
def test_qwen3_vl_writes_the_chosen_frames_times(three_scene_video, color_encoder, k):
    sel = hfs.select(three_scene_video, "a green screen", k=k, num_candidates=60, selector="greedy",
                     encoder=color_encoder, use_cache=False)
    processor = _tiny_processor("qwen3_vl")
    out = _as_vllm_calls_the_processor(processor, vllm_request(sel, short_side=64))
    assert int(out["video_grid_thw"][0][0]) == k // 2  # every frame reached the model, none sampled away
    prompt = processor.tokenizer.decode(out["input_ids"][0])
    stamps = [float(s) for s in re.findall(r"<([0-9.]+) seconds>", prompt)]
    # two frames make one temporal patch; Qwen3-VL stamps it with their mean time
    times = sel.times.tolist()
    expected = [(times[i] + times[i + 1]) / 2 for i in range(0, k, 2)]
    assert stamps == pytest.approx(expected, abs=0.1)


@pytest.mark.lmms
def test_qwen2_5_vl_gets_the_stated_rate(three_scene_video, color_encoder):
    sel = hfs.select(three_scene_video, "a green screen", k=6, num_candidates=24, selector="greedy",
                     encoder=color_encoder, use_cache=False)
    out = _as_vllm_calls_the_processor(_tiny_processor("qwen2_5_vl"), vllm_request(sel, short_side=56))
    assert int(out["video_grid_thw"][0][0]) == 3
    # 6 frames over the 12 s video: 0.5 frames a second, so a temporal patch of 2 frames spans 4 s
    assert [float(s) for s in out["second_per_grid_ts"]] == [pytest.approx(2 / (6 / 12))]
