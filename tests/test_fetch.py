"""Named models are fetched on first use, as Hugging Face libraries do; offline they fail fast.

No test here reaches the network: "no network" is a closed port on this machine (HF_ENDPOINT),
and "in the cache" is a Hugging Face cache folder the test lays out itself.
"""

from __future__ import annotations

import shutil
import time

import pytest

from hfs.cli import main
from hfs.encoders import create_encoder
from hfs.encoders.fetch import fetch_model
from hfs.errors import EncoderNotAvailableError

REPO = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf-hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def no_network(monkeypatch):
    """Downloads on, but the hub is a closed port on this machine."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")


def _put_in_cache(cache, repo: str, model_dir) -> None:
    """Lay ``model_dir`` out as huggingface_hub stores a downloaded snapshot."""
    root = cache / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(COMMIT)
    shutil.copytree(model_dir, root / "snapshots" / COMMIT)


def test_offline_and_not_cached_is_one_clear_error(hf_cache):
    t0 = time.perf_counter()
    with pytest.raises(EncoderNotAvailableError) as err:
        create_encoder("clip-vit-b-32")
    message = str(err.value)
    assert time.perf_counter() - t0 < 10
    assert "downloads are off" in message and f"hf download {REPO}" in message and "\n" not in message


def test_no_network_fails_within_seconds_naming_what_to_fetch(hf_cache, no_network):
    t0 = time.perf_counter()
    with pytest.raises(EncoderNotAvailableError, match=f"cannot fetch image-text model {REPO} from the Hugging Face"):
        fetch_model(REPO)
    assert time.perf_counter() - t0 < 10


def test_cli_without_network_prints_one_line(hf_cache, no_network, three_scene_video, capsys):
    t0 = time.perf_counter()
    code = main(["select", str(three_scene_video), "-q", "a red screen", "--no-cache"])
    err = capsys.readouterr().err
    assert code == 1 and time.perf_counter() - t0 < 10
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hfs: error: cannot fetch") and f"hf download {REPO}" in lines[0]


def test_cli_offline_flag_never_downloads(hf_cache, no_network, three_scene_video, capsys):
    code = main(["select", str(three_scene_video), "-q", "a red screen", "--no-cache", "--offline"])
    assert code == 1 and "downloads are off" in capsys.readouterr().err


def test_a_cached_model_loads_with_no_network_at_all(hf_cache, no_network, tiny_clip_dir):
    repo = "someone/tiny-clip"
    _put_in_cache(hf_cache, repo, tiny_clip_dir)
    encoder = create_encoder(repo)
    assert encoder.name == repo and encoder.dim > 0
    assert fetch_model(repo).endswith(COMMIT)
