"""Tiny random Qwen2.5-VL and Qwen3-VL folders, built from configs, that lmms-eval's own
``qwen2_5_vl`` / ``qwen3_vl`` classes (and hfs's) load like the released checkpoints.

They carry a real tokenizer, image and video processor and chat template, so a whole
``lmms-eval`` run works end to end without weights (their answers are noise). Tests use them;
``python -m hfs.integrations.lmms.tiny OUT_DIR`` writes both for trying the commands in
``docs/guide/lmms-eval.md`` on a laptop.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from hfs.reasoning.tiny import (
    _SPECIALS, _mrope, _save, _text_config, _tokenizer, _vision, _vision_tokens, tiny_qwen2_5_vl,
)

# the chat template of the released Qwen-VL models, reduced to what lmms-eval's messages use
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
HIDDEN = 32


def build_tiny_qwen2_5_vl(path: str | Path, seed: int = 0, hidden: int = HIDDEN) -> Path:
    """A Qwen2_5_VLForConditionalGeneration with random weights and Qwen2.5-VL's processors
    (patch 14, frames in pairs), written to ``path``."""
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    model, tokenizer = tiny_qwen2_5_vl(seed, hidden)
    processor = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizer,
                                    video_processor=Qwen2VLVideoProcessor(), chat_template=CHAT_TEMPLATE)
    return _save(path, model, tokenizer, processor)


def build_tiny_qwen3_vl(path: str | Path, seed: int = 0, hidden: int = HIDDEN) -> Path:
    """A Qwen3VLForConditionalGeneration with random weights and Qwen3-VL's processors (patch 16,
    frames in pairs, each pair's time written into the prompt), written to ``path``."""
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tokenizer, vocab, ids = _tokenizer(_SPECIALS)
    text = _text_config(vocab, ids, hidden=hidden, head_dim=hidden // 4,
                        rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": _mrope(hidden), "mrope_interleaved": True})
    config = Qwen3VLConfig(text_config=text, vision_config=_vision(hidden, 16, num_position_embeddings=64,
                                                                   deepstack_visual_indexes=[0]),
                           **_vision_tokens(ids))
    torch.manual_seed(seed)
    model = Qwen3VLForConditionalGeneration(config).eval()
    image_processor = Qwen2VLImageProcessor(patch_size=16, merge_size=2, temporal_patch_size=2)
    processor = Qwen3VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                 video_processor=Qwen3VLVideoProcessor(), chat_template=CHAT_TEMPLATE)
    return _save(path, model, tokenizer, processor)


def main(argv: list[str] | None = None) -> int:
    """``python -m hfs.integrations.lmms.tiny OUT_DIR``: write tiny-qwen2.5-vl and tiny-qwen3-vl."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m hfs.integrations.lmms.tiny OUT_DIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    for name, build in (("tiny-qwen2.5-vl", build_tiny_qwen2_5_vl), ("tiny-qwen3-vl", build_tiny_qwen3_vl)):
        print(build(out / name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
