"""A small real OpenAI-compatible VLM server for the ``hfs serve`` tests: FastAPI on a loopback
port, running a tiny random Qwen2.5-VL through transformers on the images it is sent.

``transformers serve`` cannot stand in for it in the main environment: it loads the model's whole
processor, whose Qwen2.5-VL video processor needs torchvision, which only the ``lmms`` extra brings
(tests/test_serve.py runs it there, marked ``lmms``). This one
reads images (``image_url`` data URLs) and vLLM's JPEG-sequence videos the way vLLM does
(``media_io_kwargs.video.num_frames``; see tests/test_export.py), answers with greedy decoding,
streams when asked, and records every request it receives with the frames it decoded.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from PIL import Image

MODEL_ID = "tiny-qwen2.5-vl"


def _image(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64, validate=True))).convert("RGB"))


@dataclass
class Received:
    """One request as the upstream got it: its body and the frames it decoded from it."""

    body: dict[str, Any]
    frames: list[np.ndarray] = field(default_factory=list)
    authorization: str | None = None


class TinyVLM:
    """The model, its tokenizer and image processor, answering one chat at a time."""

    def __init__(self, model_dir) -> None:
        from transformers import AutoModelForImageTextToText, AutoTokenizer, Qwen2VLImageProcessorPil

        self.model = AutoModelForImageTextToText.from_pretrained(model_dir, local_files_only=True).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.images = Qwen2VLImageProcessorPil.from_pretrained(model_dir, local_files_only=True)
        self.image_token = self.model.config.image_token_id
        self.lock = threading.Lock()

    def read(self, body: dict[str, Any]) -> tuple[str, list[np.ndarray]]:
        """The prompt text (one image placeholder per frame) and the frames of the last user message."""
        message = [m for m in body["messages"] if m["role"] == "user"][-1]
        content = message["content"]
        if isinstance(content, str):
            return content, []
        text, frames = "", []
        for part in content:
            if part["type"] == "text":
                text += part["text"] + "\n"
            elif part["type"] == "image_url":
                frames.append(_image(part["image_url"]["url"].split(",", 1)[1]))
                text += "<|vision_start|><|image_pad|><|vision_end|>"
            elif part["type"] == "video_url":
                header, data = part["video_url"]["url"].split(",", 1)
                assert header == "data:video/jpeg;base64"
                num = ((body.get("media_io_kwargs") or {}).get("video") or {}).get("num_frames", 32)
                chunks = data.split(",") if num == -1 else data.split(",", num)[:num]
                for chunk in chunks:
                    frames.append(_image(chunk))
                    text += "<|vision_start|><|image_pad|><|vision_end|>"
        return text, frames

    @torch.no_grad()
    def generate(self, text: str, frames: list[np.ndarray], max_tokens: int) -> list[str]:
        inputs: dict[str, Any] = {}
        if frames:
            pixels = self.images(images=frames, return_tensors="pt")
            counts = (pixels["image_grid_thw"].prod(-1) // self.images.merge_size**2).tolist()
            pieces = text.split("<|image_pad|>")
            text = "".join(p + "<|image_pad|>" * n for p, n in zip(pieces, counts)) + pieces[-1]
            inputs = {"pixel_values": pixels["pixel_values"], "image_grid_thw": pixels["image_grid_thw"]}
        prompt = f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
        with self.lock:
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                      min_new_tokens=max_tokens, do_sample=False,
                                      mm_token_type_ids=(ids == self.image_token).long(), **inputs)
        return [self.tokenizer.decode([t]) for t in out[0, ids.shape[1]:].tolist()]


def create_upstream(model_dir) -> tuple[FastAPI, list[Received]]:
    """The upstream app and the list it records requests in."""
    vlm = TinyVLM(model_dir)
    received: list[Received] = []
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "tests"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        text, frames = vlm.read(body)
        received.append(Received(body, frames, request.headers.get("authorization")))
        tokens = await asyncio.to_thread(vlm.generate, text, frames, int(body.get("max_tokens") or 4))
        base = {"id": f"chatcmpl-{len(received)}", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            return JSONResponse({**base, "object": "chat.completion", "choices": [{
                "index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "".join(tokens)}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": len(tokens), "total_tokens": 1 + len(tokens)}})

        def event(delta: dict[str, Any], finish: str | None = None) -> str:
            chunk = {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(chunk)}\n\n"

        async def events():
            yield event({"role": "assistant", "content": ""})
            for token in tokens:
                yield event({"content": token})
            yield event({}, "length")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app, received
