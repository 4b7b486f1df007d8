"""Image-text models from Hugging Face transformers (CLIP, SigLIP, SigLIP 2 and kin).

Any model whose transformers class has ``get_image_features`` and ``get_text_features``
works, by hub name or local folder. Preprocessing (resize, centre crop, normalise) runs in
torch on the whole batch from the values in ``preprocessor_config.json``, so it needs
neither torchvision nor a per-image PIL loop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hfs.encoders.base import ImageTextEncoder, l2_normalize
from hfs.errors import EncoderNotAvailableError
from hfs.weights import check_model_folder, invalid_weights, load_errors

_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _features(output: Any) -> torch.Tensor:
    """transformers < 5 returns the projected tensor, >= 5 a model output with it pooled."""
    if isinstance(output, torch.Tensor):
        return output
    for attr in ("pooler_output", "image_embeds", "text_embeds"):
        value = getattr(output, attr, None)
        if isinstance(value, torch.Tensor):
            return value
    raise TypeError(f"cannot find embeddings in {type(output).__name__}")


class HFImageTextEncoder(ImageTextEncoder):
    """A transformers image-text model, loaded from a local folder or the hub."""

    def __init__(
        self,
        name_or_path: str,
        local_files_only: bool = True,
        device: str | None = None,
        display_name: str | None = None,
        missing_hint: str | None = None,
    ) -> None:
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        self.name = display_name or name_or_path
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        kwargs = {"local_files_only": local_files_only}
        check_model_folder(name_or_path, "image-text model")
        try:
            config = AutoConfig.from_pretrained(name_or_path, **kwargs)
            self.model = AutoModel.from_pretrained(name_or_path, use_safetensors=True, **kwargs).to(self.device).eval()
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, **kwargs)
            self.pre = _preprocessor_config(name_or_path, local_files_only)
        except load_errors() as exc:
            raise invalid_weights(name_or_path, "image-text model", exc) from exc
        except (OSError, ValueError) as exc:
            hint = missing_hint or (
                "pass a folder with config.json, weights, tokenizer and preprocessor_config.json, "
                "or a hub name with network access"
            )
            raise EncoderNotAvailableError(f"image-text model {self.name!r} cannot be loaded: {hint}") from exc
        if not (hasattr(self.model, "get_image_features") and hasattr(self.model, "get_text_features")):
            raise EncoderNotAvailableError(f"{self.name!r} ({config.model_type}) is not an image-text model")
        self.model_type = config.model_type
        self.image_size = _crop_size(self.pre, config)
        self.short_side = _resize_short_side(self.pre, self.image_size)
        self.mean = torch.tensor(self.pre.get("image_mean", _CLIP_MEAN), dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(self.pre.get("image_std", _CLIP_STD), dtype=torch.float32).view(1, 3, 1, 1)
        with torch.inference_mode():
            self.dim = int(self.encode_texts(["a"]).shape[1])
        self.fingerprint = _fingerprint(name_or_path, config, self.pre)

    # -- images ------------------------------------------------------------------------
    def _pixel_values(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        batch = []
        for image in images:
            x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().unsqueeze(0) / 255.0
            batch.append(self._resize_crop(x))
        x = torch.cat(batch, dim=0)
        return ((x - self.mean) / self.std).to(self.device)

    def _resize_crop(self, x: torch.Tensor) -> torch.Tensor:
        """[1, 3, H, W] in [0, 1] -> [1, 3, S, S] as the model's own processor would."""
        size = self.image_size
        h, w = x.shape[-2:]
        if self.pre.get("do_center_crop", False):
            scale = self.short_side / min(h, w)
            nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
            if (nh, nw) != (h, w):
                x = F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False)
            top, left = (nh - size) // 2, (nw - size) // 2
            return x[..., top:top + size, left:left + size].clamp(0, 1)
        if (h, w) != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bicubic", antialias=True, align_corners=False)
        return x.clamp(0, 1)

    @torch.inference_mode()
    def encode_image_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        out = _features(self.model.get_image_features(pixel_values=self._pixel_values(images)))
        return l2_normalize(out.float().cpu().numpy())

    # -- text --------------------------------------------------------------------------
    @torch.inference_mode()
    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        siglip = self.model_type.startswith("siglip")
        max_len = getattr(self.tokenizer, "model_max_length", 77)
        if not max_len or max_len > 512:
            max_len = 77
        tokens = self.tokenizer(
            list(texts), padding="max_length" if siglip else True, truncation=True,
            max_length=64 if siglip else max_len, return_tensors="pt",
        )
        inputs = {"input_ids": tokens["input_ids"].to(self.device)}
        if "attention_mask" in tokens and not siglip:
            inputs["attention_mask"] = tokens["attention_mask"].to(self.device)
        out = _features(self.model.get_text_features(**inputs))
        return l2_normalize(out.float().cpu().numpy())


def _preprocessor_config(name_or_path: str, local_files_only: bool) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.is_dir():
        file = path / "preprocessor_config.json"
        return json.loads(file.read_text()) if file.is_file() else {}
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        file = hf_hub_download(name_or_path, "preprocessor_config.json", local_files_only=local_files_only)
    except EntryNotFoundError:
        return {}
    return json.loads(Path(file).read_text())


def _crop_size(pre: dict[str, Any], config: Any) -> int:
    crop = pre.get("crop_size") if pre.get("do_center_crop", False) else pre.get("size")
    if isinstance(crop, dict):
        crop = crop.get("height") or crop.get("shortest_edge")
    if isinstance(crop, int):
        return crop
    vision = getattr(config, "vision_config", None)
    return int(getattr(vision, "image_size", 224))


def _resize_short_side(pre: dict[str, Any], crop: int) -> int:
    size = pre.get("size")
    if isinstance(size, dict) and "shortest_edge" in size:
        return int(size["shortest_edge"])
    return crop


def _fingerprint(name_or_path: str, config: Any, pre: dict[str, Any]) -> str:
    """Names the weights and preprocessing: model id plus the weight files' sizes and times."""
    h = hashlib.sha256()
    h.update(name_or_path.encode())
    h.update(json.dumps(config.to_dict(), sort_keys=True, default=str).encode())
    h.update(json.dumps(pre, sort_keys=True).encode())
    path = Path(name_or_path)
    if path.is_dir():
        for file in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            stat = file.stat()
            h.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]
