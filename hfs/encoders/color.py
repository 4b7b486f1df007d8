"""A weight-free image-text encoder for synthetic colour scenes.

A frame's embedding is its mean colour, a text's is the mean of the colour words it names
(``hfs.video.synth.COLORS``); both centred and L2-normalised, so cosine similarity says how
close a frame's colour is to the colours asked about. It knows nothing else. Its use: scoring
and training on the synthetic benchmarks offline, where the evidence is a coloured scene, on
machines without real image-text weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hfs.encoders.base import ImageTextEncoder, l2_normalize
from hfs.video.synth import COLORS

_CENTRE = 0.45  # roughly the mean of a [0, 1] colour channel: gray maps near the origin


class ColorNamesEncoder(ImageTextEncoder):
    name = "color-names"
    fingerprint = "color-names-v1"
    dim = 3
    short_side = 32

    def encode_image_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        means = np.stack([np.asarray(img).reshape(-1, 3).mean(axis=0) for img in images]) / 255.0
        return l2_normalize(means - _CENTRE)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for text in texts:
            words = [w.strip(".,;:?!'\"()") for w in text.lower().split()]
            named = [COLORS[w] for w in words if w in COLORS]
            out.append(np.mean(named, axis=0) / 255.0 - _CENTRE if named else np.ones(3))
        return l2_normalize(np.stack(out))
