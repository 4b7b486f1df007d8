"""`hfs embed`: a manifest of videos into the embedding cache, decoded in worker processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import hfs
from hfs.cache import EmbeddingCache
from hfs.cli import main
from hfs.embed import embed_corpus, read_manifest
from hfs.encoders.color import ColorNamesEncoder
from hfs.errors import InputError
from hfs.pipeline import embed_candidates
from hfs.video import open_video
from hfs.video.synth import Scene, write_video


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    videos = []
    for i, colours in enumerate([("red", "blue"), ("green", "yellow"), ("blue", "red", "green")]):
        videos.append(write_video(root / f"v{i}.mp4", [Scene(c, 1.0) for c in colours], fps=8, size=(48, 32)))
    (root / "broken.mp4").write_bytes(b"not a video at all")
    return root, videos


def test_manifest_formats_and_bad_lines(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"video": "a.mp4"}\n\n"sub/b.mp4"\n{"path": "/abs/c.mp4"}\n')
    assert read_manifest(tmp_path / "m.jsonl") == [tmp_path / "a.mp4", tmp_path / "sub/b.mp4", Path("/abs/c.mp4")]
    (tmp_path / "m.csv").write_text("id,video\n1,a.mp4\n2,b.mp4\n")
    assert read_manifest(tmp_path / "m.csv") == [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    (tmp_path / "m.txt").write_text("# videos\na.mp4\n")
    assert read_manifest(tmp_path / "m.txt") == [tmp_path / "a.mp4"]
    (tmp_path / "bad.jsonl").write_text('{"video": "a.mp4"}\n{"name": 3}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: expected a string or an object"):
        read_manifest(tmp_path / "bad.jsonl")
    (tmp_path / "bad.csv").write_text("id,file\n1,a.mp4\n")
    with pytest.raises(InputError, match="needs a 'video' or 'path' column"):
        read_manifest(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="missing.jsonl: manifest not found"):
        read_manifest(tmp_path / "missing.jsonl")
    (tmp_path / "empty.txt").write_text("\n# nothing\n")
    with pytest.raises(InputError, match="lists no videos"):
        read_manifest(tmp_path / "empty.txt")


@pytest.mark.parametrize("workers", [1, 2])
def test_embeds_every_video_skips_bad_ones_and_resumes(corpus, tmp_path, workers):
    root, videos = corpus
    encoder = ColorNamesEncoder()
    cache = EmbeddingCache(tmp_path / "cache")
    listed = [videos[0], root / "broken.mp4", videos[1], videos[2]]
    report = embed_corpus(listed, encoder, num_candidates=8, cache=cache, workers=workers, progress=False)
    assert report.embedded == [str(v) for v in videos] and report.cached == []
    assert list(report.bad) == [str(root / "broken.mp4")] and report.videos_per_minute > 0
    # the entries are exactly what hfs.select would have computed, under the key it looks up
    for video in videos:
        expected, _, _ = embed_candidates(open_video(video), encoder, 8)
        sel = hfs.select(video, "a red screen", k=2, num_candidates=8, encoder=encoder, cache_dir=cache.root)
        assert sel.cached
        np.testing.assert_array_equal(sel.candidate_times, expected.times)
    again = embed_corpus(listed, encoder, num_candidates=8, cache=cache, workers=workers, progress=False)
    assert again.embedded == [] and again.cached == [str(v) for v in videos] and len(again.bad) == 1


def test_cli_embed(corpus, tmp_path, capsys):
    root, videos = corpus
    manifest = tmp_path / "videos.jsonl"
    manifest.write_text("".join(json.dumps({"video": str(v)}) + "\n" for v in [*videos, root / "broken.mp4"]))
    code = main(["embed", str(manifest), "--encoder", "color-names", "-n", "8", "--workers", "1",
                 "--out", str(tmp_path / "cache")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "4 videos: 3 embedded, 0 already cached, 1 skipped as unreadable" in out and "videos/minute" in out
    assert "broken.mp4" in err
    report = json.loads((tmp_path / "cache" / "embed_report.json").read_text())
    assert len(report["embedded"]) == 3 and list(report["bad"]) == [str(root / "broken.mp4")]


def test_local_engine_writes_parquet_shards_and_resumes_from_them(corpus, tmp_path):
    from hfs.embed import ParquetOutput
    from hfs.embed.parquet import embeddings_of, read_shards, shard_paths

    root, videos = corpus
    encoder = ColorNamesEncoder()
    output = ParquetOutput(str(tmp_path / "shards"), encoder.dim, 8, encoder.name, videos_per_write=2)
    listed = [videos[0], root / "broken.mp4", videos[1], videos[2], videos[0]]  # listed twice: done once
    report = embed_corpus(listed, encoder, num_candidates=8, workers=1, progress=False, output=output)
    assert report.embedded == [str(v) for v in videos] and list(report.bad) == [str(root / "broken.mp4")]
    assert len(shard_paths(output.root)) == 2  # 2 videos, then the last one
    assert sorted(p.name for p in output.folder.iterdir()) == sorted(p.name for p in shard_paths(output.root))
    table = read_shards(output.root)
    rows = table.column("video").to_pylist()  # shards written in the same second have no set order
    assert sorted(rows) == sorted(str(v) for v in videos)
    row = rows.index(str(videos[2]))
    expected, _, _ = embed_candidates(open_video(videos[2]), encoder, 8)
    np.testing.assert_array_equal(np.array(table.column("times")[row].as_py()), expected.times)
    np.testing.assert_allclose(embeddings_of(table, row), expected.embeddings, atol=1e-6)
    again = embed_corpus(listed, encoder, num_candidates=8, workers=1, progress=False, output=output)
    assert again.embedded == [] and again.cached == [str(v) for v in videos]
    assert len(shard_paths(output.root)) == 2


def test_parquet_folder_one_row_per_video_bound_to_its_encoder_damaged_shards_named_once(corpus, tmp_path, capsys):
    from hfs.embed.parquet import read_shards, shard_paths

    root, videos = corpus
    out = tmp_path / "shards"
    (tmp_path / "link.mp4").symlink_to(videos[0])
    (tmp_path / "copy.mp4").write_bytes(Path(videos[1]).read_bytes())
    # one video under three spellings (relative to the manifest, absolute, through a link), another and its copy
    manifest = tmp_path / "videos.txt"
    manifest.write_text(f"{os.path.relpath(videos[0], tmp_path)}\n{videos[0]}\nlink.mp4\n{videos[1]}\ncopy.mp4\n")

    def embed(encoder="color-names", n=8, workers=1):
        return main(["embed", str(manifest), "--encoder", encoder, "-n", str(n), "--workers", str(workers),
                     "--format", "parquet", "--out", str(out)])

    assert embed() == 0, capsys.readouterr().err
    table = read_shards(out)
    assert sorted(table.column("key").to_pylist()) == sorted(set(table.column("key").to_pylist()))
    assert table.num_rows == 2
    assert json.loads((out / "shards.json").read_text())["encoder"] == "color-names"
    # a truncated shard and a foreign parquet file: each named once, good videos still found
    import pyarrow as pa
    import pyarrow.parquet as pq

    good = shard_paths(out)[0]
    (out / "part-truncated.parquet").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    pq.write_table(pa.table({"x": [1, 2]}), out / "part-foreign.parquet")
    capsys.readouterr()
    manifest.write_text("".join(f"{v}\n" for v in videos))
    assert embed(workers=2) == 0
    captured = capsys.readouterr()
    assert "1 embedded, 2 already in the shards, 0 skipped" in captured.out
    warnings = [line for line in captured.err.splitlines() if "skipped" in line and "part-" in line]
    assert len(warnings) == 2 and all(line.startswith("hfs: warning:") for line in warnings)
    assert {"part-truncated.parquet", "part-foreign.parquet"} == {
        name for line in warnings for name in ("part-truncated.parquet", "part-foreign.parquet") if name in line}
    assert read_shards(out).num_rows == 3
    # the folder reused with an encoder of another width: refused, and the folder stays readable
    before = sorted(p.name for p in out.iterdir())
    assert embed(encoder="tiny-random-clip") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hfs: error: --out") and "dim: 3 -> 16" in err[-1] and "encoder: 'color-names'" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == before and read_shards(out).num_rows == 3
    assert embed(n=16) == 1
    assert "num_candidates: 8 -> 16" in capsys.readouterr().err


def test_manifest_rows_that_name_no_file_are_refused_by_line(tmp_path):
    (tmp_path / "huge.csv").write_text("video\na.mp4\n" + "x" * 1_000_000 + "\nb.mp4\n")
    with pytest.raises(InputError, match=r"huge.csv:3: not a CSV row hfs can read \(field larger than field limit"):
        read_manifest(tmp_path / "huge.csv")
    for name, text in [("long.jsonl", json.dumps({"video": "y" * 5000})), ("long.txt", "z" * 5000),
                       ("nul.jsonl", json.dumps({"video": "a\x00b.mp4"}))]:
        (tmp_path / name).write_text("ok.mp4\n" + text + "\n" if name.endswith(".txt") else '"ok.mp4"\n' + text + "\n")
        with pytest.raises(InputError, match=rf"{name}:2: not a usable video name"):
            read_manifest(tmp_path / name)
