"""The embedding cache: round trip, damage detection, crash safety, and no work on a hit."""

from __future__ import annotations

import json
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
        EmbeddingCache.key("h1", "m1", 224), EmbeddingCache.key("h2", "m1", 224),
        EmbeddingCache.key("h1", "m2", 224), EmbeddingCache.key("h1", "m1", 256),
    }
    assert len(keys) == 4


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
    """A writer killed by SIGKILL at the worst moment leaves no entry that loads, and the next run
    removes its temporary file."""
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
    assert list(tmp_path.glob(".tmp-*"))  # the killed writer's temporary file
    assert EmbeddingCache(tmp_path).load("abc") is None
    assert not (tmp_path / "abc.npz").exists()
    assert not list(tmp_path.glob(".tmp-*"))  # removed by the next run: its writer is gone


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
    # a different N asks for frames (other midpoints) not embedded yet
    with pytest.raises(AssertionError, match="cache hit"):
        hfs.select(three_scene_video, "a blue screen", k=4, num_candidates=8, encoder=tiny_encoder, cache_dir=tmp_path)


def test_no_cache_writes_nothing(three_scene_video, tiny_encoder, tmp_path):
    hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, encoder=tiny_encoder,
               cache_dir=tmp_path / "c", use_cache=False)
    assert not (tmp_path / "c").exists()


# -- the key covers everything that sets the candidates -------------------------------------------

def test_image_folder_frame_rate_is_part_of_the_key(tmp_path, color_encoder):
    """Same images at another --image-fps are other times: never the first run's entry."""
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, colour in enumerate(["red"] * 5 + ["blue"] * 2 + ["green"] * 3):
        Image.new("RGB", (32, 24), colour).save(folder / f"{i:02d}.png")
    kwargs = dict(k=2, num_candidates=16, encoder=color_encoder, cache_dir=tmp_path / "cache", selector="topk")
    fast = hfs.select(folder, "blue", image_fps=10.0, **kwargs)
    slow = hfs.select(folder, "blue", image_fps=1.0, **kwargs)
    assert fast.times.tolist() == pytest.approx([0.5, 0.6])
    assert not slow.cached and slow.times.tolist() == pytest.approx([5.0, 6.0])
    assert hfs.select(folder, "blue", image_fps=1.0, **kwargs).cached  # and each rate has its own entry
    assert hfs.select(folder, "blue", image_fps=10.0, **kwargs).times.tolist() == pytest.approx([0.5, 0.6])


def test_key_changes_with_the_frame_rate_only_for_folders():
    base = EmbeddingCache.key("h", "m", 224)
    assert base == EmbeddingCache.key("h", "m", 224, frame_rate=None)
    assert len({base, EmbeddingCache.key("h", "m", 224, frame_rate=1.0),
                EmbeddingCache.key("h", "m", 224, frame_rate=10.0)}) == 3


# -- an entry is checked against what the caller expects ------------------------------------------

