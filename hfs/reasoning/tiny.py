"""Tiny randomly initialised multimodal LLMs (Qwen2-VL, Qwen2.5-VL, LLaVA-OneVision) with a real tokenizer and
image processor, built from configs for tests: nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import torch

from hfs.atomic import atomic_directory

_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
             "<|image_pad|>", "<|video_pad|>"]
_CORPUS = [
    "system You are a helpful assistant. user Frame 1 at 00:02.5: assistant",
    "Question: what colour is the screen at the end? Options: A. red B. blue C. green D. yellow",
    "Answer with the option's letter from the given choices directly. A B C D E",
]


def _tokenizer(specials: list[str]):
    """A small byte-level BPE tokenizer trained on the prompt words, with ``specials``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(_CORPUS, trainer=trainers.BpeTrainer(
        vocab_size=360, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=specials[1:], model_max_length=32768)
    return tokenizer, tok.get_vocab_size(), {name: tok.token_to_id(name) for name in specials}


def _text_config(vocab: int, ids: dict[str, int], hidden: int = 32, layers: int = 2, init: float = 0.02,
                 **extra) -> dict:
    return dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                num_attention_heads=4, initializer_range=init,
                num_key_value_heads=2, max_position_embeddings=32768, bos_token_id=None,
                eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], **extra)


def _mrope(hidden: int) -> list[int]:
    """The t / h / w split of the rotary half-dimension (head dim = hidden / 4), 2:1:1."""
    half = hidden // 8
    return [half // 2, half // 4, half - half // 2 - half // 4]


def _vision(hidden: int, patch: int, **extra) -> dict:
    """A one-block Qwen2.5-VL / Qwen3-VL vision tower of width ``hidden`` (frames in pairs, 2x2
    patches merged)."""
    return dict(depth=1, hidden_size=hidden, intermediate_size=2 * hidden, num_heads=2, out_hidden_size=hidden,
                patch_size=patch, spatial_merge_size=2, temporal_patch_size=2, **extra)


def _vision_tokens(ids: dict[str, int]) -> dict[str, int]:
    return dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])


def _save(path: str | Path, model, tokenizer, processor) -> Path:
    path = Path(path)
    with atomic_directory(path) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        processor.save_pretrained(tmp)
    return path


def build_tiny_qwen2_vl(path: str | Path, seed: int = 0, hidden: int = 32, layers: int = 2,
                        vision_depth: int = 1, init: float = 0.02) -> Path:
    """Write a tiny Qwen2VLForConditionalGeneration (random weights), tokenizer and image processor.

    ``hidden`` is the width of both the language model and the vision tower (a multiple of 8);
    ``init`` the weights' initial standard deviation (larger trains faster from scratch when
    the model is to learn a task, as in ``hfs.reasoning.pretrain``).
    """
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor

    tokenizer, vocab, ids = _tokenizer(_SPECIALS)
    config = Qwen2VLConfig(
        text_config=_text_config(vocab, ids, hidden=hidden, layers=layers, init=init,
                                 rope_scaling={"type": "mrope", "mrope_section": _mrope(hidden)}),
        vision_config=dict(depth=vision_depth, embed_dim=hidden, hidden_size=hidden, num_heads=2, mlp_ratio=2,
                           in_channels=3,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, initializer_range=init),
        **_vision_tokens(ids),
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config).eval()
    processor = Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16, patch_size=14, merge_size=2,
                                      temporal_patch_size=2)
    return _save(path, model, tokenizer, processor)


def tiny_qwen2_5_vl(seed: int = 0, hidden: int = 32):
    """A Qwen2_5_VLForConditionalGeneration with random weights and its tokenizer (no processor:
    callers pick the image-only or the whole one)."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    tokenizer, vocab, ids = _tokenizer(_SPECIALS)
    config = Qwen2_5_VLConfig(
        text_config=_text_config(vocab, ids, hidden=hidden, rope_scaling={"type": "mrope",
                                                                          "mrope_section": _mrope(hidden)}),
        vision_config=_vision(hidden, 14, window_size=56, fullatt_block_indexes=[0]), **_vision_tokens(ids))
    torch.manual_seed(seed)
    return Qwen2_5_VLForConditionalGeneration(config).eval(), tokenizer


def build_tiny_qwen2_5_vl(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny Qwen2_5_VLForConditionalGeneration (random weights), tokenizer and image
    processor (the full processor, with its video part, is ``hfs.integrations.lmms.tiny``'s)."""
    from transformers import Qwen2VLImageProcessor

    model, tokenizer = tiny_qwen2_5_vl(seed)
    pixels = dict(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16, patch_size=14, merge_size=2, temporal_patch_size=2)
    return _save(path, model, tokenizer, Qwen2VLImageProcessor(**pixels))


def build_tiny_llava_onevision(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny LlavaOnevisionForConditionalGeneration (SigLIP tower, Qwen2 LM, random weights)."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, \
        LlavaOnevisionImageProcessorPil

    tokenizer, vocab, ids = _tokenizer(_SPECIALS[:3] + ["<image>", "<video>"])
    side = 56
    config = LlavaOnevisionConfig(
        text_config={"model_type": "qwen2", **_text_config(vocab, ids)},
        vision_config=dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=side, patch_size=14),
        image_token_index=ids["<image>"], video_token_index=ids["<video>"], vision_feature_select_strategy="full",
        vision_feature_layer=-1, image_grid_pinpoints=[[side, side]], tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    processor = LlavaOnevisionImageProcessorPil(size={"height": side, "width": side}, image_grid_pinpoints=[[side, side]],
                                                image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    return _save(path, model, tokenizer, processor)
