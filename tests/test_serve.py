"""``hfs serve`` end to end: the real ``openai`` client -> hfs serve (uvicorn on a loopback port)
-> a real OpenAI-compatible server running a tiny random Qwen2.5-VL: the tests' own
(tests/serve_upstream.py, which records what it receives), and, marked ``lmms`` (it needs
torchvision), ``transformers serve`` itself."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from serve_upstream import create_upstream

from hfs.cli import main
from hfs.reasoning.tiny import build_tiny_qwen2_5_vl
from hfs.serve import ServeConfig
from hfs.serve.app import create_app
from hfs.serve.background import BackgroundServer
from hfs.serve.frames import FrameEngine
from hfs.video.synth import Scene, read_counter, write_video

QUESTION = "When is the screen blue?"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The video root: two videos, a corrupt one, a symlink out; a secret file beside it."""
    base = tmp_path_factory.mktemp("serve")
    videos = base / "videos"
    videos.mkdir()
    write_video(videos / "rgb.mp4", [Scene("red", 4), Scene("blue", 4), Scene("green", 4)], fps=10, size=(128, 80),
                frame_counter=True)
    write_video(videos / "gby.mp4", [Scene("green", 3), Scene("blue", 3), Scene("yellow", 3)], fps=10, size=(128, 80),
                frame_counter=True)
    (videos / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video at all")
    (base / "secret.txt").write_text("do not read")
    (videos / "link.mp4").symlink_to(base / "secret.txt")
    return videos


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    app, received = create_upstream(build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("models") / "tiny-qwen2.5-vl"))
    server = BackgroundServer(app)
    yield server, received
    server.stop()


@contextmanager
def proxy(upstream_url: str, root: Path, encoder=None, **settings):
    """hfs serve in this process (so the test can count what the encoder embeds), on a loopback port."""
    from hfs.config import SelectConfig

    select = SelectConfig(k=settings.pop("k", 4), num_candidates=settings.pop("num_candidates", 24),
                          encoder="color-names", selector="topk")
    config = ServeConfig(upstream=upstream_url, video_root=str(root), select=select, **settings)
    engine = FrameEngine(config, encoder=encoder)
    server = BackgroundServer(create_app(config, engine=engine))
    try:
        yield server, engine
    finally:
        server.stop()


def free_port() -> int:
    """A loopback port nothing listens on (as of now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(proc: subprocess.Popen, port: int, what: str, seconds: float) -> None:
    """Until the server ``proc`` started answers GET /health on ``port``; it must not exit first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.2)


def video_message(url: str, question: str = QUESTION) -> list[dict]:
    return [{"role": "system", "content": "You answer questions about videos."},
            {"role": "user", "content": [{"type": "video_url", "video_url": {"url": url}},
                                         {"type": "text", "text": question}]}]


def mean_colour(frame: np.ndarray) -> str:
    r, g, b = frame.reshape(-1, 3).mean(0)
    return {0: "red", 1: "green", 2: "blue"}[int(np.argmax([r, g, b]))] if min(r, g, b) < 100 else "yellow"


def test_the_answer_comes_back_from_k_frames_chosen_for_the_question(upstream, root, counting_encoder):
    server, received = upstream
    encoder = counting_encoder()
    with proxy(server.url, root, encoder=encoder) as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        for question, colour, span in [(QUESTION, "blue", (4, 8)), ("When is the screen green?", "green", (8, 12))]:
            received.clear()
            answer = client.chat.completions.create(
                model="tiny-qwen2.5-vl", messages=video_message("rgb.mp4", question), max_tokens=3, temperature=0.0,
                extra_body={"seed": 7})
            assert answer.choices[0].message.content  # the upstream's own answer
            (got,) = received
            # exactly k frames, the ones that answer this question, with their times
            assert len(got.frames) == 4 and {mean_colour(f) for f in got.frames} == {colour}
            chosen = answer.model_extra["hfs"]["frames"]
            assert [read_counter(f) for f in got.frames] == [f["frame_index"] for f in chosen]
            assert all(span[0] <= f["time"] < span[1] for f in chosen)
            # the rest of the request as the client sent it
            body = got.body
            sent = (body["model"], body["max_tokens"], body["temperature"], body["seed"])
            assert sent == ("tiny-qwen2.5-vl", 3, 0.0, 7)
            assert body["messages"][0] == {"role": "system", "content": "You answer questions about videos."}
            parts = body["messages"][1]["content"]
            assert [p["type"] for p in parts] == ["text", "image_url"] * 4 + ["text"]
            assert parts[0]["text"].startswith("Frame 1 at 00:0") and parts[-1] == {"type": "text", "text": question}
    assert encoder.frames == 24  # the second question read the embeddings the first one stored