def _rewrite(path, **arrays):
    """Replace arrays of the entry at ``path`` and recompute its checksum, as a careless writer would."""
    import json

    from hfs.cache import _checksum

    with np.load(path, allow_pickle=False) as data:
        content = {name: data[name] for name in data.files}
    content.update(arrays)
    meta = json.loads(str(content["meta"]))
    meta["checksum"] = _checksum(content["times"], content["embeddings"])
    content["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **content)


@pytest.mark.parametrize("problem", ["wrong dim", "too many rows", "nan", "inf time", "descending", "repeated time",
                                     "negative time", "no rows", "row mismatch", "3-d"])
def test_entry_that_does_not_fit_is_a_miss_and_is_removed(tmp_path, problem):
    cache = EmbeddingCache(tmp_path)
    path = cache.save("abc", _entry(10, 8))
    assert cache.load("abc", dim=8, max_rows=10) is not None
    emb, times = _entry(10, 8).embeddings, _entry(10, 8).times
    changes = {
        "wrong dim": {},  # a valid entry, but the encoder now gives 16-d embeddings
        "too many rows": {},  # valid, but more candidates than asked for
        "nan": {"embeddings": np.where(np.eye(10, 8, dtype=bool), np.nan, emb).astype(np.float32)},
        "inf time": {"times": np.append(times[:-1], np.inf)},
        "descending": {"times": times[::-1].copy()},
        "repeated time": {"times": np.append(times[:-1], times[-2])},
        "negative time": {"times": times - 1.0},
        "no rows": {"times": times[:0], "embeddings": emb[:0]},
        "row mismatch": {"times": times[:-1]},
        "3-d": {"embeddings": emb.reshape(10, 2, 4)},
    }[problem]
    if changes:
        _rewrite(path, **changes)
    dim, max_rows = (16, 10) if problem == "wrong dim" else (8, 5) if problem == "too many rows" else (8, 10)
    assert cache.load("abc", dim=dim, max_rows=max_rows) is None
    assert not path.exists()


def test_select_recomputes_an_entry_made_for_another_model(three_scene_video, tiny_encoder, tmp_path):
    """An entry under the right key but of the wrong width (a changed model) is rebuilt, not used."""
    first = hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, encoder=tiny_encoder,
                       cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.npz")
    _rewrite(entry, embeddings=np.ones((len(first.candidate_times), tiny_encoder.dim + 1), np.float32))
    again = hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, encoder=tiny_encoder,
                       cache_dir=tmp_path)
    assert not again.cached
    assert again.indices.tolist() == first.indices.tolist()
    assert hfs.select(three_scene_video, "a red screen", k=4, num_candidates=16, encoder=tiny_encoder,
                      cache_dir=tmp_path).cached


# -- a cache folder that cannot be written is skipped, with one warning ----------------------------

def test_unwritable_cache_folder_warns_once_and_runs_without_it(three_scene_video, tiny_encoder, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    results = [hfs.select(three_scene_video, q, k=3, num_candidates=12, encoder=tiny_encoder, cache_dir=blocker)
               for q in ("a red screen", "a blue screen")]
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.strip()] == [line for line in err.splitlines() if "hfs" in line]
    assert err.count("hfs: warning:") == 1 and str(blocker) in err and "without the embedding cache" in err
    assert not any(r.cached for r in results)
    reference = hfs.select(three_scene_video, "a blue screen", k=3, num_candidates=12, encoder=tiny_encoder,
                           use_cache=False)
    assert results[1].indices.tolist() == reference.indices.tolist()
    assert blocker.read_text().startswith("a file")


