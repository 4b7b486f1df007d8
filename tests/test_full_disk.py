"""A full disk, for every command that writes: one ``hfs: error:`` line naming what could not be
written, a non-zero exit, and what an earlier run wrote there left byte for byte as it was.

Each case runs the real command twice in a subprocess: once with room (its outputs are
recorded), then, with the disk filled, asked for more. The disk is a real tmpfs mounted in a
user and mount namespace (``unshare -rm``) where the machine allows it, and, in every case, a
patched ``os.open``/``open``/``mkdir`` raising ENOSPC for paths on that disk (what a machine
without namespaces tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from hfs.video.synth import Scene, write_video
from test_kfs import lvb_root  # noqa: F401 - the KFS-Bench layout fixture, shared

# Runs in the subprocess: the steps of one case, in order; prints what each did as JSON.
DRIVER = textwrap.dedent('''
    import builtins, errno, hashlib, json, os, subprocess, sys
    spec = json.load(open(sys.argv[1]))
    disk = spec["disk"]

    def snapshot():
        out = {}
        for folder, _, files in os.walk(disk):
            for name in files:
                path = os.path.join(folder, name)
                if name != "filler" and not os.path.islink(path):
                    out[os.path.relpath(path, disk)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
        return out

    env = dict(os.environ)
    results = []
    for step in spec["steps"]:
        if step.get("fill"):
            if spec["mode"] == "tmpfs":
                with open(os.path.join(disk, "filler"), "wb") as f:
                    try:
                        while True:
                            f.write(b"\\0" * 65536)
                            f.flush()
                    except OSError:
                        pass
            else:
                env["HFS_TEST_FULL_DISK"] = disk
        run = subprocess.run([sys.executable, spec["launcher"], *step["argv"]], env=env, capture_output=True,
                             text=True)
        results.append({"rc": run.returncode, "err": run.stderr, "out": run.stdout, "files": snapshot()})
    print(json.dumps(results))
''')

# Starts hfs, first patching every way a file is created on the "full" disk to fail with ENOSPC.
LAUNCHER = textwrap.dedent('''
    import builtins, errno, io, os, sys
    full = os.environ.get("HFS_TEST_FULL_DISK")
    if full:
        def on_disk(path):
            try:
                return os.path.abspath(os.fsdecode(path)).startswith(full + os.sep)
            except TypeError:
                return False

        def enospc(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(path))

        real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir

        def patched_open(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") and on_disk(file):
                enospc(file)
            return real_open(file, mode, *args, **kwargs)

        def patched_os_open(path, flags, *args, **kwargs):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and on_disk(path):
                enospc(path)
            return real_os_open(path, flags, *args, **kwargs)

        def patched_mkdir(path, *args, **kwargs):
            if on_disk(path) and not os.path.isdir(path):
                enospc(path)
            return real_mkdir(path, *args, **kwargs)

        builtins.open, io.open, os.open, os.mkdir = patched_open, patched_open, patched_os_open, patched_mkdir
    from hfs.cli import main
    sys.exit(main(sys.argv[1:]))
''')


def _tmpfs_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || "
                            "mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True)
    return probe.returncode == 0


TMPFS = _tmpfs_works()


def run_case(tmp_path: Path, mode: str, steps: list[dict]) -> list[dict]:
    """Run ``steps`` (``{"argv": [...], "fill": bool}``) on a fresh disk in ``tmp_path / "disk"``."""
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "driver.py").write_text(DRIVER)
    (tmp_path / "launcher.py").write_text(LAUNCHER)
    spec = {"disk": str(disk), "mode": mode, "launcher": str(tmp_path / "launcher.py"), "steps": steps}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    driver = [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "spec.json")]
    if mode == "tmpfs":
        # 8 MiB: room for the first run of every case; then the driver fills it
        driver = ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=8m tmpfs "{disk}" && exec "$@"', "sh", *driver]
    done = subprocess.run(driver, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("full-disk-videos")
    paths = [write_video(root / f"v{i}.mp4", [Scene(a, 1.0), Scene(b, 1.0)], fps=8, size=(48, 32))
             for i, (a, b) in enumerate([("red", "blue"), ("green", "yellow"), ("blue", "green")])]
    for name, listed in (("one.txt", paths[:1]), ("all.txt", paths)):
        (root / name).write_text("".join(f"{p}\n" for p in listed))
    return root


def _cases(videos: Path, lvb: Path, tiny_qwen: Path, tiny_clip: Path, tiny_vlm: Path, disk: Path, work: Path
           ) -> dict[str, tuple[list[str], list[str]]]:
    """Each command that writes: (argv of a first run with room, argv of a run that writes more)."""
    train = {"output_dir": str(disk / "run"), "k": 3, "supervision": "pseudo", "max_steps": 3, "checkpoint_every": 1,
             "warmup_steps": 1, "seed": 0, "student": {"base_lm": str(tiny_qwen), "frame_dim": 16,
                                                       "encoder": str(tiny_clip)},
             "data": {"format": "synthetic", "synthetic_videos": 2, "num_candidates": 8,
                      "cache_dir": str(work / "train-cache")}}
    (work / "train.yaml").write_text(yaml.safe_dump(train))
    select = ["select", str(videos / "v0.mp4"), "--encoder", "color-names", "-n", "8", "--no-cache", "--out",
              str(disk / "sel")]
    embed = ["embed", "--encoder", "color-names", "-n", "8", "--workers", "1", "--out"]
    bench = ["bench", "--videos", "2", "--duration", "10", "--selector", "uniform,greedy", "--encoder", "color-names",
             "-n", "8", "--data-dir", str(work / "bench-set"), "--out", str(disk / "bench")]
    kfs = ["eval", "--benchmark", "longvideobench", "--data-root", str(lvb), "--kfs-annotations",
           str(lvb / "lvb_anno.csv"), "--encoder", "color-names", "-n", "8", "--selector", "uniform",
           "--out", str(disk / "kfs")]
    answer = ["eval", "--benchmark", "synthetic", "--data-root", str(work / "eval-set"), "--synthetic-videos", "2",
              "--model", str(tiny_vlm), "--encoder", "color-names", "-n", "8", "--selector", "uniform",
              "--out", str(disk / "eval")]
    return {
        "select": ([*select, "-q", "red", "-k", "2"], [*select, "-q", "blue", "-k", "3"]),
        "embed": ([*embed, str(disk / "cache"), str(videos / "one.txt")],
                  [*embed, str(disk / "cache"), str(videos / "all.txt")]),
        "embed-parquet": ([*embed, str(disk / "shards"), "--format", "parquet", str(videos / "one.txt")],
                          [*embed, str(disk / "shards"), "--format", "parquet", str(videos / "all.txt")]),
        "bench": ([*bench, "-k", "2"], [*bench, "-k", "2,4"]),
        "eval-kfs": ([*kfs, "-k", "1"], [*kfs, "-k", "1,2"]),
        "eval": ([*answer, "-k", "2", "--limit", "1"], [*answer, "-k", "2,4", "--limit", "2"]),
        "train": (["train", str(work / "train.yaml"), "--stop-at", "1"], ["train", str(work / "train.yaml"),
                                                                         "--resume"]),
    }


COMMANDS = ["select", "embed", "embed-parquet", "bench", "eval-kfs", "eval", "train"]
MODES = ["tmpfs", "patched"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_full_disk_is_one_line_and_keeps_what_was_written(command, mode, tmp_path, videos, lvb_root,  # noqa: F811
                                                            tiny_qwen_dir, tiny_clip_dir, tiny_vlm_dir):
    if mode == "tmpfs" and not TMPFS:
        pytest.skip("no user and mount namespaces here (unshare -rm): the patched ENOSPC case covers this command")
    work = tmp_path / "work"
    work.mkdir()
    first, more = _cases(videos, lvb_root, tiny_qwen_dir, tiny_clip_dir, tiny_vlm_dir, tmp_path / "disk",
                         work)[command]
    before, after = run_case(tmp_path, mode, [{"argv": first}, {"argv": more, "fill": True}])
    assert before["rc"] == 0, before["err"][-2000:]
    assert before["files"], "the first run wrote nothing"
    assert after["rc"] == 1, (after["out"][-1000:], after["err"][-2000:])
    assert "Traceback" not in after["err"]
    errors = [line for line in after["err"].splitlines() if line.startswith("hfs: error:")]
    assert len(errors) == 1 and errors[0] == after["err"].strip().splitlines()[-1], after["err"][-2000:]
    assert f"{tmp_path / 'disk'}/" in errors[0] and "No space left on device" in errors[0], errors[0]
    # nothing written before was touched, and no partial file was left
    assert after["files"] == before["files"]


def test_safetensors_write_failures_are_write_errors(tmp_path):
    """safetensors' writer raises its own SafetensorError, not OSError: still one WriteError."""
    import torch
    from safetensors.torch import save_file

    from hfs.errors import WriteError, writing

    target = tmp_path / "missing" / "weights.safetensors"
    with pytest.raises(WriteError, match=r"weights.safetensors: cannot write the weights \(No such file or directory\)"):
        with writing(target, "the weights"):
            save_file({"a": torch.zeros(3)}, str(target))
    with pytest.raises(ValueError, match="not an I/O error"):  # anything else goes on unchanged
        with writing(target, "the weights"):
            raise ValueError("not an I/O error")


