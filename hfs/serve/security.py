"""Who gets in (a bearer key) and what a request may read (files under the video root only)."""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hfs.serve.errors import ServeError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_key(authorization: str | None, api_key: str | None) -> None:
    """Refuse (401) a request without ``Authorization: Bearer <api_key>`` when a key is set."""
    if api_key is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), api_key.encode()):
        raise ServeError(401, "hfs serve: a valid API key is required (Authorization: Bearer KEY)",
                         code="invalid_api_key")


def is_remote_url(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def local_video(url: str, root: Path) -> Path:
    """The file a ``video_url`` names (``file://PATH``, or a path, relative to ``root`` or absolute),
    resolved, symlinks followed; 403 unless it lies under ``root`` (itself resolved), 404 if it
    does not exist. Other URL schemes are 400."""
    if "\x00" in url:
        raise ServeError(400, "the video path holds a NUL character", code="invalid_video_url", param="video_url")
    if url.lower().startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ServeError(400, f"file URL {url!r} names another host", code="invalid_video_url",
                             param="video_url")
        path = unquote(parts.path)
    elif _SCHEME.match(url):  # data:, ftp:, s3:, ... (a file whose name has a colon: file://PATH)
        raise ServeError(400, "hfs serve reads videos from file:// paths under its video root (and http(s) URLs "
                              "with --allow-url)", code="invalid_video_url", param="video_url")
    else:
        path = url
    root = root.resolve()
    try:
        target = (root / path).resolve(strict=True)  # root / an absolute path is that path
    except FileNotFoundError:
        target = None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise ServeError(400, f"video {path!r}: cannot be resolved ({exc})", code="invalid_video_url",
                         param="video_url") from None
    lexical = Path(os.path.normpath(root / path))
    if target is None:
        if lexical != root and root not in lexical.parents:
            raise _outside(path)
        raise ServeError(404, f"video {path!r} not found under the video root", code="video_not_found",
                         param="video_url")
    if target != root and root not in target.parents:
        raise _outside(path)
    if not (target.is_file() or target.is_dir()):  # a FIFO or device would hang or never end
        raise ServeError(400, f"video {path!r} is not a file or a folder of images", code="invalid_video_url",
                         param="video_url")
    return target


def _outside(path: str) -> ServeError:
    return ServeError(403, f"video {path!r} is outside the video root; hfs serve reads only files under it",
                      code="video_outside_root", param="video_url")
