"""End-to-end training of the HFS student with a multimodal LLM teacher (SPEC.md)."""

from hfs.training.config import DataConfig, TrainConfig

__all__ = ["DataConfig", "TrainConfig"]
