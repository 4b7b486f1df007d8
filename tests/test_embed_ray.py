"""`hfs embed --engine ray`: the local engine's decode and embed functions on Ray Data (local mode).

Ray is a CI dependency here (`pip install "hfs[ray]"`): without it these tests fail, they do not
skip. One Ray session serves the module (starting Ray takes seconds).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import hfs
from hfs.cache import EmbeddingCache
from hfs.cli import main
from hfs.embed import embed_corpus, embed_corpus_ray
from hfs.embed.output import ParquetOutput
from hfs.embed.parquet import embeddings_of, read_shards
from hfs.embed.ray_engine import import_ray, init_ray
from hfs.encoders.color import ColorNamesEncoder
from hfs.errors import HfsError
from hfs.video.synth import Scene, write_video

N = 8
# Ray Data reads its own deprecated settings while copying its context; not ours
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    import ray

    with pytest.MonkeyPatch.context() as env:  # what Ray's workers inherit: an isolated cache, no hub
        env.setenv("HFS_CACHE_DIR", str(tmp_path_factory.mktemp("ray-hfs-cache")))
        env.setenv("HF_HUB_OFFLINE", "1")
        init_ray(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    videos = [write_video(root / f"v{i}.mp4", [Scene(c, 1.0) for c in colours], fps=8, size=(48, 32))
              for i, colours in enumerate([("red", "blue"), ("green", "yellow"), ("blue", "red", "green")])]
    (root / "broken.mp4").write_bytes(b"not a video at all")
    return root, videos, [videos[0], root / "broken.mp4", videos[1], videos[2]]


def test_ray_fills_the_cache_as_the_local_engine_does(ray_session, corpus, tmp_path):
    root, videos, listed = corpus
    encoder = ColorNamesEncoder()
    local, ray_cache = EmbeddingCache(tmp_path / "local"), EmbeddingCache(tmp_path / "ray")
    embed_corpus(listed, encoder, N, local, workers=1, progress=False)
    report = embed_corpus_ray(listed, encoder, N, ray_cache, progress=False, videos_per_batch=2)
    assert report.embedded == [str(v) for v in videos] and report.cached == []
    broken = str(root / "broken.mp4")
    assert list(report.bad) == [broken] and "not a readable video" in report.bad[broken]
    entries = sorted(p.name for p in ray_cache.root.glob("*.npz"))
    assert entries == sorted(p.name for p in local.root.glob("*.npz")) and len(entries) == 3
    for name in entries:
        key = name.removesuffix(".npz")
        a, b = local.load(key), ray_cache.load(key)
        np.testing.assert_array_equal(a.times, b.times)
        np.testing.assert_allclose(a.embeddings, b.embeddings, atol=1e-6)
        assert a.info == b.info
    # hfs select afterwards reads Ray's entries: a cache hit
    sel = hfs.select(videos[2], "a red screen", k=2, num_candidates=N, encoder=encoder, cache_dir=ray_cache.root)
    assert sel.cached


def test_cli_ray_parquet_shards_resume_schema_and_contents(ray_session, corpus, tmp_path, capsys):
    import pyarrow as pa

    root, videos, listed = corpus
    encoder = ColorNamesEncoder()
    out = tmp_path / "shards"
    # an interrupted earlier run left the first video in a shard: the Ray run resumes after it
    first = embed_corpus(videos[:1], encoder, N, workers=1, progress=False,
                         output=ParquetOutput(str(out), encoder.dim, N, encoder.name))
    assert first.embedded == [str(videos[0])]
    manifest = tmp_path / "videos.jsonl"
    manifest.write_text("".join(json.dumps({"video": str(v)}) + "\n" for v in listed))
    code = main(["embed", str(manifest), "--engine", "ray", "--format", "parquet", "--out", str(out),
                 "--encoder", "color-names", "-n", str(N), "--videos-per-batch", "2"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "4 videos: 2 embedded, 1 already in the shards, 1 skipped as unreadable" in stdout and "Ray" in stdout
    assert "broken.mp4" in stderr
    report = json.loads((out / "embed_report.json").read_text())
    assert report["embedded"] == [str(v) for v in videos[1:]] and report["cached"] == [str(videos[0])]
    assert list(report["bad"]) == [str(root / "broken.mp4")]
    table = read_shards(out)
    assert table.schema.field("embeddings").type == pa.list_(pa.list_(pa.float32(), encoder.dim))
    assert table.schema.field("times").type == pa.list_(pa.float64())
    assert sorted(table.column("video").to_pylist()) == sorted(str(v) for v in videos)  # each video once
    assert set(table.column("encoder").to_pylist()) == {"color-names"}
    assert set(table.column("num_candidates").to_pylist()) == {N}
    cache = EmbeddingCache(tmp_path / "cache")  # the same numbers as the cache entries of the local engine
    embed_corpus(videos, encoder, N, cache, workers=1, progress=False)
    for row, key in enumerate(table.column("key").to_pylist()):
        frames_key, n = key.rsplit("-n", 1)  # a row: the video's frames (the cache entry) at N
        assert int(n) == N
        entry = cache.load(frames_key)
        assert entry is not None
        np.testing.assert_array_equal(np.array(table.column("times")[row].as_py()), entry.times)
        np.testing.assert_allclose(embeddings_of(table, row), entry.embeddings, atol=1e-6)
        assert json.loads(table.column("info")[row].as_py()) == {k: v for k, v in entry.info.items()
                                                                 if k != "frame_aliases"}


def test_without_ray_one_line_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(HfsError, match=r'pip install "hfs\[ray\]"'):
        import_ray()


def test_gpus_the_cluster_lacks_are_refused_before_anything_runs(ray_session, corpus, tmp_path):
    _, videos, _ = corpus
    assert ray_session.cluster_resources().get("GPU", 0) == 0  # this local session has none
    with pytest.raises(HfsError, match=r"--gpus-per-worker 1 x --actors 2 asks for 2 GPU\(s\); the Ray cluster has 0"):
        embed_corpus_ray(videos, ColorNamesEncoder(), N, EmbeddingCache(tmp_path), progress=False, actors=2,
                         gpus_per_actor=1.0)
    assert not list(tmp_path.glob("*.npz"))


def test_a_cluster_address_nobody_answers_fails_in_one_line(corpus, tmp_path):
    import socket
    import subprocess

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manifest = tmp_path / "videos.txt"
    manifest.write_text(f"{corpus[1][0]}\n")
    env = {**os.environ, "RAY_ADDRESS": f"127.0.0.1:{port}"}
    proc = subprocess.run([sys.executable, "-c", "from hfs.cli import main; raise SystemExit(main())", "embed",
                           str(manifest), "--engine", "ray", "--encoder", "color-names", "--out", str(tmp_path / "c")],
                          capture_output=True, text=True, env=env, timeout=120)  # a hang fails here
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"hfs: error: cannot reach the Ray cluster at 127.0.0.1:{port} (RAY_ADDRESS)")
