"""The ``hfs_*`` model args every hfs lmms-eval model takes, checked like any hfs config."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hfs.config import MAX_CANDIDATES
from hfs.errors import InputError
from hfs.selection import list_selectors
from hfs.validation import Checked, at_least, one_of


@dataclass
class ModelArgs(Checked):
    """``--model_args ...,hfs_k=16,...``: how each question's frames are chosen.

    Without ``hfs_indices`` frames are selected with ``hfs.select``; with it they are read
    from that JSONL file of precomputed selections (see ``hfs.integrations.lmms.indices``).
    """

    hfs_k: int | None = None  # frames per question (None: the model's own max_num_frames, as uniform gets)
    hfs_candidates: int = 128  # candidate frames scored per video
    hfs_selector: str | None = None  # None: greedy, or topk with hfs_checkpoint
    hfs_encoder: str | None = None  # None: the default encoder (or the checkpoint's)
    hfs_checkpoint: str | None = None  # a trained HFS student's folder
    hfs_indices: str | None = None  # JSONL of precomputed selections to reuse instead of selecting
    hfs_log: str | None = None  # the frame records' JSONL (None: next to lmms-eval's --output_path)
    hfs_cache_dir: str | None = None  # the embedding cache (default: hfs's)
    # True: show lmms-eval's own uniform frames (qwen_vl_utils' evenly spaced source frames)
    # through this model, so a baseline run has the very prompt and pixels of the hfs run
    hfs_uniform: bool = False
    # Video-MME's subtitle tasks: "frames" lists the subtitles of the frames shown (the
    # benchmark's protocol), "task" keeps lmms-eval's (those of its own evenly spaced frames)
    hfs_subtitles: str = "frames"

    RULES = {
        "hfs_k": at_least(1), "hfs_candidates": at_least(1, MAX_CANDIDATES),
        "hfs_selector": one_of(lookup=list_selectors), "hfs_subtitles": one_of("frames", "task"),
    }

    def check(self) -> None:
        if self.hfs_uniform and (self.hfs_indices or self.hfs_checkpoint or self.hfs_selector or self.hfs_encoder):
            raise InputError("ModelArgs.hfs_uniform: shows evenly spaced frames; leave out hfs_indices, "
                             "hfs_checkpoint, hfs_selector and hfs_encoder")
        if self.hfs_indices is None and self.hfs_k is not None and self.hfs_k > self.hfs_candidates:
            raise InputError(f"ModelArgs.hfs_k: {self.hfs_k} is larger than hfs_candidates ({self.hfs_candidates})")


def split_model_args(kwargs: dict[str, Any]) -> tuple[ModelArgs, dict[str, Any]]:
    """(the checked ``hfs_*`` args, the other args for lmms-eval's own class).

    An unknown ``hfs_*`` name is one InputError listing the known ones.
    """
    known = {f.name for f in fields(ModelArgs)}
    ours = {name: value for name, value in kwargs.items() if name.startswith("hfs_")}
    unknown = sorted(set(ours) - known)
    if unknown:
        raise InputError(f"unknown model arg {unknown[0]}; the hfs args are {', '.join(sorted(known))}")
    rest = {name: value for name, value in kwargs.items() if name not in ours}
    return ModelArgs(**ours), rest
