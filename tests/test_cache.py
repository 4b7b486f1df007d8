"""The embedding cache: round trip, damage detection, crash safety, and no work on a hit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import hfs
from hfs.cache import CachedEmbeddings, EmbeddingCache, content_hash


def _entry(n: int = 10, d: int = 8) -> CachedEmbeddings:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(n, d)).astype(np.float32)
    return CachedEmbeddings(times=np.arange(n) * 0.5, embeddings=emb, info={"duration": 5.0})


def test_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.save("abc", _entry())
    got = cache.load("abc")
    assert np.array_equal(got.embeddings, _entry().embeddings)
    assert np.array_equal(got.times, _entry().times)
    assert got.info == {"duration": 5.0}
    assert cache.load("other") is None


def test_key_depends_on_every_input():
    keys = {
        EmbeddingCache.key("h1", 128, "m1", 224), EmbeddingCache.key("h2", 128, "m1", 224),
        EmbeddingCache.key("h1", 64, "m1", 224), EmbeddingCache.key("h1", 128, "m2", 224),
        EmbeddingCache.key("h1", 128, "m1", 256),
    }
    assert len(keys) == 5


def test_content_hash_follows_bytes_not_names(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"same")
    (tmp_path / "b.bin").write_bytes(b"same")
    (tmp_path / "c.bin").write_bytes(b"diff")
    assert content_hash(tmp_path / "a.bin") == content_hash(tmp_path / "b.bin") != content_hash(tmp_path / "c.bin")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_entry_is_a_miss_and_is_removed(tmp_path, damage):
    cache = EmbeddingCache(tmp_path)
    path = cache.save("abc", _entry(200, 64))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:  # one flipped byte inside the embeddings
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert cache.load("abc") is None
    assert not path.exists()


@pytest.mark.parametrize("when", ["while writing", "before rename"])
def test_entry_of_a_killed_process_is_never_read(tmp_path, when):
    """A writer killed by SIGKILL at the worst moment leaves no entry that loads."""
    hook = {
        # die half-way through the bytes of the file
        "while writing": "orig = np.savez\n"
                         "def savez(f, **kw):\n"
                         "    f.write(b'PK' + b'\\0' * 5000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
                         "np.savez = savez\n",
        # die with the whole temporary file written, just before it is renamed into place
        "before rename": "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n",
    }[when]
    script = textwrap.dedent(f"""
        import os, signal, sys
        import numpy as np
        from hfs.cache import CachedEmbeddings, EmbeddingCache
        """) + hook + textwrap.dedent(f"""
        entry = CachedEmbeddings(times=np.arange(100.0), embeddings=np.ones((100, 32), np.float32), info={{}})
        EmbeddingCache({str(tmp_path)!r}).save("abc", entry)
        """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert EmbeddingCache(tmp_path).load("abc") is None
    assert not (tmp_path / "abc.npz").exists()


def test_second_question_does_not_decode_or_embed(three_scene_video, tiny_encoder, tmp_path, monkeypatch):
    first = hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, encoder=tiny_encoder,
                       cache_dir=tmp_path)
    assert not first.cached and first.timing["encode"] > 0

    def forbidden(*args, **kwargs):
        raise AssertionError("decoded or embedded frames on a cache hit")

    monkeypatch.setattr("hfs.pipeline.embed_candidates", forbidden)
    monkeypatch.setattr(type(tiny_encoder), "encode_image_batch", forbidden)
    second = hfs.select(three_scene_video, "a blue screen", k=4, num_candidates=16, encoder=tiny_encoder,
                        cache_dir=tmp_path)
    assert second.cached
    assert np.array_equal(second.candidate_times, first.candidate_times)
    # a different N is a different entry, so it must compute again
    with pytest.raises(AssertionError, match="cache hit"):
        hfs.select(three_scene_video, "a blue screen", k=4, num_candidates=8, encoder=tiny_encoder, cache_dir=tmp_path)


def test_no_cache_writes_nothing(three_scene_video, tiny_encoder, tmp_path):
    hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, encoder=tiny_encoder,
               cache_dir=tmp_path / "c", use_cache=False)
    assert not (tmp_path / "c").exists()
