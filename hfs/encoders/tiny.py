"""A tiny randomly initialised CLIP, written to a folder like any Hugging Face model.

For tests, benchmarks and smoke runs on machines without real weights: it exercises every
code path of ``HFImageTextEncoder`` (config, weights, tokenizer, preprocessing) in seconds.
Its scores carry no meaning.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from hfs.atomic import atomic_directory

_WORDS = (
    "a an the of in on at to and or is are was what where when who which how why does do did "
    "man woman person people dog cat car box ball red green blue yellow white black orange "
    "purple gray screen scene frame video shape square circle put take open close run walk "
    "first last before after color colour question answer option"
).split()
_SPECIAL = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]


def build_tiny_clip(path: str | Path, seed: int = 0, image_size: int = 32, dim: int = 16) -> Path:
    """Write a tiny random CLIP (config, safetensors, tokenizer, preprocessor) to ``path``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import CLIPConfig, CLIPModel, PreTrainedTokenizerFast

    path = Path(path)
    vocab = {tok: i for i, tok in enumerate(_SPECIAL + _WORDS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[BOS] $A [EOS]", special_tokens=[("[BOS]", vocab["[BOS]"]), ("[EOS]", vocab["[EOS]"])]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="[BOS]", eos_token="[EOS]", pad_token="[PAD]", unk_token="[UNK]",
        model_max_length=32,
    )
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, max_position_embeddings=32, bos_token_id=vocab["[BOS]"],
            eos_token_id=vocab["[EOS]"], pad_token_id=vocab["[PAD]"],
        ),
        vision_config=dict(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            image_size=image_size, patch_size=8,
        ),
        projection_dim=dim,
    )
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    with atomic_directory(path) as tmp:  # a half-written model is never loaded
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "preprocessor_config.json").write_text(json.dumps({
            "do_resize": True, "size": {"shortest_edge": image_size}, "do_center_crop": True,
            "crop_size": {"height": image_size, "width": image_size},
            "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
        }, indent=2))
    return path
