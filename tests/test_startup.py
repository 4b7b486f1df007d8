"""Start-up: the command line and ``import hfs`` load no torch (nor numpy, PyAV, matplotlib) until a
command needs it, configs and selectors do not import each other, and Ctrl-C at any moment is one
line and exit 130. Each check runs in a fresh interpreter, since this one has imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "numpy", "av", "matplotlib", "PIL.Image", "rich")


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter that imports hfs from this checkout."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          env=full_env, timeout=300)


def loaded_after(code: str, *args: str) -> set[str]:
    """The modules ``code`` left in ``sys.modules``."""
    proc = run_python(textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))", *args)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


PARSE = """
from hfs.cli import build_parser
build_parser().parse_args({argv!r})
"""

ARGVS = [
    ["select", "v.mp4", "-q", "what is red?", "-k", "4", "--selector", "mmr", "--decode-mode", "keyframe",
     "--format", "openai", "--objective", "paper"],
    ["bench", "--traces", "--seeds", "1,2", "-k", "4,8"],
    ["eval", "--benchmark", "videomme", "--data-root", "d", "--kfs-annotations", "a.csv"],
    ["embed", "manifest.jsonl", "--engine", "ray", "--format", "parquet", "--out", "o"],
    ["answer", "v.mp4", "-q", "q", "--options", "a", "b", "--model", "m"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=[a[0] for a in ARGVS])
def test_parsing_arguments_imports_no_heavy_library(argv):
    loaded = loaded_after(PARSE.format(argv=argv))
    assert not [name for name in HEAVY if name in loaded]


def test_import_hfs_is_light_and_its_names_load_on_first_use():
    assert not [name for name in HEAVY if name in loaded_after("import hfs")]
    loaded = loaded_after("import hfs\nassert callable(hfs.export.export) and hfs.export.FORMATS\n"
                          "assert hfs.SelectConfig().k == 16 and 'greedy' in hfs.list_selectors()")
    assert "hfs.export" in loaded and "torch" not in loaded


@pytest.mark.parametrize("argv", [["--help"], ["select", "--help"], ["bench", "--help"], ["eval", "--help"],
                                  ["--version"], ["select", "v.mp4"], ["select", "v.mp4", "-q", "x", "-k", "0"]],
                         ids=["help", "select-help", "bench-help", "eval-help", "version", "missing-q", "bad-k"])
def test_help_version_and_argument_errors_import_no_torch(argv):
    """Each exits through argparse (0 for help and version, 2 for errors) before any command runs."""
    code = f"""
    from hfs.cli import main
    try:
        main({argv!r})
    except SystemExit as exc:
        assert exc.code == (0 if {argv[-1]!r} in ("--help", "--version") else 2), exc.code
    else:
        raise AssertionError("argparse did not exit")
    """
    loaded = loaded_after(code)
    assert "torch" not in loaded and "transformers" not in loaded and "numpy" not in loaded


def test_cached_select_with_a_weight_free_encoder_never_imports_torch(three_scene_video, tmp_path):
    argv = ["select", str(three_scene_video), "-q", "the red screen", "--encoder", "color-names", "-k", "3",
            "--json", "--cache-dir", str(tmp_path / "cache")]
    code = f"""
    import json, sys
    from hfs.cli import main
    assert main({argv!r}) == 0  # fills the cache
    assert main({argv!r}) == 0  # a hit
    """
    proc = run_python(textwrap.dedent(code) + "\nprint(json.dumps(sorted(sys.modules)))")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    first, second, loaded = json.loads(lines[0]), json.loads(lines[1]), set(json.loads(lines[2]))
    assert not first["cached"] and second["cached"] and first["frames"] == second["frames"]
    assert "torch" not in loaded and "transformers" not in loaded


def test_config_and_selection_do_not_import_each_other():
    """hfs.config checks selector names through the light registry; hfs.selection's package imports no config."""
    loaded = loaded_after("import hfs.config")
    assert not [name for name in loaded if name.startswith("hfs.selection.")]
    assert "numpy" not in loaded
    loaded = loaded_after("import hfs.selection\nassert 'greedy' in hfs.selection.list_selectors()")
    assert "hfs.config" not in loaded and "numpy" not in loaded


def test_selector_registry_names_each_built_in_class_by_its_own_name():
    from hfs.config import ObjectiveConfig
    from hfs.selection import _CLASSES, create_selector, list_selectors

    assert set(_CLASSES) <= set(list_selectors())
    for name in _CLASSES:
        selector = create_selector(name, objective=ObjectiveConfig())
        assert type(selector).name == name


@pytest.mark.parametrize("package", ["hfs", "hfs.candidates", "hfs.encoders", "hfs.report", "hfs.selection",
                                     "hfs.video"])
def test_every_exported_name_of_a_lazy_package_resolves(package):
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_importing_the_cli_keeps_the_callers_ctrl_c_handler():
    proc = run_python("""
    import signal
    def mine(signum, frame):
        pass
    signal.signal(signal.SIGINT, mine)
    import hfs.cli
    assert signal.getsignal(signal.SIGINT) is mine
    """)
    assert proc.returncode == 0, proc.stderr


# A stand-in for the `hfs` script that sends itself Ctrl-C the moment a given module starts importing:
# before hfs.cli has finished loading, while the command imports its libraries, or inside the work.
TRIP = """
import os, signal, sys
target = sys.argv.pop(1)
class Trip:
    def find_spec(self, name, path, target_=None):
        if name == target:
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Trip())
from hfs.cli import main
sys.exit(main())
"""


@pytest.mark.parametrize("module", ["hfs.config", "hfs.data.benchmarks", "hfs.pipeline", "numpy", "av",
                                    "torch", "transformers", "hfs.selection.greedy"])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(module, three_scene_video, tmp_path):
    proc = run_python(TRIP, module, "select", str(three_scene_video), "-q", "red", "--encoder", "tiny-random-clip",
                      "-k", "2", "--cache-dir", str(tmp_path / "cache"),
                      env={"HFS_CACHE_DIR": str(tmp_path / "hfs"), "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert proc.stderr.strip().splitlines() == ["hfs: interrupted"]
    assert proc.stdout == ""


def test_ctrl_c_in_train_is_one_line_and_exit_130(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("max_steps: 1\n")
    proc = run_python(TRIP, "torch", "train", str(config))
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert proc.stderr.strip().splitlines() == ["hfs: interrupted"]
