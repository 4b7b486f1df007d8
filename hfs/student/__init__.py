"""The trained HFS student (SPEC.md, "The trained HFS model").

The model and its builder load on first use (``hfs.lazy``): ``StudentConfig`` (and ``TrainConfig``,
which holds one) is read and checked without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfs.lazy import lazy_exports
from hfs.student.config import DEFAULT_BASE_LM, StudentConfig

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "ADAPTERS": ".model", "HFSSelector": ".model", "StudentOutput": ".model", "build_tiny_qwen2": ".tiny",
})

if TYPE_CHECKING:
    from hfs.student.model import ADAPTERS, HFSSelector, StudentOutput
    from hfs.student.tiny import build_tiny_qwen2

__all__ = ["ADAPTERS", "DEFAULT_BASE_LM", "HFSSelector", "StudentConfig", "StudentOutput", "build_tiny_qwen2"]
