"""A tiny randomly initialised Qwen2 causal LM with a real byte-level BPE tokenizer.

Tests, CI and benchmarks build the student on it: same code path as Qwen2.5-1.5B, in seconds.
"""

from __future__ import annotations

from pathlib import Path

import torch

from hfs.atomic import atomic_directory
from hfs.query.prompt import COT_PROMPT

_CORPUS = [
    COT_PROMPT,
    "Question: what does the man put in the box?\nOptions:\nA. a ball\nB. a cup\nC. a shoe\nD. a book\n",
    "Question: when does the screen turn red? what colour is the square before the blue scene?\n",
    "Question: why did the woman open the door after the dog ran outside?\n",
]


def build_tiny_qwen2(path: str | Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Write a tiny Qwen2ForCausalLM (random weights) and its tokenizer to ``path``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                        model_max_length=4096)
    config = Qwen2Config(
        vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True,
        eos_token_id=tok.token_to_id("<|endoftext|>"), pad_token_id=tok.token_to_id("<|endoftext|>"),
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    path = Path(path)
    with atomic_directory(path) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return path