def test_streaming_passes_the_upstreams_answer_through(upstream, root):
    server, received = upstream
    with proxy(server.url, root) as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        chunks = list(client.chat.completions.create(model="m", messages=video_message("rgb.mp4"), max_tokens=4,
                                                     stream=True))
    assert len(chunks) == 6  # role, 4 tokens, finish
    assert [c.choices[0].finish_reason for c in chunks][-1] == "length"
    assert sum(1 for c in chunks if c.choices[0].delta.content) >= 1
    assert all(4 <= f["time"] < 8 for f in chunks[0].model_extra["hfs"]["frames"])
    assert received[-1].body["stream"] is True and len(received[-1].frames) == 4


def test_vllm_format_sends_every_frame_with_its_metadata(upstream, root):
    server, received = upstream
    with proxy(server.url, root, num_candidates=48, upstream_format="vllm") as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        # the request's own budget, past the 32 frames vLLM's loader keeps unless told otherwise
        answer = client.chat.completions.create(model="m", messages=video_message("gby.mp4"), max_tokens=1,
                                                extra_body={"hfs": {"k": 40}})
    got = received[-1]
    video = got.body["media_io_kwargs"]["video"]
    assert len(got.frames) == 40 and video["num_frames"] == -1 and video["do_sample_frames"] is False
    assert video["frames_indices"] == [read_counter(f) for f in got.frames]
    assert (video["fps"], video["total_num_frames"], video["duration"]) == (10.0, 90, 9.0)
    assert "hfs" not in got.body and answer.model_extra["hfs"]["k"] == 40
    assert [mean_colour(f) for f in got.frames].count("blue") == 16  # every blue candidate (3 s of 9, of 48)


def test_requests_without_a_video_pass_through_untouched(upstream, root):
    server, received = upstream
    with proxy(server.url, root) as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        messages = [{"role": "user", "content": "hello"}]
        answer = client.chat.completions.create(model="m", messages=messages, max_tokens=2, top_p=0.5)
        assert [m.id for m in client.models.list()] == ["tiny-qwen2.5-vl"]  # passed through
    assert received[-1].body == {"model": "m", "messages": messages, "max_tokens": 2, "top_p": 0.5}
    assert received[-1].authorization == "Bearer unused"  # hfs asks no key: the client's goes on
    assert "hfs" not in answer.model_extra


def _refusal(call) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as info:
        call()
    return info.value


def test_keys_path_escapes_and_urls_are_refused(upstream, root):
    server, received = upstream
    with proxy(server.url, root, api_key="s3cret", max_request_bytes=64 * 1024) as (hfs_serve, _):
        ask = lambda client, url, **kw: client.chat.completions.create(  # noqa: E731
            model="m", messages=video_message(url), max_tokens=1, **kw)
        keyless = OpenAI(base_url=hfs_serve.url, api_key="wrong", max_retries=0)
        error = _refusal(lambda: ask(keyless, "rgb.mp4"))
        assert error.status_code == 401 and error.body["code"] == "invalid_api_key"
        assert httpx.get(hfs_serve.url.removesuffix("/v1") + "/health").json()["status"] == "ok"
        missing = httpx.get(hfs_serve.url + "/embeddings")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"

        client = OpenAI(base_url=hfs_serve.url, api_key="s3cret", max_retries=0)
        received.clear()
        for url in ["../secret.txt", "file:///etc/passwd", "/etc/passwd", "link.mp4", f"file://{root}/../secret.txt",
                    "sub/../../secret.txt"]:
            error = _refusal(lambda: ask(client, url))
            assert error.status_code == 403, url
            assert error.body["code"] == "video_outside_root" and "outside the video root" in error.body["message"]
        for url, status, code in [("https://example.com/v.mp4", 403, "url_not_allowed"),
                                  ("missing.mp4", 404, "video_not_found"),
                                  ("data:video/mp4;base64,AAAA", 400, "invalid_video_url")]:
            error = _refusal(lambda: ask(client, url))
            assert (error.status_code, error.body["code"]) == (status, code), url
        error = _refusal(lambda: ask(client, "rgb.mp4", extra_body={"hfs": {"k": 65}}))
        assert error.status_code == 400 and "--max-k" in error.body["message"]
        big = [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "rgb.mp4"}},
                                            {"type": "text", "text": "x" * 70_000}]}]
        error = _refusal(lambda: client.chat.completions.create(model="m", messages=big))
        assert error.status_code == 413
        assert received == []  # nothing refused reached the upstream
        ask(client, "rgb.mp4")
        assert received[-1].authorization is None  # the client's key for hfs stays with hfs
    with proxy(server.url, root, upstream_api_key="up-key") as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="client-key", max_retries=0)
        ask(client, "rgb.mp4")
        assert received[-1].authorization == "Bearer up-key"


