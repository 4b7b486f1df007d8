"""Every file in examples/ runs as shipped, through the installed command's own entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _hfs(*args, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfs.cli", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    return dict(os.environ, OMP_NUM_THREADS="1",
                PYTHONPATH=os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]))


def run_select_yaml(path: Path, video: Path, cwd: Path, env: dict[str, str]) -> None:
    done = _hfs("select", video, "-q", "When does the whole screen turn red?", "--config", path, "--json",
                cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["k"] == 16 and data["selector"] == "greedy" and data["encoder"] == "color-names"
    # the red scene is 0-4 s of 12: the best-scoring chosen frame lies in it
    best = max(data["frames"], key=lambda f: f["score"])
    assert best["time"] < 4.0


def run_train_yaml(path: Path, video: Path, cwd: Path, env: dict[str, str]) -> None:
    done = _hfs("train", path, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    run = cwd / "runs" / "example"
    assert "student saved to runs/example/student" in done.stdout
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) == 8  # 8 videos, one question a step
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-000004", "checkpoint-000008"]
    # the trained student selects frames as the docs say
    done = _hfs("select", video, "-q", "When does the whole screen turn red?", "--checkpoint", run / "student",
                "-k", 4, "-n", 16, "--json", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(json.loads(done.stdout)["frames"]) == 4


RUNNERS = {"select.yaml": run_select_yaml, "train_synthetic.yaml": run_train_yaml}


def test_every_example_has_a_runner():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_file()) == sorted(RUNNERS)


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_example_runs_as_shipped(name, three_scene_video, tmp_path, env):
    RUNNERS[name](EXAMPLES / name, three_scene_video, tmp_path, env)
