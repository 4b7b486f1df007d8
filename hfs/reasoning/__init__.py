"""Answering from the selected frames: the multimodal LLM answerer (Qwen2-VL, Qwen2.5-VL,
LLaVA-OneVision / LLaVA-Video), also the training teacher."""

from hfs.reasoning.answerer import SUPPORTED, AnswerOutput, MultimodalAnswerer
from hfs.reasoning.tiny import build_tiny_llava_onevision, build_tiny_qwen2_vl
from hfs.reasoning.video_qa import VideoAnswer, answer_video

__all__ = ["SUPPORTED", "AnswerOutput", "MultimodalAnswerer", "VideoAnswer", "answer_video", "build_tiny_llava_onevision",
           "build_tiny_qwen2_vl"]
