"""The VLM server behind ``hfs serve``, reached with httpx: requests forwarded, answers (streamed
or not) passed back; a server that cannot be reached, times out or fails is a 502 naming it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from hfs.serve.errors import ServeError

# request headers that describe the client's connection, not the request, and are not forwarded
_HOP_HEADERS = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade",
                "proxy-authorization", "accept-encoding"}


class Upstream:
    """An OpenAI-compatible server at ``base`` (its ``/v1`` base URL)."""

    def __init__(self, base: str, api_key: str | None = None, timeout: float = 600.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = base.rstrip("/")
        self.api_key = api_key
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                        transport=transport, follow_redirects=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    def headers(self, incoming: dict[str, str], forward_authorization: bool) -> dict[str, str]:
        """The client's headers minus hop-by-hop ones; the upstream's key if one is set, else the
        client's Authorization only when hfs itself asked for none."""
        out = {k: v for k, v in incoming.items() if k.lower() not in _HOP_HEADERS and k.lower() != "authorization"}
        if self.api_key is not None:
            out["authorization"] = f"Bearer {self.api_key}"
        elif forward_authorization and "authorization" in {k.lower() for k in incoming}:
            out["authorization"] = next(v for k, v in incoming.items() if k.lower() == "authorization")
        return out

    def _failed(self, what: str, exc: Exception | None = None, status: int | None = None,
                detail: str = "") -> ServeError:
        reason = (f"answered {status}" if status is not None else type(exc).__name__ + (f": {exc}" if str(exc) else ""))
        more = f": {detail}" if detail else ""
        return ServeError(502, f"upstream {self.base} failed ({what}): {reason}{more}", code="upstream_error")

    async def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        try:
            return await self.client.get(f"{self.base}{path}", headers=headers)
        except httpx.HTTPError as exc:
            raise self._failed(f"GET {path}", exc) from None

    async def open(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """POST ``body`` and return the response with its body not yet read (for streaming).
        A 5xx is a 502; a 4xx is the client's to see and is returned as is."""
        headers = {**headers, "content-type": "application/json"}
        request = self.client.build_request("POST", f"{self.base}{path}", content=json.dumps(body), headers=headers)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._failed(f"POST {path}", exc) from None
        if response.status_code >= 500:
            detail = (await response.aread()).decode("utf-8", "replace")[:300]
            await response.aclose()
            raise self._failed(f"POST {path}", status=response.status_code, detail=" ".join(detail.split()))
        return response

    async def stream(self, response: httpx.Response) -> AsyncIterator[bytes]:
        """The body of an open response, chunk by chunk, closed at the end."""
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:  # the headers went out already: end the stream with an error event
            error = self._failed("stream", exc).body()
            yield f"data: {json.dumps(error)}\n\n".encode()
        finally:
            await response.aclose()
