"""Property tests of the embedding cache: whatever happens to an entry on disk, loading it gives
the exact entry that was saved, or a miss, never something else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfs.cache import CachedEmbeddings, EmbeddingCache, _checksum

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def entries(draw) -> CachedEmbeddings:
    """A valid entry: 1-24 rows, 1-12 dims, strictly ascending non-negative times, unit vectors."""
    n = draw(st.integers(1, 24))
    d = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    times = np.cumsum(rng.uniform(0.01, 3.0, n)) - draw(st.sampled_from([0.0, 0.005]))
    emb = rng.normal(size=(n, d)).astype(np.float32)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return CachedEmbeddings(times=times.astype(np.float64), embeddings=emb,
                            info={"duration": float(times[-1] + 1.0), "kind": "file"})


def _check(cache: EmbeddingCache, original: CachedEmbeddings) -> None:
    """The property: a miss, or bit for bit the entry that was saved."""
    n, d = original.embeddings.shape
    got = cache.load("k", dim=d, max_rows=n)
    if got is not None:
        assert got.times.dtype == np.float64 and got.embeddings.dtype == np.float32
        assert np.array_equal(got.times, original.times)
        assert np.array_equal(got.embeddings, original.embeddings)
        assert got.info == original.info
    else:
        assert not cache.path("k").exists()  # a bad entry is removed


def _rewrite(path: Path, fix_checksum: bool, **arrays) -> None:
    with np.load(path, allow_pickle=False) as data:
        content = {name: data[name] for name in data.files}
    content.update(arrays)
    if fix_checksum:  # a writer that checksums whatever it writes: the values must be checked too
        meta = json.loads(str(content["meta"]))
        meta["checksum"] = _checksum(np.asarray(content["times"]), np.asarray(content["embeddings"]))
        content["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **content)


@SETTINGS
@given(entry=entries())
def test_round_trip_is_exact(entry):
    with tempfile.TemporaryDirectory() as root:
        cache = EmbeddingCache(root)
        cache.save("k", entry)
        got = cache.load("k", dim=entry.embeddings.shape[1], max_rows=len(entry.times))
        assert got is not None
        assert np.array_equal(got.times, entry.times) and np.array_equal(got.embeddings, entry.embeddings)
        assert got.info == entry.info


@SETTINGS
@given(entry=entries(), data=st.data())
def test_truncated_or_flipped_bytes_never_load_as_something_else(entry, data):
    with tempfile.TemporaryDirectory() as root:
        cache = EmbeddingCache(root)
        path = cache.save("k", entry)
        raw = bytearray(path.read_bytes())
        if data.draw(st.booleans(), label="truncate"):
            raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="keep bytes")]
        else:
            for _ in range(data.draw(st.integers(1, 8), label="flips")):
                at = data.draw(st.integers(0, len(raw) - 1), label="at")
                raw[at] ^= data.draw(st.integers(1, 255), label="mask")
        path.write_bytes(bytes(raw))
        _check(cache, entry)


def _bad_arrays(entry: CachedEmbeddings, kind: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Arrays that no valid entry for this (N, dim) could hold."""
    times, emb = entry.times.copy(), entry.embeddings.copy()
    n, d = emb.shape
    i = int(rng.integers(n))
    if kind == "nan embedding":
        emb[i, int(rng.integers(d))] = rng.choice([np.nan, np.inf, -np.inf])
        return {"embeddings": emb}
    if kind == "nan time":
        times[i] = rng.choice([np.nan, np.inf, -np.inf])
        return {"times": times}
    if kind == "unsorted times":
        if n == 1:
            return {"times": times - times[0] - 1.0}  # negative
        j = int(rng.integers(n - 1))
        times[j + 1] = times[j] - float(rng.choice([0.0, 0.5]))  # repeated or going back
        return {"times": times}
    if kind == "wrong dim":
        return {"embeddings": rng.normal(size=(n, d + int(rng.integers(1, 4)))).astype(np.float32)}
    if kind == "too many rows":
        extra = int(rng.integers(1, 4))
        more = np.concatenate([times, times[-1] + np.arange(1, extra + 1)])
        return {"times": more, "embeddings": np.concatenate([emb, emb[:1].repeat(extra, 0)])}
    if kind == "row mismatch":
        return {"times": np.concatenate([times, [times[-1] + 1.0]])}
    if kind == "shape":
        return {"embeddings": emb.reshape(n, d, 1)} if rng.random() < 0.5 else {"times": times.reshape(n, 1)}
    if kind == "dtype":
        return {"embeddings": emb.astype(np.float64)} if rng.random() < 0.5 else {"times": times.astype(np.float32)}
    if kind == "empty":
        return {"times": times[:0], "embeddings": emb[:0]}
    if kind == "meta":
        return {"meta": np.array(rng.choice(['"not a dict"', "[1, 2]", "{", '{"version": 2}', "null"]))}
    raise AssertionError(kind)


BAD_KINDS = ["nan embedding", "nan time", "unsorted times", "wrong dim", "too many rows", "row mismatch", "shape",
             "dtype", "empty", "meta"]


@SETTINGS
@given(entry=entries(), kind=st.sampled_from(BAD_KINDS), fix_checksum=st.booleans(), seed=st.integers(0, 2**16))
def test_replaced_arrays_are_a_miss(entry, kind, fix_checksum, seed):
    """Wrong shapes, non-finite values, unsorted times... are a miss even under a fresh checksum."""
    with tempfile.TemporaryDirectory() as root:
        cache = EmbeddingCache(root)
        path = cache.save("k", entry)
        _rewrite(path, fix_checksum and kind != "meta", **_bad_arrays(entry, kind, np.random.default_rng(seed)))
        n, d = entry.embeddings.shape
        assert cache.load("k", dim=d, max_rows=n) is None
        assert not path.exists()
