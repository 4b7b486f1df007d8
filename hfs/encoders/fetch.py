"""Fetching a named model on first use, as Hugging Face libraries do.

A model already in the Hugging Face cache is used without any network. Otherwise it is
downloaded with ``huggingface_hub.snapshot_download`` (its cache, its progress bars), unless
downloads are off: ``HF_HUB_OFFLINE=1`` (Hugging Face's own switch; ``hfs ... --offline`` sets
it). Before downloading, one metadata request with a short timeout tells a machine without a
network from a slow download, so that case fails in one line within seconds instead of after
the hub client's retries. ``HF_ENDPOINT`` (a mirror) is read at call time.
"""

from __future__ import annotations

import os

from hfs.errors import EncoderNotAvailableError

PROBE_TIMEOUT = 6.0  # seconds: without a network the error comes well within 10 s
# What an image-text model needs; never pickle weights (hfs loads safetensors only).
MODEL_FILES = ["config.json", "*.safetensors", "*.safetensors.index.json", "preprocessor_config.json",
               "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
               "*.model", "added_tokens.json"]


def downloads_off() -> bool:
    """Whether Hugging Face downloads are switched off for this process (``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def fetch_hint(repo: str, flag: str = "--encoder") -> str:
    """How to get past a missing model: fetch it, name a folder, or try hfs with no weights.
    ``flag`` is what names the model where the user is: a CLI flag or a config field."""
    where = f"pass {flag} /path/to/model" if flag.startswith("-") else f"set {flag} to a model folder"
    return (f"fetch it once where there is a network with `hf download {repo} --include '*.safetensors' "
            f"'*.json' '*.txt' '*.model'` (into the Hugging Face cache), or {where}; to try hfs with no weights "
            f"at all, {flag} color-names scores colour words only")


def _endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def _cache_dir() -> str | None:
    # read now, not when huggingface_hub was imported, so a later HF_HUB_CACHE / HF_HOME counts
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    return os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME") else None


def cached_snapshot(repo: str) -> str | None:
    """The local folder of ``repo`` in the Hugging Face cache, or None when it is not there."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(repo, allow_patterns=MODEL_FILES, local_files_only=True, cache_dir=_cache_dir())
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def fetch_model(repo: str, what: str = "image-text model", flag: str = "--encoder") -> str:
    """A local folder holding ``repo``: from the cache, else downloaded (unless downloads are off);
    ``flag`` names the model in the errors' hints (see ``fetch_hint``)."""
    local = cached_snapshot(repo)
    if local is not None:
        return local
    if downloads_off():
        raise EncoderNotAvailableError(
            f"{what} {repo} is not in the Hugging Face cache and downloads are off (HF_HUB_OFFLINE=1 or "
            f"--offline); {fetch_hint(repo, flag)}")
    from huggingface_hub import HfApi, snapshot_download

    try:
        HfApi(endpoint=_endpoint()).model_info(repo, timeout=PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - no network, a proxy, an unknown repo: all end here
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EncoderNotAvailableError(
            f"cannot fetch {what} {repo} from the Hugging Face Hub ({reason[:160]}); {fetch_hint(repo, flag)}") from None
    try:
        return snapshot_download(repo, allow_patterns=MODEL_FILES, endpoint=_endpoint(), cache_dir=_cache_dir(),
                                 etag_timeout=PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - a download cut short is one line too
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EncoderNotAvailableError(f"downloading {what} {repo} failed ({reason[:160]}); {fetch_hint(repo, flag)}") from None
