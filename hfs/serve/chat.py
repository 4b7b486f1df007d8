"""A chat-completions request as ``hfs serve`` reads it: the video a user message asks about, the
question and its lettered options; and the same request with the video replaced by frames."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from hfs.data.instruct import split_options
from hfs.serve.errors import ServeError

HFS_FIELD = "hfs"  # the request's own hfs options ({"k": ...}), and the response's chosen frames


@dataclass
class VideoQuestion:
    """Where the video part sits in the request, its URL, and the question asked about it."""

    message: int  # index in "messages"
    part: int  # index in that message's "content"
    url: str
    question: str
    options: list[str] = field(default_factory=list)
    k: int | None = None  # the request's own budget, if it gave one


def _bad(message: str, param: str | None = None) -> ServeError:
    return ServeError(400, message, code="invalid_request", param=param)


def find_video(body: Any, max_k: int) -> VideoQuestion | None:
    """The video part of the request's user messages and the question (the message's text), or
    None when no message holds a video. More than one video, a video without a question, or bad
    ``hfs`` options are 400."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _bad("'messages' must be a list", "messages")
    found: list[tuple[int, int, str]] = []
    for m, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for p, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") == "video_url":
                url = (part.get("video_url") or {}).get("url") if isinstance(part.get("video_url"), dict) else None
                if not isinstance(url, str) or not url.strip():
                    raise _bad(f"messages[{m}].content[{p}]: a video_url part needs video_url.url",
                               f"messages[{m}].content[{p}]")
                if message.get("role") != "user":
                    raise _bad(f"messages[{m}]: videos are read from user messages only", f"messages[{m}]")
                found.append((m, p, url.strip()))
    if not found:
        return None
    if len(found) > 1:
        raise _bad(f"the request holds {len(found)} videos; hfs serve chooses frames for one video a request",
                   "messages")
    m, p, url = found[0]
    text = "\n".join(part["text"] for part in messages[m]["content"]
                     if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str))
    question, options = split_options(text)
    if not question.strip():
        raise _bad(f"messages[{m}]: the message with the video needs the question as text", f"messages[{m}]")
    return VideoQuestion(m, p, url, question, options, _requested_k(body.get(HFS_FIELD), max_k))


def _requested_k(options: Any, max_k: int) -> int | None:
    if options is None:
        return None
    if not isinstance(options, dict) or set(options) - {"k"}:
        raise _bad(f"'{HFS_FIELD}' takes only {{\"k\": frames}}", HFS_FIELD)
    k = options.get("k")
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= max_k:
        raise _bad(f"{HFS_FIELD}.k must be an integer from 1 to {max_k} (--max-k), got {k!r}", f"{HFS_FIELD}.k")
    return k


def with_frames(body: dict[str, Any], where: VideoQuestion, parts: list[dict[str, Any]],
                media_io_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """``body`` with the video part replaced by ``parts``, ``media_io_kwargs`` merged in (vLLM), and
    hfs's own options dropped; everything else as the client sent it."""
    out = {key: value for key, value in body.items() if key != HFS_FIELD}
    out["messages"] = list(body["messages"])
    message = dict(out["messages"][where.message])
    content = list(message["content"])
    content[where.part:where.part + 1] = parts
    message["content"] = content
    out["messages"][where.message] = message
    if media_io_kwargs:
        merged = copy.deepcopy(body.get("media_io_kwargs") or {})
        for modality, kwargs in media_io_kwargs.items():
            merged[modality] = {**(merged.get(modality) or {}), **kwargs}
        out["media_io_kwargs"] = merged
    return out