CHECKPOINT_ON_FULL_DISK = textwrap.dedent('''
    import sys, torch
    from hfs.errors import WriteError
    from hfs.training.checkpoint import save_checkpoint
    disk = sys.argv[1]
    model = torch.nn.Linear(64, 64)
    opt = torch.optim.AdamW(model.parameters())
    save_checkpoint(disk + "/checkpoint-000001", dict(model.state_dict()), opt, None, 1, {"epoch": 0, "index": 1})
    import os
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk + "/filler", "wb") as f:  # room for the small files, not for the weights
        f.write(b"\\0" * (free - 8192))
    try:
        save_checkpoint(disk + "/checkpoint-000002", dict(model.state_dict()), opt, None, 2, {"epoch": 0, "index": 2})
    except WriteError as exc:
        print(exc)
    print(sorted(os.listdir(disk)))
''')


def test_a_checkpoint_that_does_not_fit_is_one_write_error_and_the_earlier_one_stays(tmp_path):
    if not TMPFS:
        pytest.skip("no user and mount namespaces here (unshare -rm) for a real full disk; the patched cases "
                    "above cover the training command")
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "script.py").write_text(CHECKPOINT_ON_FULL_DISK)
    done = subprocess.run(["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=1m tmpfs "{disk}" && exec "$@"',
                           "sh", sys.executable, str(tmp_path / "script.py"), str(disk)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    message, listing = done.stdout.strip().splitlines()
    assert message == f"{disk}/checkpoint-000002: cannot write the checkpoint (No space left on device)"
    assert listing == "['checkpoint-000001', 'filler']"  # no half-written checkpoint, no temporary folder left
