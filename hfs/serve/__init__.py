"""``hfs serve``: an OpenAI-compatible proxy that chooses a video's frames for the question before
any VLM server (vLLM, SGLang, ``transformers serve``, TGI) answers it.

A client sends a chat request whose user message holds a ``video_url`` part (``file://PATH`` or a
path under the video root) and the question as text; hfs chooses k frames for the question with
the encoder it keeps loaded, replaces the video part with them (image parts with their times, or
vLLM's JPEG-sequence video with its metadata, ``hfs.export``), forwards the request unchanged
otherwise, and adds the chosen frames to the answer under ``hfs``.

Modules: ``config`` (settings, no torch), ``security`` (key, video root), ``chat`` (reading and
rewriting requests), ``frames`` (the warm selector), ``upstream`` (httpx client), ``remote``
(URL videos), ``app`` (FastAPI), ``command`` (the CLI's entry).
"""

from hfs.serve.config import UPSTREAM_FORMATS, ServeConfig

__all__ = ["UPSTREAM_FORMATS", "ServeConfig"]
