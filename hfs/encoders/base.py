"""The interface every image-text encoder keeps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class ImageTextEncoder(ABC):
    """Maps frames and text into one embedding space; outputs are L2-normalised float32.

    ``fingerprint`` identifies the weights and preprocessing (it keys the embedding cache);
    ``short_side`` is the frame size the encoder wants, so frames are decoded no larger.
    """

    name: str
    fingerprint: str
    dim: int
    short_side: int

    @abstractmethod
    def encode_image_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """[B, H, W, 3] uint8 RGB frames (any sizes) -> [B, D] unit vectors."""

    @abstractmethod
    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """T strings -> [T, D] unit vectors."""

    def encode_images(self, images: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """Encode any number of frames in batches -> [N, D]."""
        if len(images) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self.encode_image_batch(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        return np.concatenate(parts, axis=0)

    def encode_text(self, text: str) -> np.ndarray:
        """One string -> [D] unit vector."""
        return self.encode_texts([text])[0]


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)
