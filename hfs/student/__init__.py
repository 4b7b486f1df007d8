"""The trained HFS student (SPEC.md, "The trained HFS model")."""

from hfs.student.config import DEFAULT_BASE_LM, StudentConfig
from hfs.student.model import ADAPTERS, HFSSelector, StudentOutput
from hfs.student.tiny import build_tiny_qwen2

__all__ = ["ADAPTERS", "DEFAULT_BASE_LM", "HFSSelector", "StudentConfig", "StudentOutput", "build_tiny_qwen2"]
