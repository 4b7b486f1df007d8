"""Answering from the selected frames: the multimodal LLM answerer, also the training teacher."""

from hfs.reasoning.answerer import SUPPORTED, AnswerOutput, MultimodalAnswerer
from hfs.reasoning.tiny import build_tiny_qwen2_vl

__all__ = ["SUPPORTED", "AnswerOutput", "MultimodalAnswerer", "build_tiny_qwen2_vl"]
