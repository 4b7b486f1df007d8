"""Values that change with the training step: tau, lambda_KL, the learning rate."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class LinearSchedule:
    """``start`` -> ``end`` linearly over ``steps``, then held at ``end``.

    lambda_KL: 0.1 -> 1.0 over the first epoch; Gumbel tau: 2.0 -> 0.5 over training.
    """

    start: float = 0.1
    end: float = 1.0
    steps: int = 1000

    def __call__(self, step: int) -> float:
        if self.steps <= 0:
            return self.end
        return self.start + (self.end - self.start) * min(max(step, 0) / self.steps, 1.0)


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, min_ratio: float = 0.0) -> float:
    """Learning-rate multiplier: linear warm-up to 1, then cosine decay to ``min_ratio``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if total_steps <= warmup_steps:
        return 1.0
    progress = min((step - warmup_steps) / (total_steps - warmup_steps), 1.0)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
