"""Where a run's frame records go: next to the files lmms-eval itself writes.

lmms-eval 0.7.3 writes ``<output_path>/<model>/<date>_results.json`` (and, with
``--log_samples``, ``<date>_samples_<task>.jsonl``), where ``<model>`` is the ``pretrained=``
model arg as its ``sanitize_model_name`` shortens it and ``<date>`` the run's start in
``--timezone`` (``lmms_eval/loggers/evaluation_tracker.py``). Its samples files drop the
request's arguments, and the model class is never told ``--output_path``, so hfs reads it from
the ``lmms-eval`` command line (or the ``--config`` YAML) and writes
``<output_path>/<model>/<date>_hfs_frames.jsonl``: one record per sample (task, doc_id, video,
question, options, times, frame_indices, scores, ...; the schema is in
``hfs.integrations.lmms.indices``), ``<date>`` being when the model was built. Without an
``--output_path`` they go to ``hfs_frames.jsonl`` in the working folder; ``hfs_log=FILE``
names the file outright.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hfs.errors import warn

# GeneralConfigTracker._get_model_name's order: the first of these model args names the model
_MODEL_NAME_ARGS = ("peft", "delta", "pretrained", "model", "model_version", "model_name", "model_id", "path",
                    "engine")
FALLBACK = "hfs_frames.jsonl"


def under_lmms_eval_cli() -> bool:
    """Whether this process is the ``lmms-eval`` command (or ``python -m lmms_eval``)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return Path(sys.argv[0]).name in ("lmms-eval", "lmms_eval") or getattr(spec, "name", "") == "lmms_eval.__main__"


def lmms_eval_cli_args(argv: list[str] | None = None) -> dict[str, Any]:
    """``output_path`` and ``timezone`` as the ``lmms-eval`` command line (or its ``--config``
    YAML, whose first entry counts) gives them; empty when not run by that command."""
    if argv is None:
        if not under_lmms_eval_cli():
            return {}
        argv = sys.argv[1:]
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name in ("--output_path", "--timezone", "--config"):
        parser.add_argument(name, default=None)
    known, _ = parser.parse_known_args(argv)
    found = {"output_path": known.output_path, "timezone": known.timezone}
    if known.config and (found["output_path"] is None or found["timezone"] is None):
        found = {**_config_args(known.config), **{k: v for k, v in found.items() if v is not None}}
    return {k: v for k, v in found.items() if v is not None}


def _config_args(path: str) -> dict[str, Any]:
    import yaml

    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}  # lmms-eval itself reports a bad --config
    if isinstance(config, list):
        config = config[0] if config else {}
    return {k: config[k] for k in ("output_path", "timezone") if isinstance(config, dict) and config.get(k)}


def model_folder(model_args: dict[str, Any]) -> str:
    """The folder lmms-eval names after the model under ``--output_path``."""
    from lmms_eval.utils import sanitize_model_name

    name = next((str(model_args[k]) for k in _MODEL_NAME_ARGS if model_args.get(k)), "")
    return sanitize_model_name(name)


def frame_log_path(model_args: dict[str, Any], argv: list[str] | None = None) -> Path:
    """Where this run's frame records go (the module docstring's rule), for the wrapped class's
    ``model_args``."""
    from lmms_eval.utils import get_datetime_str

    cli = lmms_eval_cli_args(argv)
    if not cli.get("output_path"):
        path = Path(FALLBACK)
        warn(f"no --output_path: each sample's frames are appended to {path.resolve()}")
        return path
    date = get_datetime_str(timezone=cli.get("timezone") or "Asia/Singapore").replace(":", "-")
    return Path(cli["output_path"]) / model_folder(model_args) / f"{date}_hfs_frames.jsonl"
