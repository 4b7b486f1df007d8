"""Encoders: one interface, unit vectors, batching, the registry, and the default model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hfs.encoders import HFImageTextEncoder, create_encoder, list_encoders
from hfs.errors import EncoderNotAvailableError, InputError
from hfs.video import candidate_times, open_video


def _frames(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (48 + 8 * i, 64, 3), dtype=np.uint8) for i in range(n)]


def test_image_embeddings_are_unit_vectors_and_batch_independent(tiny_encoder):
    frames = _frames(7)
    one_batch = tiny_encoder.encode_images(frames, batch_size=32)
    small_batches = tiny_encoder.encode_images(frames, batch_size=2)
    assert one_batch.shape == (7, tiny_encoder.dim) and one_batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(one_batch, axis=1), 1.0, atol=1e-5)
    assert np.allclose(one_batch, small_batches, atol=1e-5)
    assert not np.allclose(one_batch[0], one_batch[1])


def test_text_embeddings(tiny_encoder):
    red, blue = tiny_encoder.encode_texts(["a red screen", "a blue screen"])
    assert red.shape == (tiny_encoder.dim,)
    assert np.linalg.norm(red) == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(red, blue)
    assert np.allclose(tiny_encoder.encode_text("a red screen"), red, atol=1e-6)


def test_preprocessing_follows_the_processor_config(tiny_encoder):
    # shortest edge 32 then a 32x32 centre crop, as CLIPImageProcessor would
    x = tiny_encoder._pixel_values([np.zeros((60, 100, 3), np.uint8)])
    assert tuple(x.shape) == (1, 3, 32, 32)
    assert tiny_encoder.short_side == 32


def test_registry_and_names(tiny_clip_dir):
    assert {"clip-vit-b-32", "siglip-base", "tiny-random-clip"} <= set(list_encoders())
    with pytest.raises(InputError, match="unknown encoder 'nope'"):
        create_encoder("nope")
    by_path = create_encoder(str(tiny_clip_dir))
    assert isinstance(by_path, HFImageTextEncoder)
    assert create_encoder(str(tiny_clip_dir)) is by_path  # loaded once per process


def test_tiny_random_clip_builds_itself_offline():
    enc = create_encoder("tiny-random-clip")
    assert enc.encode_images(_frames(2)).shape == (2, enc.dim)


def test_fingerprint_distinguishes_models(tmp_path, tiny_encoder):
    from hfs.encoders import build_tiny_clip

    other = HFImageTextEncoder(str(build_tiny_clip(tmp_path / "other", seed=1)))
    assert other.fingerprint != tiny_encoder.fingerprint


def test_siglip_models_work(tmp_path):
    """A SigLIP-family model (max-length padding, no centre crop) through the same class."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, SiglipConfig, SiglipModel

    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "</s>", "a", "red", "blue", "screen"])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                        eos_token="</s>", model_max_length=64)
    config = SiglipConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=64),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8),
    )
    torch.manual_seed(0)
    path = tmp_path / "tiny-siglip"
    SiglipModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "preprocessor_config.json").write_text(json.dumps(
        {"do_resize": True, "size": {"height": 32, "width": 32}, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}))
    enc = HFImageTextEncoder(str(path))
    assert enc.model_type == "siglip" and enc.short_side == 32
    assert tuple(enc._pixel_values([np.zeros((40, 90, 3), np.uint8)]).shape) == (1, 3, 32, 32)
    emb = enc.encode_images(_frames(3))
    assert emb.shape == (3, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert enc.encode_text("a red screen").shape == (32,)


def test_missing_default_weights_say_what_to_do(tmp_path):
    """With an empty Hugging Face cache, the default encoder fails with one line naming the fix."""
    env = dict(os.environ, HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", HFS_ENCODER="")
    code = "from hfs.encoders import create_encoder; create_encoder()"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "EncoderNotAvailableError" in proc.stderr
    assert "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in proc.stderr and "hf download" in proc.stderr


def _default_encoder_or_reason():
    try:
        return create_encoder(None), ""
    except EncoderNotAvailableError as exc:
        return None, str(exc)


def test_default_encoder_prefers_red_frame_for_red_query(three_scene_video):
    """Real model, offline: "a red screen" scores a frame of the red scene above a blue one."""
    encoder, reason = _default_encoder_or_reason()
    if encoder is None:
        pytest.skip(f"needs the default model's weights in the local Hugging Face cache: {reason}")
    video = open_video(three_scene_video)
    red, blue = (f.image for f in video.frames_at([2.0, 6.0], short_side=encoder.short_side))
    frames = encoder.encode_images([red, blue])
    query = encoder.encode_text("a red screen")
    assert frames[0] @ query > frames[1] @ query


# -- only safetensors weights are loaded ---------------------------------------------------------

def _spoiled_copy(src, dst, how: str):
    """A copy of the model folder ``src`` whose weights are a pickle .bin, or garbage safetensors."""
    import shutil

    import torch
    from safetensors.torch import load_file

    shutil.copytree(src, dst)
    weights = sorted(dst.glob("*.safetensors"))
    assert weights, f"{src} has no safetensors weights to spoil"
    if how == "pickle":
        state = {}
        for file in weights:
            state.update(load_file(file))
            file.unlink()
        for index in dst.glob("*.safetensors.index.json"):
            index.unlink()
        torch.save(state, dst / "pytorch_model.bin")  # a real pickle, as old checkpoints ship
    else:  # a pickle renamed, and so not a safetensors file at all
        torch.save({"w": torch.zeros(3)}, weights[0])
    return dst


def _load_encoder(folder):
    return HFImageTextEncoder(str(folder))


def _load_student(folder):
    from hfs.student import HFSSelector, StudentConfig

    return HFSSelector(StudentConfig(base_lm=str(folder), frame_dim=16))


def _load_answerer(folder):
    from hfs.reasoning import MultimodalAnswerer

    return MultimodalAnswerer(str(folder), device="cpu")


_LOADERS = {
    "encoder": ("tiny_clip_dir", _load_encoder),
    "student": ("tiny_qwen_dir", _load_student),
    "answerer": ("tiny_vlm_dir", _load_answerer),
}


@pytest.mark.parametrize("how", ["pickle", "garbage"])
@pytest.mark.parametrize("role", sorted(_LOADERS))
def test_non_safetensors_weights_are_one_clear_error(role, how, request, tmp_path):
    """A pickle .bin, or a pickle renamed .safetensors, is refused with one line naming the folder."""
    from hfs.errors import HfsError
    from hfs.weights import WeightsError

    fixture, load = _LOADERS[role]
    bad = _spoiled_copy(request.getfixturevalue(fixture), tmp_path / f"{role}-{how}", how)
    with pytest.raises(WeightsError) as info:
        load(bad)
    message = str(info.value)
    assert isinstance(info.value, HfsError) and "\n" not in message
    assert str(bad) in message
    if how == "pickle":
        assert "pytorch_model.bin" in message and "only safetensors weights are loaded" in message
    else:
        assert "not a valid safetensors file" in message


def test_cli_names_the_pickle_folder_without_a_traceback(tiny_clip_dir, three_scene_video, tmp_path, capsys):
    from hfs.cli import main

    bad = _spoiled_copy(tiny_clip_dir, tmp_path / "clip-bin", "pickle")
    code = main(["select", str(three_scene_video), "-q", "red", "-k", "2", "--encoder", str(bad), "--json"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("hfs: error: ") and str(bad) in err and "only safetensors" in err


def test_student_checkpoint_with_broken_weights_is_one_clear_error(tiny_qwen_dir, tmp_path):
    from hfs.student import HFSSelector, StudentConfig
    from hfs.weights import WeightsError

    out = HFSSelector(StudentConfig(base_lm=str(tiny_qwen_dir), frame_dim=16)).save_pretrained(tmp_path / "ckpt")
    (out / "hfs_student.safetensors").write_bytes(b"\x80\x04not safetensors" * 50)
    with pytest.raises(WeightsError, match="hfs_student.safetensors: not a valid safetensors file"):
        HFSSelector.from_pretrained(out)


def test_tiny_random_clip_in_an_unwritable_cache_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("HFS_CACHE_DIR", str(blocker))
    with pytest.raises(EncoderNotAvailableError, match="HFS_CACHE_DIR to a writable folder"):
        create_encoder("tiny-random-clip", seed=7)