def test_a_bad_video_gives_the_line_hfs_select_gives(upstream, root, capsys):
    server, _ = upstream
    with proxy(server.url, root) as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        error = _refusal(lambda: client.chat.completions.create(model="m", messages=video_message("broken.mp4")))
    assert main(["select", str(root / "broken.mp4"), "-q", QUESTION, "--encoder", "color-names"]) == 1
    assert error.status_code == 400 and error.body["message"] == capsys.readouterr().err.strip()


def test_an_upstream_that_is_down_is_a_502_naming_it(root):
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with proxy(dead, root) as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        error = _refusal(lambda: client.chat.completions.create(model="m", messages=video_message("rgb.mp4")))
    assert error.status_code == 502 and error.body["message"].startswith(f"upstream {dead} failed")


def test_concurrent_requests_embed_each_video_once(upstream, root, counting_encoder):
    server, received = upstream
    encoder = counting_encoder()
    with proxy(server.url, root, encoder=encoder, workers=4) as (hfs_serve, engine):
        client = AsyncOpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        questions = [QUESTION, "When is the screen green?", "Is there red?", "Is there yellow?"]

        async def ask_all():
            return await asyncio.gather(*[
                client.chat.completions.create(model="m", messages=video_message(video, q), max_tokens=1)
                for video in ("rgb.mp4", "gby.mp4") for q in questions])

        received.clear()
        answers = asyncio.run(ask_all())
    assert len(answers) == 8 and len(received) == 8
    assert encoder.frames == 2 * 24  # 24 candidates of each video, embedded once
    videos = [a.model_extra["hfs"]["video"] for a in answers]
    assert videos.count("rgb.mp4") == videos.count("gby.mp4") == 4


def test_the_hfs_serve_command(upstream, root, tmp_path):
    server, _ = upstream
    port = free_port()
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "hfs.cli", "serve", "--upstream", server.url, "--port", str(port), "--video-root",
           str(root), "--encoder", "color-names", "-k", "3", "-n", "12", "--api-key", "k3y", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_healthy(proc, port, "hfs serve", 60)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k3y", max_retries=0)
        answer = client.chat.completions.create(model="m", messages=video_message(f"file://{root}/rgb.mp4"),
                                                max_tokens=1)
        assert len(answer.model_extra["hfs"]["frames"]) == 3
        error = _refusal(lambda: OpenAI(base_url=client.base_url, api_key="nope", max_retries=0).models.list())
        assert error.status_code == 401
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/v1 -> {server.url}" in err and "a bearer key required" in err


def test_serve_flags_are_checked(capsys):
    assert main(["serve", "--upstream", "ftp://x", "--encoder", "color-names"]) == 1
    expected = "hfs: error: --upstream: must be an http:// or https:// URL, got 'ftp://x'"
    assert capsys.readouterr().err.strip() == expected
    assert main(["serve", "--upstream", "http://x/v1", "--video-root", "/nonexistent-dir"]) == 1
    assert "--video-root /nonexistent-dir: not a folder" in capsys.readouterr().err


