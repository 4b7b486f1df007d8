"""``ServeError``: a refusal or failure of ``hfs serve``, answered as an OpenAI-style JSON error."""

from __future__ import annotations

from typing import Any

from hfs.errors import HfsError

# OpenAI's error "type" for each status the proxy answers with
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 408: "timeout_error", 413: "invalid_request_error",
          502: "upstream_error", 504: "timeout_error"}


class ServeError(HfsError):
    """An HTTP error with the body OpenAI's API gives: ``{"error": {message, type, param, code}}``."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": _TYPES.get(self.status, "invalid_request_error"),
                          "param": self.param, "code": self.code}}
