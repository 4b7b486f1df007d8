"""The ``hfs serve`` application (FastAPI): ``POST /v1/chat/completions`` with frames chosen for the
question, ``GET /v1/models`` passed through, ``GET /health``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hfs.serve.chat import HFS_FIELD, VideoQuestion, find_video, with_frames
from hfs.serve.config import ServeConfig
from hfs.serve.errors import ServeError
from hfs.serve.frames import Chosen, FrameEngine
from hfs.serve.remote import RemoteVideos
from hfs.serve.security import check_key, is_remote_url, local_video
from hfs.serve.upstream import Upstream

# response headers of the upstream that do not describe the body hfs sends on
_DROP = {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date", "server"}


def create_app(config: ServeConfig, engine: FrameEngine | None = None, upstream: Upstream | None = None) -> FastAPI:
    """The proxy for ``config``; ``engine`` and ``upstream`` default to ones built from it."""
    engine = engine or FrameEngine(config)
    upstream = upstream or Upstream(config.upstream_base, config.upstream_api_key, config.upstream_timeout)
    remote = RemoteVideos(config.max_video_bytes, config.upstream_timeout) if config.allow_url else None
    root = Path(config.video_root).resolve()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await upstream.aclose()
        if remote is not None:
            await remote.aclose()
        engine.close()

    app = FastAPI(title="hfs serve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine, app.state.upstream, app.state.config = engine, upstream, config

    @app.exception_handler(ServeError)
    async def refused(request: Request, exc: ServeError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def no_route(request: Request, exc: StarletteHTTPException) -> JSONResponse:  # 404, 405: OpenAI-style too
        error = ServeError(exc.status_code, f"hfs serve: {request.method} {request.url.path}: {exc.detail}",
                           code="not_found" if exc.status_code == 404 else None)
        return JSONResponse(error.body(), status_code=exc.status_code)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "upstream": upstream.base, "encoder": engine.encoder.name}

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        check_key(request.headers.get("authorization"), config.api_key)
        answer = await upstream.get("/models", upstream.headers(dict(request.headers), config.api_key is None))
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type", "application/json"))

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        check_key(request.headers.get("authorization"), config.api_key)
        raw = await _read_body(request, config.max_request_bytes)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ServeError(400, f"the request body is not JSON ({exc})", code="invalid_json") from None
        headers = upstream.headers(dict(request.headers), config.api_key is None)
        where = find_video(body, config.max_k)
        if where is None:  # no video: the request goes on untouched (less hfs's own options)
            return await _forward(upstream, {k: v for k, v in body.items() if k != HFS_FIELD}, headers, None)
        path = await remote.get(where.url) if remote is not None and is_remote_url(where.url) else _local(where.url)
        chosen = await engine.choose(path, where.question, where.options, where.k)
        forwarded = with_frames(body, where, *_frame_parts(chosen, config.upstream_format))
        return await _forward(upstream, forwarded, headers, _report(where, chosen))

    def _local(url: str) -> Path:
        if is_remote_url(url):
            raise ServeError(403, "hfs serve fetches no URL unless started with --allow-url", code="url_not_allowed",
                             param="video_url")
        return local_video(url, root)

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    """The request's body; 413 as soon as it passes ``limit`` bytes (declared or sent)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ServeError:
    return ServeError(413, f"the request is larger than {limit} bytes (--max-request-bytes)", code="request_too_large")


def _frame_parts(chosen: Chosen, fmt: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The content parts that replace the video, and (vLLM) the request's media_io_kwargs."""
    from hfs.export import frame_times_text, openai_content, vllm_video

    sel = chosen.selection
    if fmt == "vllm":
        part, media_io_kwargs = vllm_video(sel, jpegs=chosen.jpegs)
        return [part, {"type": "text", "text": frame_times_text(sel)}], media_io_kwargs
    return openai_content(sel, include_question=False, jpegs=chosen.jpegs), None


def _report(where: VideoQuestion, chosen: Chosen) -> dict[str, Any]:
    """The response's ``hfs`` field: the frames chosen (candidate index, time, score, and index
    in the source video), for clients to show."""
    from hfs.export import video_metadata

    sel = chosen.selection
    source = video_metadata(sel)["frame_indices"]
    frames = [{**frame, "frame_index": index} for frame, index in zip(sel.frames, source)]
    return {"video": where.url, "question": where.question, "options": where.options, "k": sel.k,
            "selector": sel.selector, "encoder": sel.encoder, "num_candidates": sel.num_candidates,
            "frames": frames, "seconds": round(chosen.seconds, 4), "cached": bool(sel.cached)}


async def _forward(upstream: Upstream, body: dict[str, Any], headers: dict[str, str],
                   report: dict[str, Any] | None) -> Response:
    response = await upstream.open("/chat/completions", body, headers)
    kept = {k: v for k, v in response.headers.items() if k.lower() not in _DROP}
    if body.get("stream") and response.status_code == 200:
        chunks = upstream.stream(response)
        return StreamingResponse(_with_report(chunks, report) if report else chunks, status_code=200,
                                 headers=kept, media_type=response.headers.get("content-type", "text/event-stream"))
    content = await response.aread()
    await response.aclose()
    if report is not None and response.status_code == 200:
        try:
            answer = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            answer = None
        if isinstance(answer, dict):
            answer[HFS_FIELD] = report
            content = json.dumps(answer).encode()
    return Response(content, status_code=response.status_code, headers=kept,
                    media_type=response.headers.get("content-type", "application/json"))


async def _with_report(chunks: AsyncIterator[bytes], report: dict[str, Any]) -> AsyncIterator[bytes]:
    """The upstream's server-sent events with ``report`` added to the first chunk object."""
    buffer, done = b"", False
    async for chunk in chunks:
        if done:
            yield chunk
            continue
        buffer += chunk
        end = buffer.find(b"\n\n")
        if end < 0:
            continue
        event, rest = buffer[:end], buffer[end:]
        yield _add_report(event, report) + rest
        done = True
    if not done and buffer:
        yield buffer


def _add_report(event: bytes, report: dict[str, Any]) -> bytes:
    lines = event.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"data:"):
            try:
                data = json.loads(line[5:])
            except json.JSONDecodeError:
                return event
            if isinstance(data, dict):
                data[HFS_FIELD] = report
                lines[i] = b"data: " + json.dumps(data).encode()
            return b"\n".join(lines)
    return event
