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
from hfs.errors import warn
from hfs.video.synth import COLORS

_CENTRE = 0.45  # roughly the mean of a [0, 1] colour channel: gray maps near the origin


class ColorNamesEncoder(ImageTextEncoder):
    name = "color-names"
    fingerprint = "color-names-v1"
    dim = 3
    short_side = 32

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def encode_image_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        means = np.stack([np.asarray(img).reshape(-1, 3).mean(axis=0) for img in images]) / 255.0
        return l2_normalize(means - _CENTRE)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for text in texts:
            words = [w.strip(".,;:?!'\"()") for w in text.lower().split()]
            named = [COLORS[w] for w in words if w in COLORS]
            if not named:
                self._warn_colourless(text)
            out.append(np.mean(named, axis=0) / 255.0 - _CENTRE if named else np.ones(3))
        return l2_normalize(np.stack(out))

    def _warn_colourless(self, text: str) -> None:
        """One line per text: without a colour word the scores rank frames by nothing the text says."""
        if text in self._warned:
            return
        self._warned.add(text)
        shown = text if len(text) <= 80 else text[:77] + "..."
        warn(f"the color-names encoder scores colour words only ({', '.join(sorted(COLORS))}); {shown!r} names "
             "none, so its frame scores are meaningless: use an image-text model (--encoder) for such questions")