def test_cache_folder_refusing_writes_is_a_warning_not_an_error(tmp_path, monkeypatch, capsys):
    """A read-only folder (simulated: tests run as root, whom permissions do not stop)."""
    import errno
    import os

    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and str(path).startswith(str(tmp_path)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    cache = EmbeddingCache(tmp_path / "ro")
    assert cache.save("abc", _entry()) is None
    assert cache.save("def", _entry()) is None
    assert cache.load("abc") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err and str(tmp_path / "ro") in err


def test_cli_with_unwritable_cache_exits_zero_with_one_warning_line(three_scene_video, tmp_path, capsys):
    from hfs.cli import main

    blocker = tmp_path / "cache-file"
    blocker.write_text("")
    code = main(["select", str(three_scene_video), "-q", "red", "-k", "2", "-n", "8", "--encoder", "color-names",
                 "--cache-dir", str(blocker), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.strip().count("\n") == 0 and captured.err.startswith("hfs: warning: ")
    assert json.loads(captured.out)["k"] == 2


# -- leftovers of killed writers are removed by a later run ----------------------------------------

def test_stale_temporaries_are_cleaned_and_live_ones_kept(tmp_path, dead_pid):
    import os
    import time

    from hfs.atomic import STALE_SECONDS, _HOST

    dead, old = dead_pid, time.time() - STALE_SECONDS - 60
    stale = [tmp_path / f".tmp-{_HOST}-{dead}-0a1b2c3d.npz", tmp_path / ".tmp-k2j3h4g5.npz"]
    live = [tmp_path / f".tmp-{_HOST}-{os.getpid()}-0a1b2c3d.npz", tmp_path / ".tmp-fresh123.npz",
            tmp_path / f".tmp-{_HOST}-1-0a1b2c3d.npz", tmp_path / f".tmp-ffffff-{dead}-0a1b2c3d.npz"]
    for file in stale + live:
        file.write_bytes(b"partial")
    os.utime(stale[1], (old, old))  # an old-style name: only its age says it is abandoned
    assert EmbeddingCache(tmp_path).load("absent") is None  # the first use in this process cleans
    assert not any(f.exists() for f in stale)
    assert all(f.exists() for f in live)  # this process, too recent, pid 1 alive, another machine's


def test_killed_folder_build_leftovers_are_removed_by_the_next_build(tmp_path, dead_pid):
    import os
    import time

    from hfs.atomic import STALE_SECONDS, _HOST, atomic_directory

    dead = dead_pid
    leftover = tmp_path / f".model.tmp-{_HOST}-{dead}-0a1b2c3d"
    legacy = tmp_path / ".model.k2j3h4g5"  # tempfile.mkdtemp's name in older versions
    unrelated = tmp_path / ".other.k2j3h4g5"
    for folder in (leftover, legacy, unrelated):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
    old = time.time() - STALE_SECONDS - 60
    for folder in (legacy, unrelated):
        os.utime(folder, (old, old))
    with atomic_directory(tmp_path / "model") as tmp:
        (tmp / "config.json").write_text("{}")
    assert (tmp_path / "model" / "config.json").is_file()
    assert not leftover.exists() and not legacy.exists()
    assert unrelated.exists()  # not ours to judge: another target's name


# -- files are created with the user's umask ------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_entries_and_folders_follow_the_umask(tmp_path, umask):
    import os
    import stat

    from hfs.atomic import atomic_directory

    previous = os.umask(umask)
    try:
        path = EmbeddingCache(tmp_path / "c").save("abc", _entry())
        with atomic_directory(tmp_path / "built") as tmp:
            (tmp / "f").write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "built").stat().st_mode) == 0o777 & ~umask


# -- a generated benchmark folder never pairs old videos with new ground truth ----------------------

def _mean_colour(path, t):
    from hfs.video import open_video

    return next(open_video(path).frames_at([t])).image.reshape(-1, 3).mean(0)


def test_bench_data_dir_regenerates_videos_made_with_other_parameters(tmp_path, color_encoder):
    from hfs.data.evidence import make_evidence_set
    from hfs.eval.bench import BenchConfig, run_bench
    from hfs.video import open_video
    from hfs.video.synth import COLORS

    def bench(duration, data_dir):
        config = BenchConfig(videos=2, duration=duration, fps=4.0, k=[4], selectors=["greedy"], num_candidates=32,
                             repeats=1, data_dir=str(data_dir))
        return run_bench(config, encoder=color_encoder, progress=False).row("greedy", 4)["recall"]

    bench(12.0, tmp_path / "reused")
    assert bench(20.0, tmp_path / "reused") == bench(20.0, tmp_path / "fresh")
    items = make_evidence_set(tmp_path / "reused", 2, duration=20.0)  # default fps and size now
    for item in items:
        assert open_video(tmp_path / "reused" / item.video).info.duration == pytest.approx(20.0, abs=0.3)
        for start, end in item.evidence:
            colour = _mean_colour(tmp_path / "reused" / item.video, (start + end) / 2)
            assert np.abs(colour - COLORS[item.color]).max() < 25


def test_evidence_set_reuses_only_the_videos_it_recorded(tmp_path):
    from hfs.data.evidence import make_evidence_set

    make_evidence_set(tmp_path, 2, duration=12.0)
    first, second = sorted(tmp_path.glob("*.mp4"))
    stamps = {p: p.stat().st_mtime_ns for p in (first, second)}
    first.write_bytes(b"replaced by hand")
    make_evidence_set(tmp_path, 2, duration=12.0)
    assert second.stat().st_mtime_ns == stamps[second]  # same parameters, same bytes: kept
    assert first.read_bytes() != b"replaced by hand"  # not the recorded video: generated again