def test_selection_runs_off_the_event_loop_within_its_time_limit(upstream, root):
    """While one request's frames are being embedded, the server still answers; a selection past
    --select-timeout is a 504, and the video's lock is held until that work ends."""
    from hfs.encoders.color import ColorNamesEncoder

    entered, release = threading.Event(), threading.Event()

    class StuckEncoder(ColorNamesEncoder):
        def encode_image_batch(self, images):
            entered.set()
            release.wait(60)
            return super().encode_image_batch(images)

    server, _ = upstream
    with proxy(server.url, root, encoder=StuckEncoder(), select_timeout=1.0) as (hfs_serve, _):
        client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
        outcome: list = []
        asking = threading.Thread(target=lambda: outcome.append(
            _refusal(lambda: client.chat.completions.create(model="m", messages=video_message("rgb.mp4")))))
        asking.start()
        assert entered.wait(60)
        health = httpx.get(hfs_serve.url.removesuffix("/v1") + "/health", timeout=30)  # the loop is free
        asking.join(60)
        release.set()
    assert health.json()["status"] == "ok"
    (error,) = outcome
    assert error.status_code == 504 and "--select-timeout" in error.body["message"]


def test_urls_are_fetched_only_with_allow_url_and_within_the_size_limit(upstream, root):
    from fastapi import FastAPI
    from fastapi.responses import FileResponse

    files = FastAPI()
    files.get("/rgb.mp4")(lambda: FileResponse(root / "rgb.mp4"))
    server, received = upstream
    with BackgroundServer(files) as host:
        url = f"http://127.0.0.1:{host.port}/rgb.mp4"
        with proxy(server.url, root, allow_url=True) as (hfs_serve, _):
            client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
            answer = client.chat.completions.create(model="m", messages=video_message(url), max_tokens=1)
            error = _refusal(lambda: client.chat.completions.create(
                model="m", messages=video_message(url.replace("rgb", "none")), max_tokens=1))
        assert {mean_colour(f) for f in received[-1].frames} == {"blue"}
        assert answer.model_extra["hfs"]["video"] == url
        assert error.status_code == 400 and "answered 404" in error.body["message"]
        with proxy(server.url, root, allow_url=True, max_video_bytes=4096) as (hfs_serve, _):
            client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
            error = _refusal(lambda: client.chat.completions.create(model="m", messages=video_message(url)))
        assert error.status_code == 413 and "--max-video-bytes" in error.body["message"]


@pytest.mark.lmms  # transformers serve loads the whole Qwen2.5-VL processor, whose video processor needs torchvision
def test_in_front_of_transformers_serve(root, tmp_path):
    from hfs.integrations.lmms.tiny import build_tiny_qwen2_5_vl as build_full_qwen2_5_vl  # the whole processor

    model = build_full_qwen2_5_vl(tmp_path / "tiny-qwen2.5-vl")
    port = free_port()
    cli = Path(sys.executable).with_name("transformers")  # its own console script
    proc = subprocess.Popen([str(cli), "serve", str(model), "--port", str(port), "--device", "cpu"],
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until_healthy(proc, port, "transformers serve", 120)
        with proxy(f"http://127.0.0.1:{port}/v1", root) as (hfs_serve, _):
            client = OpenAI(base_url=hfs_serve.url, api_key="unused", max_retries=0)
            usage = {}
            for k in (2, 4):
                answer = client.chat.completions.create(model=str(model), messages=video_message("rgb.mp4"),
                                                        max_tokens=3, extra_body={"hfs": {"k": k}})
                assert answer.choices[0].message.content is not None
                assert all(4 <= f["time"] < 8 for f in answer.model_extra["hfs"]["frames"])
                usage[k] = answer.usage.prompt_tokens
            chunks = list(client.chat.completions.create(model=str(model), messages=video_message("rgb.mp4"),
                                                         max_tokens=3, stream=True))
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    # two more frames: two more images' tokens and their two "Frame i at" lines in the prompt
    assert usage[4] > usage[2] + 2
    assert chunks and chunks[0].model_extra["hfs"]["k"] == 4
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_student_checkpoint_brings_its_own_encoder(tiny_qwen_dir, tiny_clip_dir, tmp_path):
    from hfs.config import SelectConfig
    from hfs.student import HFSSelector, StudentConfig

    path = HFSSelector(StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=16, encoder=str(tiny_clip_dir))
                       ).save_pretrained(tmp_path / "student")
    config = ServeConfig(upstream="http://127.0.0.1:9/v1", select=SelectConfig(checkpoint=str(path)))
    engine = FrameEngine(config)
    try:
        assert engine.encoder.name == str(tiny_clip_dir) and engine.encoder.dim == 16
    finally:
        engine.close()
