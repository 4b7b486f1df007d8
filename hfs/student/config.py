"""StudentConfig: everything needed to rebuild a trained HFS student around its base LM."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hfs.config import ObjectiveConfig, from_dict
from hfs.query.prompt import PROMPT_VERSION
from hfs.scoring.mlp import SCORER_INPUTS
from hfs.validation import Checked, Rule, above, at_least, one_of

DEFAULT_BASE_LM = "Qwen/Qwen2.5-1.5B-Instruct"


@dataclass
class StudentConfig(Checked):
    """The student M_s of SPEC.md: base LM, K queries, two LoRA adapters, projector, scorer."""

    base_lm: str = DEFAULT_BASE_LM  # hub name or local folder of a causal LM
    frame_dim: int = 512  # width of the image-text embeddings E_v comes from
    encoder: str | None = None  # the image-text encoder those embeddings come from
    num_queries: int = 3  # K (0 disables the task queries)
    r_task: int = 16  # LoRA rank of the "task analyzer" adapter
    r_agg: int = 16  # LoRA rank of the "context aggregator" adapter
    lora_alpha_ratio: float = 2.0  # alpha = ratio * r
    lora_dropout: float = 0.0
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    scorer_hidden: int | None = None  # MLP_s hidden width (default: the LM width)
    # what MLP_s reads per frame: "concat" (SPEC.md, the paper: [frame ; query]) or "concat+product"
    # ([frame ; query ; frame * query], a match a two-layer MLP learns far more easily; docs/reproducing.md)
    scorer_input: str = "concat"
    tau_start: float = 2.0
    tau_end: float = 0.5
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    prompt_version: str = PROMPT_VERSION

    RULES = {
        "frame_dim": at_least(1, 65536), "num_queries": at_least(0, 4), "r_task": at_least(1, 1024),
        "r_agg": at_least(1, 1024), "lora_alpha_ratio": above(0, 1e3),
        "lora_dropout": Rule(low=0, high=1, high_open=True),
        "scorer_hidden": at_least(1, 65536), "scorer_input": one_of(*SCORER_INPUTS),
        "tau_start": at_least(1e-3, 1e3), "tau_end": at_least(1e-3, 1e3),
    }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudentConfig:
        return from_dict(cls, data)
